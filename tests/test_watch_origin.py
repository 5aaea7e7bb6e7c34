"""watch-ws and same-origin: a browser handshake from an origin not allowed is a 403 before the upgrade."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from mockserver.app.factory import create_app
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.edge.origins import CorsPolicy
from tests.agent_support import ALICE, new_chat
from tests.app_settings import app_settings


def _client(cors: CorsPolicy | None = None) -> TestClient:
    settings = app_settings() if cors is None else app_settings(cors=cors)
    return TestClient(
        create_app(settings, clock=SteppingClock(), new_id=seeded_uuids(2), scheduler=ImmediateScheduler())
    )


def _handshake(client: TestClient, chat: str, origin: str | None, host: str = "127.0.0.1:8080") -> Any:
    """The denial response, or None when the upgrade went through."""
    headers = {**ALICE, "host": host, **({"origin": origin} if origin is not None else {})}
    try:
        with client.websocket_connect(f"/api/v2/chats/{chat}/messages/watch-ws", headers=headers) as ws:
            ws.receive_text()
    except WebSocketDenialResponse as denial:
        return denial
    return None


@pytest.mark.parametrize(
    "origin",
    [
        None,  # not a browser: coder/websocket lets it through
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
        "http://127.0.0.1:8080",  # same origin as the Host
    ],
)
def test_handshakes_without_origin_same_origin_or_allowed_origins_upgrade(origin: str | None) -> None:
    with _client() as client:
        assert _handshake(client, new_chat(client), origin) is None


def test_a_cross_origin_handshake_is_403_with_a_coder_body_before_the_upgrade() -> None:
    with _client() as client:
        denial = _handshake(client, new_chat(client), "https://evil.example")
    assert denial.status_code == 403
    assert denial.headers["content-type"] == "application/json; charset=utf-8"
    assert denial.json() == {
        "message": 'request Origin "https://evil.example" is not authorized for Host "127.0.0.1:8080"'
    }


def test_the_origin_is_checked_before_the_token() -> None:
    with _client() as client:
        chat = new_chat(client)
        with (
            pytest.raises(WebSocketDenialResponse) as caught,
            client.websocket_connect(
                f"/api/v2/chats/{chat}/messages/watch-ws", headers={"origin": "https://evil.example"}
            ),
        ):
            pass  # pragma: no cover - refused
    assert caught.value.status_code == 403


def test_cors_options_replace_the_default_origins_for_websockets_too() -> None:
    policy = CorsPolicy(origins=("https://app.example",), origin_regex=None)
    with _client(policy) as client:
        chat = new_chat(client)
        allowed = _handshake(client, chat, "https://app.example")
        localhost = _handshake(client, chat, "http://localhost:5173")
        same_origin = _handshake(client, chat, "http://mock.test:8080", host="mock.test:8080")
    assert allowed is None and same_origin is None
    assert localhost.status_code == 403
