"""POST /__mock/chats/{chat_id}/streams/close: a chat's live streams closed on demand."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mockserver import ManualScheduler

from .conftest import ALICE, NEW_CHAT


def test_v1_watch_ws_of_the_chat_is_closed_with_the_code_asked(
    manual_client: tuple[TestClient, ManualScheduler],
) -> None:
    client, _ = manual_client
    with client:
        chat = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).json()["id"]
        with client.websocket_connect(f"/api/v2/chats/{chat}/messages/watch-ws", headers=dict(ALICE)) as ws:
            ws.receive_text()  # the system prompt row
            # When
            answer = client.post(f"/__mock/chats/{chat}/streams/close", json={"code": 1001, "reason": "bye"})
            with pytest.raises(WebSocketDisconnect) as caught:
                ws.receive_text()
    assert answer.json() == {"closed": 1}
    assert (caught.value.code, caught.value.reason) == (1001, "bye")


@pytest.mark.parametrize(
    ("chat", "body", "message"),
    [
        ("00000000-0000-0000-0000-000000000001", {"code": 1006}, "Invalid close code."),
        ("00000000-0000-0000-0000-000000000001", {"code": 2999}, "Invalid close code."),
        ("00000000-0000-0000-0000-000000000001", {"reason": "é" * 62}, "Invalid close reason."),
        ("not-a-uuid", {}, None),
    ],
)
def test_a_close_that_no_server_may_send_is_a_400(
    manual_client: tuple[TestClient, ManualScheduler], chat: str, body: dict[str, object], message: str | None
) -> None:
    client, _ = manual_client
    answer = client.post(f"/__mock/chats/{chat}/streams/close", json=body)
    assert answer.status_code == 400
    if message is not None:
        assert answer.json()["message"] == message
