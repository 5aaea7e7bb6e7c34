"""Fixtures of today's API: export with plain GETs, load into a fresh mock, find the same chats."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.testclient import TestClient

from mockserver import ImmediateScheduler, ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.command.cli import main
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.fixture_files import FixtureError, fixture_text
from mockserver.core.store import ChatStore
from mockserver.current.fixtures import fetch_fixture, load_fixture_files
from mockserver.v1 import fixtures as v1_fixtures
from tests.agent_support import serve_on_free_port
from tests.app_settings import app_settings
from tests.current_support import ALICE, Current, current_mock, text

DIRECTORY = Directory.from_tokens(DEMO_TOKENS)


@contextmanager
def loaded_mock(*paths: Path, seed: int = 11) -> Iterator[Current]:
    """A fresh current-API mock whose store was filled from fixture files at start-up."""
    scheduler = ManualScheduler()

    def seed_store(store: ChatStore) -> None:
        load_fixture_files(store, DIRECTORY, paths)

    app = create_app(
        app_settings(api="current", validate_responses=True),
        clock=SteppingClock(),
        new_id=seeded_uuids(seed),
        scheduler=scheduler,
        seed_store=seed_store,
    )
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Current(client, scheduler)


def _get_json(mock: Current) -> Any:
    def get_json(path: str) -> Any:
        response = mock.client.get("/api/v2" + path, headers=ALICE)
        assert response.status_code == 200, response.text
        return response.json()

    return get_json


def _raw(mock: Current, chat_id: str) -> tuple[bytes, bytes]:
    """The chat and its whole transcript (with the queue) exactly as the API sends them."""
    chat = mock.client.get(f"/api/v2/chats/{chat_id}", headers=ALICE)
    messages = mock.client.get(f"/api/v2/chats/{chat_id}/messages?limit=200", headers=ALICE)
    assert chat.status_code == messages.status_code == 200
    return chat.content, messages.content


def _build_chats(mock: Current) -> dict[str, str]:
    """Chats in the states a UI shows: finished and relabelled, archived, running with a queue."""
    done = mock.create("/tool-use please", labels={"team": "build"})["id"]
    mock.finish()
    assert mock.send(done, "/reasoning and now?").status_code == 200
    mock.finish()
    assert mock.patch(done, title="Renamed", labels={"team": "web"}, pin_order=1).status_code == 204
    archived = mock.create("to be archived")["id"]
    mock.finish()
    assert mock.patch(archived, archived=True).status_code == 204
    running = mock.create("still going")["id"]
    assert mock.send(running, "after that, this").json()["queued"] is True
    return {"done": done, "archived": archived, "running": running}


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, tuple[bytes, bytes]]]:
    """A fixture file of three chats exported from a mock, the chats' ids, and their answers there."""
    with current_mock() as first:
        chats = _build_chats(first)
        originals = {chat_id: _raw(first, chat_id) for chat_id in chats.values()}
        assert len(first.transcript(chats["done"])) > 4  # several pages at page_limit=2
        fixture = fetch_fixture(_get_json(first), "alice", chats.values(), page_limit=2)
    path = tmp_path / "current.yaml"
    path.write_text(fixture_text(fixture))
    return path, chats, originals


