"""A real browser opens today's stream and watcher the way Coder's web UI does (skipped without Chromium).

The repo's own page (examples/browser/stream-and-watch.html), on one port, sets the
`coder_session_token` cookie and opens `/api/experimental/chats/{chat}/stream` and
`/api/experimental/chats/watch` on the mock, on another port of the same host name; it then
sends a message with fetch, the cookie again. Headless Chromium is driven over its DevTools
protocol, in real time, until the page says it saw the run end on both sockets.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route
from websockets.sync.client import connect

from mockserver import DEMO_TOKENS, ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from tests.app_settings import app_settings
from tests.http_server import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGE = Path(__file__).resolve().parents[1] / "examples" / "browser" / "stream-and-watch.html"
TOKEN = DEMO_TOKENS["alice"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs it)")


def _page_app() -> Starlette:
    return Starlette(routes=[Route("/", lambda _: FileResponse(PAGE, media_type="text/html"))])


@contextmanager
def _chromium(profile: Path) -> Iterator[str]:
    """Headless Chromium with its DevTools endpoint; yields the HTTP base of that endpoint."""
    assert CHROMIUM is not None
    argv = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    errors = profile.parent / "chromium.log"
    with errors.open("w") as sink:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"DevTools listening on ws://([^/]+)/", errors.read_text(errors="replace"))
            if found:
                yield f"http://{found[1]}"
                return
            time.sleep(0.05)
        raise AssertionError("Chromium did not open its DevTools endpoint: " + errors.read_text())
    finally:
        process.terminate()
        process.wait(timeout=10)


def _page_log(devtools: str, url: str, *, timeout: float = 30) -> tuple[str, str]:
    """Open `url` in Chromium's page; (title, log) once the title is "done" or the time is up."""
    target = next(t for t in httpx.get(f"{devtools}/json/list").json() if t["type"] == "page")
    with connect(target["webSocketDebuggerUrl"], max_size=None) as cdp:
        ids = iter(range(1, 1_000_000))

        def call(method: str, **params: Any) -> Any:
            request_id = next(ids)
            cdp.send(json.dumps({"id": request_id, "method": method, "params": params}))
            while True:
                reply = json.loads(cdp.recv(timeout=timeout))
                if reply.get("id") == request_id:
                    return reply.get("result", {})

        call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        title, log = "", ""
        while time.monotonic() < deadline:
            result = call(
                "Runtime.evaluate",
                expression="[document.title, (document.getElementById('log') || {}).textContent || '']",
                returnByValue=True,
            )
            title, log = result.get("result", {}).get("value", ["", ""])
            if title == "done":
                break
            time.sleep(0.1)
        return title, log


@pytest.fixture
def mock() -> Iterator[str]:
    app = create_app(
        app_settings(api="current", control=True),
        clock=SteppingClock(),
        new_id=seeded_uuids(3),
        scheduler=ImmediateScheduler(),
    )
    with serving(app) as url:
        yield url.replace("127.0.0.1", "localhost")


def test_a_browser_page_follows_a_run_on_the_stream_and_the_watcher_with_the_cookie_token(
    mock: str, tmp_path: Path
) -> None:
    created = httpx.post(
        f"{mock}/api/experimental/chats",
        headers={"Coder-Session-Token": TOKEN},
        json={"organization_id": str(DEFAULT_ORGANIZATION_ID), "content": [{"type": "text", "text": "Hi"}]},
    )
    assert created.status_code == 201, created.text
    chat = created.json()["id"]

    with serving(_page_app()) as page_base, _chromium(tmp_path / "profile") as devtools:
        query = urlencode({"mock": mock, "token": TOKEN, "chat": chat})
        title, log = _page_log(devtools, f"{page_base.replace('127.0.0.1', 'localhost')}/?{query}")
    journal = httpx.get(f"{mock}/__mock/requests").json()["requests"]

    assert title == "done", log
    lines = log.splitlines()
    assert {"watch: open", "stream: open", "post: 200"} <= set(lines), log
    assert "stream: message_part" in lines and "stream: message" in lines, log
    assert "stream: status waiting" in lines and "watch: status_change waiting" in lines, log
    # The page's fetch: its CORS preflight, then the POST the cookie authenticated.
    sent = [
        (e["method"], e["status"]) for e in journal if e["path"] == f"/api/experimental/chats/{chat}/messages"
    ]
    assert sent == [("OPTIONS", 200), ("POST", 200)]
