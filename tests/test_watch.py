"""watch-ws: refusals before the upgrade, the backlog after after_id, then live rows in id order."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from websockets.sync.client import connect

from mockserver.app.factory import create_app
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.scheduler import ImmediateScheduler, ManualScheduler
from tests.agent_support import ALICE, BOB, mock_client, new_chat, post, serve_on_free_port, transcript
from tests.app_settings import app_settings

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."


def _refusal(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, Any, str]:
    # websocket_connect adds the handshake headers to the dict it gets: hand it a copy.
    with (
        pytest.raises(WebSocketDenialResponse) as caught,
        client.websocket_connect(path, headers=dict(headers)),
    ):
        pass  # pragma: no cover - the upgrade is refused
    response = caught.value
    return response.status_code, response.json(), response.headers["content-type"]


def test_watch_refuses_before_the_upgrade_with_coders_errors() -> None:
    with mock_client(ImmediateScheduler()) as client:
        chat = new_chat(client)
        base = f"/api/v2/chats/{chat}/messages/watch-ws"
        cases = {
            "no token": (base, {}),
            "bad uuid": ("/api/v2/chats/abc/messages/watch-ws", ALICE),
            "other user's chat": (base, BOB),
            "bad after_id": (base + "?after_id=1.5", ALICE),
        }
        answers = {case: _refusal(client, path, headers) for case, (path, headers) in cases.items()}
    assert answers["no token"][:2] == (
        401,
        {
            "message": SIGNED_OUT,
            "detail": 'Cookie "coder_session_token" or query parameter must be provided.',
        },
    )
    assert answers["bad uuid"][:2] == (
        400,
        {"message": 'Invalid UUID "abc".', "detail": "invalid UUID length: 3"},
    )
    assert answers["other user's chat"][:2] == (
        404,
        {"message": "Resource not found or you do not have access to this resource"},
    )
    assert answers["bad after_id"][:2] == (400, {"message": "invalid after_id"})
    assert {content_type for _, _, content_type in answers.values()} == {"application/json; charset=utf-8"}


def test_watch_sends_rows_after_after_id_then_each_step_as_virtual_time_moves() -> None:
    scheduler = ManualScheduler()
    with mock_client(scheduler) as client:
        chat = new_chat(client, {"scenario": "reasoning"})
        post(client, chat, "first")
        scheduler.finish_all()
        stored = transcript(client, chat)
        with client.websocket_connect(
            f"/api/v2/chats/{chat}/messages/watch-ws?after_id=2", headers=dict(ALICE)
        ) as ws:
            # Then: the backlog, rows with id > 2
            backlog = [json.loads(ws.receive_text()) for _ in stored[2:]]
            assert [f["data"] for f in backlog] == stored[2:]
            # When: a new run, advanced one turn at a time
            run_id = post(client, chat, "second")
            user_row = json.loads(ws.receive_text())["data"]
            while scheduler.step():
                pass
            final = transcript(client, chat)
            # its rows and its three live parts (the scenario's two reasoning chunks and its text)
            live = [json.loads(ws.receive_text())["data"] for _ in range(len(final) - len(stored) - 1 + 3)]
    assert {frame["type"] for frame in backlog} == {"data"}
    assert user_row == final[len(stored)]
    rows = [item for item in live if "id" in item]
    parts = [item for item in live if "id" not in item]
    assert rows == final[len(stored) + 1 :]
    assert [(p["type_id"], p["part"]) for p in parts] == [
        ("g", 'The user wrote "second". '),
        ("g", "A short, direct answer fits best."),
        ("0", "Here is a short answer to: second"),
    ]
    assert {p["run_id"] for p in parts} == {run_id}


def test_watch_over_a_real_socket_replays_then_follows_a_run_in_id_order() -> None:
    app = create_app(
        app_settings(), clock=SteppingClock(), new_id=seeded_uuids(7), scheduler=ImmediateScheduler()
    )
    with (
        serve_on_free_port(app) as address,
        httpx.Client(base_url=f"http://{address}", headers=ALICE) as http,
    ):
        chat = http.post(
            "/api/v2/chats",
            json={"provider": "p", "model": "m", "metadata": {"scenario": "tool-use"}},
        )
        chat_id = chat.json()["id"]
        http.post(f"/api/v2/chats/{chat_id}/messages", json={"content": "first"})
        before = http.get(f"/api/v2/chats/{chat_id}/messages").json()
        after_id = before[3]["id"]
        url = f"ws://{address}/api/v2/chats/{chat_id}/messages/watch-ws?after_id={after_id}"
        with connect(url, additional_headers=ALICE, open_timeout=10) as ws:
            replayed = [json.loads(ws.recv(timeout=10))["data"] for _ in before[4:]]
            # When: a post whose run is written while we watch
            http.post(f"/api/v2/chats/{chat_id}/messages", json={"content": "second"})
            after = http.get(f"/api/v2/chats/{chat_id}/messages").json()
            live: list[dict[str, Any]] = []
            while len([item for item in live if "id" in item]) < len(after) - len(before):
                live.append(json.loads(ws.recv(timeout=10))["data"])
    # Then
    assert replayed == before[4:]
    assert [item for item in live if "id" in item] == after[len(before) :]
    ids = [row["id"] for row in replayed + live if "id" in row]
    assert ids == sorted(ids) and ids[0] > after_id


def test_a_real_server_refuses_a_bad_after_id_with_http_400() -> None:
    app = create_app(
        app_settings(), clock=SteppingClock(), new_id=seeded_uuids(8), scheduler=ImmediateScheduler()
    )
    with (
        serve_on_free_port(app) as address,
        httpx.Client(base_url=f"http://{address}", headers=ALICE) as http,
    ):
        chat_id = http.post("/api/v2/chats", json={"provider": "p", "model": "m"}).json()["id"]
        url = f"ws://{address}/api/v2/chats/{chat_id}/messages/watch-ws?after_id=x"
        with (
            pytest.raises(Exception) as caught,
            connect(url, additional_headers=ALICE, open_timeout=10),
        ):
            pass  # pragma: no cover - the upgrade is refused
    response = caught.value.response  # type: ignore[attr-defined]
    assert response.status_code == 400
    assert json.loads(response.body) == {"message": "invalid after_id"}
