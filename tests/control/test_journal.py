"""GET/DELETE /__mock/requests: what the mock was asked, without secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from mockserver.control import Journal, JournalEntry, mask_token

from .conftest import ALICE, BOB, NEW_CHAT, app

ALICE_SECRET = "AliceDemoSessionSecret"


def test_journal_lists_the_requests_a_client_just_made_with_statuses_and_no_token(
    client: TestClient,
) -> None:
    # When a client creates a chat, posts a message, asks for another user's chat and a bad id
    chat = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).json()["id"]
    client.post(f"/api/v2/chats/{chat}/messages", json={"content": "hello"}, headers=ALICE)
    client.get(f"/api/v2/chats/{chat}", headers=BOB)
    client.get("/api/v2/chats/nope?coder_session_token=alice00001-AliceDemoSessionSecret")
    client.get(f"/api/v2/chats/{chat}")

    # Then the journal lists them in order, with the statuses sent and the users
    answer = client.get("/__mock/requests")
    assert answer.status_code == 200
    entries = answer.json()["requests"]
    assert [(e["method"], e["path"], e["status"], e["user"]) for e in entries] == [
        ("POST", "/api/v2/chats", 201, "alice"),
        ("POST", f"/api/v2/chats/{chat}/messages", 201, "alice"),
        ("GET", f"/api/v2/chats/{chat}", 404, "bob"),
        ("GET", "/api/v2/chats/nope", 400, "alice"),
        ("GET", f"/api/v2/chats/{chat}", 401, None),
    ]
    assert json.loads(entries[1]["request_body"]) == {"content": "hello"}
    assert entries[0]["token"] == "alice00001-***"
    assert entries[3]["query"] == "coder_session_token=alice00001-***"
    assert entries[4]["token"] is None
    # And no secret anywhere in what the control plane sends
    assert ALICE_SECRET not in answer.text
    assert "BobDemoSessionSecret00" not in answer.text


def test_journal_filters_by_method_path_status_and_user(client: TestClient) -> None:
    chat = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).json()["id"]
    client.post(f"/api/v2/chats/{chat}/messages", json={"content": "hi"}, headers=ALICE)
    client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE)
    client.get(f"/api/v2/chats/{chat}", headers=BOB)

    def listed(**query: object) -> list[tuple[str, str]]:
        entries = client.get("/__mock/requests", params=query).json()["requests"]
        return [(e["method"], e["path"]) for e in entries]

    messages = f"/api/v2/chats/{chat}/messages"
    assert listed(method="post", path="/chats/{chat}/messages") == [("POST", messages)]
    assert listed(path="/chats/*/messages") == [("POST", messages), ("GET", messages)]
    assert listed(status=404) == [("GET", f"/api/v2/chats/{chat}")]
    assert listed(user="bob") == [("GET", f"/api/v2/chats/{chat}")]
    assert listed(path="/chats/**", limit=1) == [("GET", f"/api/v2/chats/{chat}")]


def test_journal_never_lists_the_control_plane_itself(client: TestClient) -> None:
    client.get("/__mock/faults")
    client.get("/__mock/requests")
    assert client.get("/__mock/requests").json()["requests"] == []


def test_delete_empties_the_journal(client: TestClient) -> None:
    client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE)

    assert client.delete("/__mock/requests").status_code == 204

    assert client.get("/__mock/requests").json() == {
        "capacity": 1000,
        "recorded": 0,
        "requests": [],
    }


def test_a_secret_echoed_into_a_body_is_masked() -> None:
    client = TestClient(app())
    client.post("/api/v2/chats", json={**NEW_CHAT, "title": ALICE_SECRET}, headers=ALICE)
    assert ALICE_SECRET not in client.get("/__mock/requests").text


def test_journal_is_bounded_and_keeps_the_newest() -> None:
    client = TestClient(app(journal_size=3))
    for _ in range(5):
        client.get("/api/v2/chats/nope", headers=ALICE)

    page = client.get("/__mock/requests").json()

    assert page["capacity"] == 3
    assert page["recorded"] == 5
    assert [entry["id"] for entry in page["requests"]] == [3, 4, 5]


def test_journal_keeps_bodies_up_to_its_limit_and_their_full_size() -> None:
    journal = Journal(capacity=2, body_limit=4)
    entry = JournalEntry(
        id=journal.next_id(),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        method="GET",
        path="/api/v2/chats",
        query="",
        status=200,
        duration_ms=1.0,
        user=None,
        token=None,
        request_body="",
        request_bytes=0,
        response_body="abcd",
        response_bytes=10,
        faults=(),
    )
    journal.record(entry)
    assert journal.entries()[0].to_json()["response_bytes"] == 10


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("alice00001-AliceDemoSessionSecret", "alice00001-***"),
        ("no-dash-here-and-more", "***"),
        ("justasecretwithoutanyid", "***"),
    ],
)
def test_a_token_shows_its_id_part_only(token: str, shown: str) -> None:
    assert mask_token(token) == shown
