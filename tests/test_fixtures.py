"""Fixtures: export a chat, load it into a fresh mock, and find the same transcript."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml

from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.core.store import ChatStore
from mockserver.v1.fixtures import FixtureError, dump_fixture, fetch_fixture, load_fixture_files
from tests.agent_support import ALICE, directory, mock_client, new_chat, post, transcript


def test_a_fixture_exported_from_one_mock_loads_into_a_fresh_one_identically(
    tmp_path: Path,
) -> None:
    with mock_client(ImmediateScheduler(), seed=1) as first:
        chat = new_chat(first, {"scenario": "tool-use"}, headers=ALICE)
        post(first, chat, "list the files")
        post(first, chat, "/reasoning and now?")
        original_chat = first.get(f"/api/v2/chats/{chat}", headers=ALICE).json()
        original = transcript(first, chat)

        def get_json(path: str) -> Any:
            return first.get("/api/v2" + path, headers=ALICE).json()

        # When: exported through the API and written as YAML
        fixture = fetch_fixture(get_json, "alice", [chat])
        path = tmp_path / "chat.yaml"
        path.write_text(dump_fixture(fixture["chats"]))

    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(99))
    assert load_fixture_files(store, directory(), [path]) == 1
    with mock_client(ImmediateScheduler(), seed=2, store=store) as fresh:
        # Then
        assert fresh.get(f"/api/v2/chats/{chat}", headers=ALICE).json() == original_chat
        assert transcript(fresh, chat) == original
        # And the sequence continues after the highest imported id
        post(fresh, chat, "more")
        assert transcript(fresh, chat)[len(original)]["id"] == original[-1]["id"] + 1


def test_owner_may_be_named_by_token_id_and_json_fixtures_load(tmp_path: Path) -> None:
    with mock_client(ImmediateScheduler()) as client:
        chat = new_chat(client)
        fixture = fetch_fixture(
            lambda p: client.get("/api/v2" + p, headers=ALICE).json(), "alice00001", [chat]
        )
    path = tmp_path / "chat.json"
    path.write_text(dump_fixture(fixture["chats"], as_json=True))
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    load_fixture_files(store, directory(), [path])
    alice = directory().users[0]
    assert len(store.list_messages(alice, UUID(chat))) == 1


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ({"chats": []}, "not a chats-mock fixture"),
        (
            {"chats_mock_fixture": 1, "chats": [{"owner": "carol", "chat": {}}]},
            "owner 'carol' is no user",
        ),
        (
            {"chats_mock_fixture": 1, "chats": [{"owner": "alice", "chat": {"id": "x"}}]},
            r"chats\[0\]",
        ),
    ],
)
def test_a_bad_fixture_is_refused_with_where_and_why(tmp_path: Path, fixture: Any, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(fixture))
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    with pytest.raises(FixtureError, match=problem) as caught:
        load_fixture_files(store, directory(), [path])
    assert str(path) in str(caught.value)


def test_loading_the_same_fixture_twice_is_refused(tmp_path: Path) -> None:
    with mock_client(ImmediateScheduler()) as client:
        chat = new_chat(client)
        fixture = fetch_fixture(lambda p: client.get("/api/v2" + p, headers=ALICE).json(), "alice", [chat])
    path = tmp_path / "chat.yaml"
    path.write_text(dump_fixture(fixture["chats"]))
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    load_fixture_files(store, directory(), [path])
    with pytest.raises(FixtureError, match="already exists"):
        load_fixture_files(store, directory(), [path])
