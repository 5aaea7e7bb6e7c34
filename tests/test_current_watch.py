"""`GET /chats/watch` of today's API: the caller's chats only, one ChatWatchEvent per frame.

Runs play on a ManualScheduler and a SteppingClock; frames are read until a condition holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from mockserver import ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.models import ChatStatus, Role
from mockserver.core.store import ChatStore, StoreLimits
from tests.app_settings import app_settings
from tests.current_support import ALICE, BOB, ORG, text
from tests.test_current_stream import Mock

WATCH = "/api/v2/chats/watch"
Event = dict[str, Any]


@contextmanager
def mock(limits: StoreLimits | None = None, **settings: Any) -> Iterator[Mock]:
    clock = SteppingClock()
    new_id = seeded_uuids(12)
    scheduler = ManualScheduler()
    store = ChatStore(clock=clock, new_id=new_id, limits=limits)
    app = create_app(
        app_settings(api="current", **settings), clock=clock, new_id=new_id, scheduler=scheduler, store=store
    )
    with TestClient(app) as client:
        yield Mock(client, scheduler, store)


class Reader:
    """A watch's frames: each one ChatWatchEvent object, ending with a newline."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.events: list[Event] = []

    def until(self, done: Callable[[list[Event]], bool]) -> list[Event]:
        while not done(self.events):
            raw = self.ws.receive_text()
            assert raw.endswith("}\n"), raw
            event = json.loads(raw)
            assert isinstance(event, dict)
            self.events.append(event)
        return self.events


def count(n: int) -> Callable[[list[Event]], bool]:
    return lambda events: len(events) >= n


def kinds(events: list[Event]) -> list[tuple[str, str]]:
    return [(e["kind"], e["chat"]["status"]) for e in events]


def test_watch_refuses_before_the_upgrade() -> None:
    with mock() as m:
        refusals = {}
        for case, headers in {
            "no token": {},
            "cross-origin": {**ALICE, "Origin": "https://evil.example"},
        }.items():
            with (
                pytest.raises(WebSocketDenialResponse) as caught,
                m.client.websocket_connect(WATCH, headers=headers),
            ):
                pass  # pragma: no cover - the upgrade is refused
            refusals[case] = caught.value.status_code
    assert refusals == {"no token": 401, "cross-origin": 403}


def test_a_chats_life_is_created_then_status_changes_for_the_caller_only() -> None:
    with mock() as m, m.client.websocket_connect(WATCH, headers=dict(ALICE)) as ws:
        with m.client.websocket_connect(WATCH, headers=dict(BOB)) as bobs:
            reader = Reader(ws)
            # When: alice's chat is created and runs; bob creates one too
            chat = m.create("/slow x")
            bob = m.client.post(
                "/api/v2/chats", headers=BOB, json={"organization_id": ORG, "content": text("bob's")}
            ).json()
            m.scheduler.finish_all()
            events = reader.until(count(2))
            bob_events = Reader(bobs).until(count(2))
        got = m.client.get(f"/api/v2/chats/{chat}", headers=ALICE).json()
    assert kinds(events) == [("created", "running"), ("status_change", "waiting")]
    assert {e["chat"]["id"] for e in events} == {chat}
    assert events[1]["chat"] == got
    assert {e["chat"]["id"] for e in bob_events} == {bob["id"]}


def test_rename_archive_and_unarchive_are_title_change_deleted_and_created() -> None:
    with mock() as m:
        chat = m.create("hello")
        m.scheduler.finish_all()
        with m.client.websocket_connect(WATCH, headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            # When
            assert (
                m.client.patch(f"/api/v2/chats/{chat}", headers=ALICE, json={"title": "Renamed"}).status_code
                == 204
            )
            assert (
                m.client.patch(
                    f"/api/v2/chats/{chat}", headers=ALICE, json={"labels": {"a": "b"}}
                ).status_code
                == 204
            )
            assert (
                m.client.patch(f"/api/v2/chats/{chat}", headers=ALICE, json={"archived": True}).status_code
                == 204
            )
            assert (
                m.client.patch(f"/api/v2/chats/{chat}", headers=ALICE, json={"archived": False}).status_code
                == 204
            )
            events = reader.until(count(3))
    # Then: labels publish nothing (coderd writes them straight to the database)
    assert [(e["kind"], e["chat"]["title"], e["chat"]["archived"]) for e in events] == [
        ("title_change", "Renamed", False),
        ("deleted", "Renamed", True),
        ("created", "Renamed", False),
    ]


def test_requires_action_is_a_status_change_then_action_required_with_the_tool_calls() -> None:
    with mock() as m:
        chat = m.create("hello")
        m.scheduler.finish_all()
        call = {"type": "tool-call", "tool_call_id": "call_1", "tool_name": "ask_user", "args": {"q": "ok?"}}
        with m.client.websocket_connect(WATCH, headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            m.store.append_message(UUID(chat), Role.ASSISTANT, {"parts": [call]})
            m.store.update_chat(UUID(chat), status=ChatStatus.REQUIRES_ACTION)
            events = reader.until(count(2))
    assert kinds(events) == [("status_change", "requires_action"), ("action_required", "requires_action")]
    assert "tool_calls" not in events[0]
    assert events[1]["tool_calls"] == [
        {"tool_call_id": "call_1", "tool_name": "ask_user", "args": '{"q":"ok?"}'}
    ]


def test_a_chat_evicted_by_the_store_limits_is_deleted() -> None:
    with mock(limits=StoreLimits(max_chats=1)) as m:
        first = m.create("one")
        m.scheduler.finish_all()
        with m.client.websocket_connect(WATCH, headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            second = m.create("two")
            events = reader.until(count(2))
    assert sorted((e["kind"], e["chat"]["id"]) for e in events) == sorted(
        [("deleted", first), ("created", second)]
    )


def test_the_watch_has_no_snapshot_and_ignores_messages_and_parts() -> None:
    with mock() as m:
        chat = m.create("/slow x")
        with m.client.websocket_connect(WATCH, headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            m.send(chat, "queued")  # a queue change, messages, parts: nothing on the watch
            m.scheduler.finish_all()  # the queued message runs next: the chat stays running
            events = reader.until(count(1))
    assert kinds(events) == [("status_change", "waiting")]


def test_a_watch_leaves_no_listener_behind_and_one_listener_serves_all_of_an_owners_watches() -> None:
    with mock() as m:
        chat = m.create("hello")
        owner = m.store.chat(UUID(chat)).owner_id
        with (
            m.client.websocket_connect(WATCH, headers=dict(ALICE)) as one,
            m.client.websocket_connect(WATCH, headers=dict(ALICE)) as two,
        ):
            m.scheduler.finish_all()
            frames = [one.receive_text(), two.receive_text()]
            during = m.store.owner_listener_count(owner)
        m.transcript(chat)  # a request after both watches ended
        after = m.store.owner_listener_count(owner)
    assert frames[0] == frames[1] and json.loads(frames[0])["kind"] == "status_change"
    assert (during, after) == (1, 0)
