"""A real browser: a page on one port calls the mock on another (skipped without Chromium)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mockserver.control import CorsPolicy
from tests.headless_browser import needs_chromium, rendered

from .conftest import ALICE, app, served

pytestmark = needs_chromium

_PAGE = """<!doctype html><html><body><pre id="out">pending</pre><script>
const out = document.getElementById("out");
fetch("MOCK/api/v2/chats", {
  method: "POST",
  headers: {"Coder-Session-Token": "TOKEN", "Content-Type": "application/json"},
  body: JSON.stringify({provider: "anthropic", model: "m", title: "from a browser"}),
}).then(async (r) => { out.textContent = r.status + " " + (await r.text()); })
  .catch((e) => { out.textContent = "failed " + e; });
</script></body></html>"""


def _page_app(mock: str) -> Starlette:
    page = _PAGE.replace("MOCK", mock).replace("TOKEN", ALICE["Coder-Session-Token"])
    return Starlette(routes=[Route("/", lambda _: HTMLResponse(page))])


def test_a_page_on_another_port_creates_a_chat_through_cors() -> None:
    with served(app()) as mock, served(_page_app(mock)) as page_base:
        # The page is served by name (localhost), the mock by address: two origins.
        page = page_base.replace("127.0.0.1", "localhost")
        dom = rendered(page)
        journal = httpx.get(f"{mock}/__mock/requests").json()["requests"]

    assert '201 {"id":' in dom
    assert "from a browser" in dom
    assert [(entry["method"], entry["status"]) for entry in journal] == [
        ("OPTIONS", 200),
        ("POST", 201),
    ]


def test_a_page_of_an_origin_not_allowed_is_refused_by_the_browser() -> None:
    with (
        served(app(cors=CorsPolicy(origins=(), origin_regex=None))) as mock,
        served(_page_app(mock)) as base,
    ):
        page = base.replace("127.0.0.1", "localhost")
        dom = rendered(page)
        journal = httpx.get(f"{mock}/__mock/requests").json()["requests"]

    assert '<pre id="out">failed TypeError: Failed to fetch</pre>' in dom
    assert [(entry["method"], entry["status"]) for entry in journal] == [("OPTIONS", 400)]