def test_an_exported_fixture_loads_into_a_fresh_mock_byte_for_byte(
    exported: tuple[Path, dict[str, str], dict[str, tuple[bytes, bytes]]],
) -> None:
    path, chats, originals = exported
    fixture = yaml.safe_load(path.read_text())
    assert (fixture["chats_mock_fixture"], fixture["api"]) == (1, "current")
    entry = fixture["chats"][0]
    ids = [m["id"] for m in entry["messages"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # every page, oldest first
    assert [q["content"][0]["text"] for q in fixture["chats"][2]["queued_messages"]] == ["after that, this"]

    with loaded_mock(path) as fresh:
        for chat_id in chats.values():
            assert _raw(fresh, chat_id) == originals[chat_id]
        listed = fresh.client.get("/api/v2/chats?q=archived:true", headers=ALICE).json()
        assert [c["id"] for c in listed] == [chats["archived"]]


def test_the_id_sequences_continue_after_the_highest_loaded_ids(
    exported: tuple[Path, dict[str, str], dict[str, tuple[bytes, bytes]]],
) -> None:
    path, chats, _ = exported
    fixture = yaml.safe_load(path.read_text())
    highest = max(m["id"] for entry in fixture["chats"] for m in entry["messages"])
    highest_queued = max(q["id"] for entry in fixture["chats"] for q in entry["queued_messages"])
    with loaded_mock(path) as fresh:
        sent = fresh.send(chats["done"], "one more").json()
        assert sent["message"]["id"] == highest + 1
        queued = fresh.send(chats["running"], "and another").json()["queued_message"]
        assert queued["id"] == highest_queued + 1
        # A loaded running chat runs no turn; an interrupt brings it back, and its queue runs.
        assert fresh.post(f"/chats/{chats['running']}/interrupt").status_code == 200
        fresh.finish()
        user_texts = [
            m["content"][0]["text"] for m in fresh.transcript(chats["running"]) if m["role"] == "user"
        ]
        assert user_texts == ["still going", "after that, this", "and another"]


def test_a_v1_fixture_is_refused_by_the_current_loader_and_a_current_one_by_v1(tmp_path: Path) -> None:
    v1_path = tmp_path / "v1.yaml"
    v1_path.write_text("chats_mock_fixture: 1\nchats: []\n")
    current_path = tmp_path / "current.yaml"
    current_path.write_text("chats_mock_fixture: 1\napi: current\nchats: []\n")
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    with pytest.raises(FixtureError) as caught:
        load_fixture_files(store, DIRECTORY, [v1_path])
    assert str(caught.value) == (
        f"{v1_path}: holds chats of the v1 API (no `api` key); it cannot seed --api current"
    )
    with pytest.raises(FixtureError) as caught:
        v1_fixtures.load_fixture_files(store, DIRECTORY, [current_path])
    assert str(caught.value) == (
        f"{current_path}: holds chats of the current API (`api: current`); it cannot seed --api v1"
    )


def test_serve_refuses_a_current_fixture_for_v1_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "current.yaml"
    path.write_text("chats_mock_fixture: 1\napi: current\nchats: []\n")
    assert main(["serve", "--port", "0", "--fixtures", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"chats-mock: bad fixture: {path}: holds chats of the current API (`api: current`); it cannot seed --api v1\n"
    )


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"owner": "alice", "chat": {"id": "x"}}, r"chats\[1\]: ValueError: badly formed hexadecimal UUID"),
        ({"owner": "carol", "chat": {}}, r"chats\[1\]: owner 'carol' is no user"),
        ("just text", r"chats\[1\]: an entry is a mapping"),
        (
            {"owner": "alice", "chat": {"id": "0" * 8 + "-0000-4000-8000-" + "0" * 12, "created_at": "x"}},
            r"chats\[1\]: ValueError: Invalid isoformat",
        ),
    ],
)
def test_a_malformed_entry_is_refused_with_file_and_index(
    exported: tuple[Path, dict[str, str], dict[str, tuple[bytes, bytes]]],
    entry: Any,
    problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _, _ = exported
    fixture = yaml.safe_load(path.read_text())
    fixture["chats"] = [fixture["chats"][0], entry]
    path.write_text(fixture_text(fixture))
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    with pytest.raises(FixtureError, match=problem) as caught:
        load_fixture_files(store, DIRECTORY, [path])
    assert str(caught.value).startswith(f"{path}: chats[1]: ")
    assert main(["serve", "--api", "current", "--port", "0", "--fixtures", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: chats[1]" in err


def test_fixtures_export_api_current_reads_a_running_server_page_by_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_app(
        app_settings(api="current"),
        clock=SteppingClock(),
        new_id=seeded_uuids(5),
        scheduler=ImmediateScheduler(),
    )
    with (
        serve_on_free_port(app) as address,
        httpx.Client(base_url=f"http://{address}/api/v2", headers=ALICE) as http,
    ):
        org = str(DIRECTORY.users[0].organization_id)
        chat = http.post("/chats", json={"organization_id": org, "content": text("/tool-use")}).json()["id"]
        everything = http.get(f"/chats/{chat}/messages?limit=200").json()
        code = main(
            [
                *("fixtures", "export", "--api", "current", "--base-url", f"http://{address}"),
                *("--token", DEMO_TOKENS["alice"], "--chat", chat),
            ]
        )
    assert code == 0
    fixture = yaml.safe_load(capsys.readouterr().out)
    assert (fixture["chats_mock_fixture"], fixture["api"]) == (1, "current")
    (entry,) = fixture["chats"]
    assert entry["owner"] == "alice00001"
    assert entry["messages"] == everything["messages"][::-1]
    assert entry["queued_messages"] == []


@pytest.mark.parametrize(("served", "asked"), [("v1", "current"), ("current", "v1")])
def test_fixtures_export_against_a_server_of_the_other_generation_stops_in_one_line_naming_api(
    served: str, asked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(
        app_settings(api=served),
        clock=SteppingClock(),
        new_id=seeded_uuids(5),
        scheduler=ImmediateScheduler(),
    )
    with (
        serve_on_free_port(app) as address,
        httpx.Client(base_url=f"http://{address}/api/v2", headers=ALICE) as http,
    ):
        org = str(DIRECTORY.users[0].organization_id)
        body = (
            {"organization_id": org, "content": text("hi")}
            if served == "current"
            else {"provider": "p", "model": "m"}
        )
        chat = http.post("/chats", json=body).json()["id"]
        code = main(
            [
                *("fixtures", "export", "--api", asked, "--base-url", f"http://{address}"),
                *("--token", DEMO_TOKENS["alice"], "--chat", chat),
            ]
        )
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"does not answer as the {asked} API" in err
    assert f"give --api {served}" in err


@pytest.mark.parametrize(
    ("status", "archived", "queued", "why"),
    [
        ("waiting", False, 1, "a waiting chat holds no queued messages (it holds 1, which would never run)"),
        ("waiting", True, 1, "a waiting chat holds no queued messages (it holds 1, which would never run)"),
        ("running", True, 0, "an archived chat is waiting or error, not running"),
        ("requires_action", True, 1, "an archived chat is waiting or error, not requires_action"),
        ("interrupting", True, 0, "an archived chat is waiting or error, not interrupting"),
    ],
)
def test_a_chat_in_no_state_of_the_machine_is_refused_at_load(
    exported: tuple[Path, dict[str, str], dict[str, tuple[bytes, bytes]]],
    status: str,
    archived: bool,
    queued: int,
    why: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, chats, _ = exported
    fixture = yaml.safe_load(path.read_text())
    (entry,) = [e for e in fixture["chats"] if e["chat"]["id"] == chats["running"]]  # running, 1 queued
    entry["chat"]["status"], entry["chat"]["archived"] = status, archived
    entry["queued_messages"] = entry["queued_messages"][:queued]
    path.write_text(fixture_text(fixture))
    index = fixture["chats"].index(entry)
    # When the fixture is loaded
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    with pytest.raises(FixtureError) as caught:
        load_fixture_files(store, DIRECTORY, [path])
    # Then it is refused, naming the file, the entry, the chat and why
    assert str(caught.value) == (
        f"{path}: chats[{index}]: chat {chats['running']} is in no state of coderd's status machine "
        f"(status {status}, archived {str(archived).lower()}, {queued} queued): {why}"
    )
    # And serve stops in one line instead of serving a chat that answers every change with 409
    assert main(["serve", "--api", "current", "--port", "0", "--fixtures", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is in no state of coderd's status machine" in err


def test_every_state_of_the_machine_loads(
    exported: tuple[Path, dict[str, str], dict[str, tuple[bytes, bytes]]],
) -> None:
    path, chats, _ = exported
    for status, archived, queued in [
        ("error", False, 1),
        ("requires_action", False, 1),
        ("interrupting", False, 1),
        ("error", True, 1),
        ("waiting", True, 0),
    ]:
        fixture = yaml.safe_load(path.read_text())
        (entry,) = [e for e in fixture["chats"] if e["chat"]["id"] == chats["running"]]
        entry["chat"]["status"], entry["chat"]["archived"] = status, archived
        entry["queued_messages"] = entry["queued_messages"][:queued]
        path.write_text(fixture_text(fixture))
        store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
        assert load_fixture_files(store, DIRECTORY, [path]) == 3
