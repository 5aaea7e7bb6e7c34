"""POST /__mock/reset: back to the start-up state."""

from __future__ import annotations

from starlette.testclient import TestClient

from mockserver import ChatStore, ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory

from .conftest import ALICE, BOB, NEW_CHAT, settings


def test_reset_forgets_every_chat_created_since_start_up_and_demo_users_still_work(
    client: TestClient,
) -> None:
    # Given chats of both demo users, one with a message
    alices = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).json()["id"]
    bobs = client.post("/api/v2/chats", json=NEW_CHAT, headers=BOB).json()["id"]
    client.post(f"/api/v2/chats/{alices}/messages", json={"content": "hi"}, headers=ALICE)

    # When
    answer = client.post("/__mock/reset")

    # Then the chats are gone, and the demo users work as at start-up
    assert answer.status_code == 204
    assert client.get(f"/api/v2/chats/{alices}", headers=ALICE).status_code == 404
    assert client.get(f"/api/v2/chats/{bobs}", headers=BOB).status_code == 404
    fresh = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE)
    assert fresh.status_code == 201
    transcript = client.get(f"/api/v2/chats/{fresh.json()['id']}/messages", headers=ALICE).json()
    assert [message["id"] for message in transcript] == [1]  # the id sequence starts again


def test_reset_empties_the_journal_and_restores_start_up_faults(client: TestClient) -> None:
    client.get("/api/v2/chats/not-a-uuid", headers=ALICE)
    client.post("/__mock/faults", json={"path": "/chats", "status": 500})

    client.post("/__mock/reset")

    assert client.get("/__mock/requests").json()["requests"] == []
    assert client.get("/__mock/faults").json()["faults"] == []


def test_reset_seeds_the_store_again_with_the_start_up_loader() -> None:
    alice = Directory.from_tokens(DEMO_TOKENS).users[0]
    seeded: list[str] = []

    def seed(store: ChatStore) -> None:
        chat = store.create_chat(
            alice, workspace_id=None, title="fixture", provider="p", model="m", metadata={}
        )
        seeded.append(str(chat.id))

    client = TestClient(
        create_app(
            settings(),
            clock=SteppingClock(),
            new_id=seeded_uuids(1),
            scheduler=ImmediateScheduler(),
            seed_store=seed,
        )
    )
    client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE)

    client.post("/__mock/reset")

    assert len(seeded) == 2
    assert client.get(f"/api/v2/chats/{seeded[1]}", headers=ALICE).json()["title"] == "fixture"
    assert client.get(f"/api/v2/chats/{seeded[0]}", headers=ALICE).status_code == 404
