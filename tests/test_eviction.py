"""--max-chats / --max-messages: the oldest chats are evicted, journalled, and a clear 404 after."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mockserver.app.factory import create_app
from mockserver.command.capacity_options import capacity_settings, store_limits
from mockserver.command.cli import build_parser
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.errors import ChatEvicted, ChatNotFound
from mockserver.core.models import Role
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.core.store import ChatStore, Eviction, StoreLimits
from tests.agent_support import ALICE, BOB, new_chat, post
from tests.app_settings import app_settings
from tests.control.conftest import settings

DIRECTORY = Directory.from_tokens(DEMO_TOKENS)
ALICE_USER = DIRECTORY.authenticate(DEMO_TOKENS["alice"])
BOB_USER = DIRECTORY.authenticate(DEMO_TOKENS["bob"])
EVICTED = {
    "message": "Resource not found or you do not have access to this resource",
    "detail": "The mock evicted this chat to stay within --max-chats / --max-messages.",
}


def _store(**limits: int) -> tuple[ChatStore, list[Eviction]]:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(9), limits=StoreLimits(**limits))
    evictions: list[Eviction] = []
    store.on_evict(evictions.append)
    return store, evictions


def _chat(store: ChatStore, owner=ALICE_USER):  # type: ignore[no-untyped-def]
    return store.create_chat(owner, workspace_id=None, title="", provider="p", model="m", metadata={})


def test_past_max_chats_the_oldest_chat_is_evicted_and_named_as_evicted_to_its_owner_only() -> None:
    store, evictions = _store(max_chats=2)
    first, second, third = _chat(store), _chat(store, BOB_USER), _chat(store)
    assert [e.chat.id for e in evictions] == [first.id]
    assert (evictions[0].messages, evictions[0].reason) == (1, "max_chats 2")
    with pytest.raises(ChatEvicted):
        store.get_chat(ALICE_USER, first.id)
    with pytest.raises(ChatNotFound) as other:
        store.get_chat(BOB_USER, first.id)
    assert type(other.value) is ChatNotFound  # another user learns nothing
    assert store.get_chat(BOB_USER, second.id) == second and store.get_chat(ALICE_USER, third.id) == third


def test_an_owners_chats_are_listed_in_creation_order_without_the_evicted_or_the_cleared() -> None:
    store, _ = _store(max_chats=3)
    first, bobs, second = _chat(store), _chat(store, BOB_USER), _chat(store)
    renamed = store.update_chat(first.id, title="renamed")
    assert store.chats_of(ALICE_USER) == (renamed, second)  # the stored chat as it is now
    assert store.chats_of(BOB_USER) == (bobs,)
    third = _chat(store)  # evicts `first`
    assert store.chats_of(ALICE_USER) == (second, third)
    _chat(store, ALICE_USER)  # evicts Bob's only chat
    assert store.chats_of(BOB_USER) == ()
    store.clear()
    assert store.chats_of(ALICE_USER) == () and store.chats_of(BOB_USER) == ()


def test_past_max_messages_the_oldest_other_chats_go_whole_and_the_written_one_stays() -> None:
    store, evictions = _store(max_messages=5)
    old, middle, busy = _chat(store), _chat(store), _chat(store)
    store.append_message(old.id, Role.USER, "a")  # old: 2 rows, middle 1, busy 1: 4 rows
    # When: busy grows past the cap
    store.append_message(busy.id, Role.USER, "b")
    store.append_message(busy.id, Role.USER, "c")
    # Then: the oldest chat went whole; the store is back under the cap
    assert [e.chat.id for e in evictions] == [old.id]
    assert store.message_count == 4
    # When: busy alone exceeds the cap, every other chat goes but busy stays
    for text in "defgh":
        store.append_message(busy.id, Role.USER, text)
    assert [e.chat.id for e in evictions] == [old.id, middle.id]
    assert len(store.list_messages(ALICE_USER, busy.id)) == 8 == store.message_count


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="max_chats must be at least 1"):
        StoreLimits(max_chats=0)


def test_an_evicted_chat_is_a_404_that_says_why_and_a_journal_entry() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(9), limits=StoreLimits(max_chats=1))
    app = create_app(settings(), new_id=seeded_uuids(9), store=store, scheduler=ImmediateScheduler())
    with TestClient(app) as client:
        first = new_chat(client)
        post(client, first, "hello")
        second = new_chat(client)
        # Then
        gone = client.get(f"/api/v2/chats/{first}", headers=ALICE)
        listing = client.get(f"/api/v2/chats/{first}/messages", headers=ALICE)
        as_bob = client.get(f"/api/v2/chats/{first}", headers=BOB)
        kept = client.get(f"/api/v2/chats/{second}", headers=ALICE)
        journal = client.get("/__mock/requests", params={"method": "EVICT"}).json()["requests"]
    assert (gone.status_code, gone.json()) == (404, EVICTED)
    assert (listing.status_code, listing.json()) == (404, EVICTED)
    assert as_bob.json() == {"message": EVICTED["message"]}
    assert kept.status_code == 200
    assert [(e["method"], e["path"], e["status"], e["user"]) for e in journal] == [
        ("EVICT", f"/api/v2/chats/{first}", None, "alice")
    ]
    assert journal[0]["response_body"] == "evicted under max_chats 1: the chat and its 6 messages"


def test_a_watcher_of_an_evicted_chat_is_closed_normally() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(9), limits=StoreLimits(max_chats=1))
    app = create_app(app_settings(), new_id=seeded_uuids(9), store=store, scheduler=ImmediateScheduler())
    with TestClient(app) as client:
        chat = new_chat(client)
        with client.websocket_connect(f"/api/v2/chats/{chat}/messages/watch-ws", headers=dict(ALICE)) as ws:
            json.loads(ws.receive_text())
            new_chat(client)  # evicts the watched chat
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1000, "chat evicted (max_chats 1)")


def test_serve_options_default_to_unbounded_and_a_queue_of_1000() -> None:
    parser = build_parser()
    defaults = parser.parse_args(["serve"])
    capped = parser.parse_args(
        ["serve", "--max-chats", "50", "--max-messages", "9000", "--watch-queue", "64"]
    )
    assert (store_limits(defaults), capacity_settings(defaults)) == (StoreLimits(), {"watch_queue": 1000})
    assert store_limits(capped) == replace(StoreLimits(), max_chats=50, max_messages=9000)
    assert capacity_settings(capped) == {"watch_queue": 64}
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--max-chats", "0"])


def test_deleted_rows_leave_the_count_the_message_cap_reads() -> None:
    store, evictions = _store(max_messages=4)
    old, busy = _chat(store), _chat(store)
    rows = [store.append_message(busy.id, Role.USER, text) for text in "ab"]  # 1 + 3 rows
    # When: the later rows of busy are deleted, then as many written again
    store.delete_messages_from(busy.id, rows[0].id)
    store.append_message(busy.id, Role.USER, "c")
    store.append_message(busy.id, Role.USER, "d")
    # Then: still within the cap, nothing evicted
    assert store.message_count == 4 and evictions == []
    assert store.get_chat(ALICE_USER, old.id) == old
