"""POST /__mock/clock/advance and /finish: the agent's runs on demand."""

from __future__ import annotations

from starlette.testclient import TestClient

from mockserver import ManualScheduler

from .conftest import ALICE, NEW_CHAT


def test_finish_runs_every_pending_agent_write_now(
    manual_client: tuple[TestClient, ManualScheduler],
) -> None:
    client, _ = manual_client
    chat = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).json()["id"]
    client.post(f"/api/v2/chats/{chat}/messages", json={"content": "hi"}, headers=ALICE)
    assert len(client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE).json()) == 2

    # When
    answer = client.post("/__mock/clock/finish")

    # Then the run's four rows are written, with the live text chunk watchers see, in one turn:
    # echo has no delay, so all five are due at the same instant
    assert answer.json() == {"ran": 1}
    assert len(client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE).json()) == 6


def test_advance_runs_what_falls_due(manual_client: tuple[TestClient, ManualScheduler]) -> None:
    client, scheduler = manual_client
    chat = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).json()["id"]
    client.post(f"/api/v2/chats/{chat}/messages", json={"content": "hi"}, headers=ALICE)

    answer = client.post("/__mock/clock/advance", json={"seconds": 1.5})

    assert answer.status_code == 200
    assert answer.json() == {"ran": 1}  # echo's four rows and its live text chunk: one instant, one turn
    assert len(client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE).json()) == 6
    assert scheduler.now == 1.5


def test_advance_by_a_negative_time_is_400(client: TestClient) -> None:
    answer = client.post("/__mock/clock/advance", json={"seconds": -1})
    assert answer.status_code == 400
    assert "message" in answer.json()
