"""CORS for the Coder API: a page on one port calling the mock on another.

These run against a real uvicorn server with httpx sending what a browser sends (the
preflight, then the request with its Origin); they run in CI. test_browser.py does the same
from a real headless Chromium when /usr/bin/chromium exists.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.testclient import TestClient

from mockserver.control import CorsPolicy
from mockserver.edge.origins import CorsMiddleware, cors_options

from .conftest import ALICE, NEW_CHAT, app, served

PAGE = "http://localhost:5173"


def _preflight(http: httpx.Client, path: str, origin: str = PAGE) -> httpx.Response:
    return http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "coder-session-token,content-type",
        },
    )


def test_a_cross_origin_post_with_the_token_header_succeeds_preflight_included() -> None:
    with served(app()) as base, httpx.Client(base_url=base) as http:
        # When the browser asks first
        preflight = _preflight(http, "/api/v2/chats")
        # Then it may send the token header and a JSON body from that origin
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == PAGE
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "coder-session-token" in allowed
        assert "content-type" in allowed
        assert "POST" in preflight.headers["access-control-allow-methods"]

        # When it sends the request itself
        created = http.post("/api/v2/chats", json=NEW_CHAT, headers={**ALICE, "Origin": PAGE})
        # Then the page may read the answer
        assert created.status_code == 201
        assert created.headers["access-control-allow-origin"] == PAGE
        assert created.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:3000", "http://127.0.0.1:8081", "https://localhost", "http://[::1]:4200"],
)
def test_localhost_on_any_port_is_allowed_by_default(origin: str) -> None:
    assert CorsPolicy().allows(origin)


@pytest.mark.parametrize(
    "origin",
    ["http://localhost.evil.example", "https://example.com", "http://127.0.0.2:80", "null"],
)
def test_other_origins_are_not_allowed_by_default(origin: str) -> None:
    assert not CorsPolicy().allows(origin)


def test_an_error_answer_is_readable_cross_origin() -> None:
    client = TestClient(app(control=False))
    answer = client.get("/api/v2/chats/nope", headers={"Origin": PAGE})
    assert answer.status_code == 401
    assert answer.headers["access-control-allow-origin"] == PAGE
    assert answer.json()["message"].startswith("You are signed out")


def test_a_fault_answer_is_readable_cross_origin(client: TestClient) -> None:
    client.post("/__mock/faults", json={"status": 503})
    answer = client.get("/api/v2/chats/nope", headers={"Origin": PAGE})
    assert answer.status_code == 503
    assert answer.headers["access-control-allow-origin"] == PAGE


def test_a_configured_origin_replaces_the_default() -> None:
    client = TestClient(app(cors=CorsPolicy(origins=("https://app.example",), origin_regex=None)))
    with client as http:
        assert _preflight(http, "/api/v2/chats", "https://app.example").status_code == 200
        refused = _preflight(http, "/api/v2/chats", PAGE)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_every_answer_varies_on_origin_whether_or_not_the_request_named_one() -> None:
    # A cache between a page and the mock must not serve one origin's answer to another.
    with TestClient(app()) as client:
        created = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE)
        path = f"/api/v2/chats/{created.json()['id']}"
        plain = client.get(path, headers=ALICE)
        browser = client.get(path, headers={**ALICE, "Origin": PAGE})
        refused = client.get(path)  # an error answer too
    assert plain.status_code == 200
    assert plain.headers.get_list("vary") == ["Origin"]
    assert "access-control-allow-origin" not in plain.headers
    assert browser.headers.get_list("vary") == ["Origin"]
    assert browser.headers["access-control-allow-origin"] == PAGE
    assert refused.status_code == 401
    assert refused.headers.get_list("vary") == ["Origin"]


def _answer_of(
    layer: type[Any],
    policy: CorsPolicy,
    method: str,
    request: list[tuple[bytes, bytes]],
    answer: list[tuple[bytes, bytes]],
) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and header fields `layer` (over `policy`) sends for a request, around an app answering `answer`."""
    starts: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(answer)})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            starts.append(message)

    scope = {"type": "http", "method": method, "path": "/api/v2/chats", "headers": request}
    asyncio.run(layer(app, **cors_options(policy))(scope, receive, send))
    return starts[0]["status"], list(starts[0]["headers"])


_JSON = [(b"content-type", b"application/json"), (b"content-length", b"2")]


@pytest.mark.parametrize(
    "policy", [CorsPolicy(), CorsPolicy(origins=("https://app.example",), origin_regex=None)]
)
@pytest.mark.parametrize(
    ("method", "request_headers", "answer_headers"),
    [
        ("GET", [(b"origin", PAGE.encode())], _JSON),
        ("GET", [(b"origin", b"https://app.example"), (b"cookie", b"coder_session_token=x")], _JSON),
        ("POST", [(b"origin", PAGE.encode()), (b"origin", b"https://example.com")], _JSON),
        ("GET", [(b"origin", b"https://example.com")], _JSON),
        ("GET", [(b"origin", PAGE.encode())], [*_JSON, (b"vary", b"Accept-Encoding")]),
        ("GET", [(b"origin", PAGE.encode())], [*_JSON, (b"access-control-allow-origin", b"*")]),
        ("GET", [(b"origin", PAGE.encode()), (b"access-control-request-method", b"GET")], _JSON),
        ("OPTIONS", [(b"origin", PAGE.encode()), (b"access-control-request-method", b"POST")], _JSON),
        ("OPTIONS", [(b"origin", PAGE.encode())], _JSON),
        ("GET", [(b"host", b"mock")], _JSON),
    ],
)
def test_the_layer_answers_every_request_with_the_headers_starlettes_cors_layer_gives(
    policy: CorsPolicy,
    method: str,
    request_headers: list[tuple[bytes, bytes]],
    answer_headers: list[tuple[bytes, bytes]],
) -> None:
    ours = _answer_of(CorsMiddleware, policy, method, request_headers, answer_headers)
    assert ours == _answer_of(CORSMiddleware, policy, method, request_headers, answer_headers)
