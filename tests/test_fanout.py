"""Fan-out: one encoding per row, bounded queues, a slow watcher closed, nothing left behind."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mockserver.app.factory import create_app
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.models import ChatMessage, LivePart, Role
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.core.stopping import Stopping
from mockserver.core.store import ChatStore
from mockserver.edge.fanout import LARGE_FRAME, CloseCode, Fanout, RowsAndParts
from mockserver.edge.origins import CorsPolicy
from mockserver.edge.row_frames import RowFrames
from mockserver.v1.watch import WatchMiddleware
from tests.agent_support import ALICE, new_chat
from tests.app_settings import app_settings

Event = ChatMessage | LivePart


def _store_with_chat() -> tuple[ChatStore, UUID]:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    alice = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
    chat = store.create_chat(alice, workspace_id=None, title="", provider="p", model="m", metadata={})
    return store, chat.id


def _counting(encoded: list[Event]) -> Callable[[Event], str]:
    def encode(event: Event) -> str:
        encoded.append(event)
        return f"frame {len(encoded)}"

    return encode


def test_a_row_is_encoded_once_and_the_same_frame_goes_to_every_watcher() -> None:
    store, chat = _store_with_chat()
    encoded: list[Event] = []

    async def scenario() -> list[list[str]]:
        fanout = Fanout(store, _counting(encoded), limit=10)
        watchers = [fanout.join(chat, last_id=1)[0] for _ in range(50)]
        # When
        store.append_message(chat, Role.USER, {"n": 1})
        store.publish_partial(chat, UUID(int=1), "0", "chunk")
        return [list(w.frames) for w in watchers]

    queues = asyncio.run(scenario())
    # Then: two events, two encodings, one shared string object per event
    assert len(encoded) == 2
    assert {tuple(q) for q in queues} == {("frame 1", "frame 2")}
    assert all(q[0] is queues[0][0] for q in queues)


def test_a_backlog_row_is_encoded_once_however_many_watchers_join_and_only_when_sent() -> None:
    store, chat = _store_with_chat()
    encoded: list[Event] = []
    for n in range(5):
        store.append_message(chat, Role.USER, {"n": n})
    rows = store.messages_of(chat)

    async def scenario() -> tuple[int, list[list[str]], int]:
        fanout = Fanout(store, _counting(encoded), limit=10)
        backlogs = []
        for _ in range(3):
            fanout.join(chat, last_id=0)
            feed = fanout.feed_of(chat)
            assert isinstance(feed, RowsAndParts)
            backlogs.append(map(feed.row, rows))
        first_two = [next(backlogs[0]), next(backlogs[0])]
        after_two = len(encoded)
        sent = [first_two + list(backlogs[0]), list(backlogs[1]), list(backlogs[2])]
        store.append_message(chat, Role.USER, {"n": "live"})  # encoded once for the queues, not kept
        fanout.join(chat, last_id=0)
        feed = fanout.feed_of(chat)
        assert isinstance(feed, RowsAndParts)
        sent.append(list(map(feed.row, store.messages_of(chat))))  # a late joiner's backlog
        return after_two, sent, len(encoded)

    after_two, sent, total = asyncio.run(scenario())
    # Then: backlog rows are encoded as they are sent, each once for every watcher; the live row
    # once for the queues and once more for the late joiner's backlog
    assert after_two == 2
    assert total == len(rows) + 2
    assert sent[0] == sent[1] == sent[2] == sent[3][:-1]
    assert all(a is b for backlog in sent[1:] for a, b in zip(backlog, sent[0], strict=False))


def test_row_frames_keep_no_more_than_their_budget_and_encode_the_rest_each_time() -> None:
    store, chat = _store_with_chat()
    rows = [store.append_message(chat, Role.USER, {"n": n}) for n in range(3)]
    encoded: list[Event] = []
    frames = RowFrames(_counting(encoded), budget=len("frame 1") * 2)

    # When: each row asked for twice
    for row in rows:
        frames.of(row)
    for row in rows:
        frames.of(row)

    # Then: the first two fit and are kept; the third is encoded again
    assert encoded == [*rows, rows[2]]


def test_a_row_replaced_under_the_same_id_is_encoded_again() -> None:
    store, chat = _store_with_chat()
    row = store.append_message(chat, Role.USER, {"text": "before"})
    encoded: list[Event] = []
    frames = RowFrames(_counting(encoded))
    replaced = ChatMessage(chat, row.id, row.created_at, row.role, {"text": "after"})

    # When
    got = [frames.of(row), frames.of(row), frames.of(replaced), frames.of(replaced)]

    # Then
    assert got == ["frame 1", "frame 1", "frame 2", "frame 2"]
    assert encoded == [row, replaced]


def test_a_watcher_past_its_queue_limit_is_closed_and_its_queue_dropped_others_untouched() -> None:
    store, chat = _store_with_chat()

    async def scenario() -> tuple[Any, Any, list[str]]:
        fanout = Fanout(store, lambda e: f"row {getattr(e, 'id', '-')}", limit=3)
        stalled, _ = fanout.join(chat, last_id=1)
        reader, _ = fanout.join(chat, last_id=1)
        got: list[str] = []
        for n in range(5):
            store.append_message(chat, Role.USER, {"n": n})
            got.extend(reader.frames)  # the reader keeps up
            reader.frames.clear()
        return stalled.closing, list(stalled.frames), got

    closing, stalled_frames, got = asyncio.run(scenario())
    assert closing is not None and closing.code == CloseCode.POLICY_VIOLATION
    assert "fell behind" in closing.reason and "after_id" in closing.reason
    assert stalled_frames == []  # memory returned at once
    assert got == ["row 2", "row 3", "row 4", "row 5", "row 6"]


def test_when_the_last_watcher_leaves_the_store_keeps_no_listener_for_the_chat() -> None:
    store, chat = _store_with_chat()

    async def scenario() -> tuple[int, int, int, int]:
        fanout = Fanout(store, str, limit=10)
        leaves = [fanout.join(chat, last_id=0)[1] for _ in range(100)]
        during = (store.listener_count(chat), fanout.watcher_count(chat))
        for leave in leaves:
            leave()
        return (*during, store.listener_count(chat), fanout.watcher_count(chat))

    # Then: one store listener for 100 watchers, none once they left
    gc.collect()
    gc.disable()
    try:
        assert asyncio.run(scenario()) == (1, 100, 0, 0)
        assert store._listeners == {}  # no per-chat list left behind either
        # ... and the topic itself is freed by reference counting, not by a later full collection
        assert not [thing for thing in gc.get_objects() if type(thing).__name__ == "_ChatWatchers"]
    finally:
        gc.enable()


def _app(store: ChatStore, **settings: Any) -> Any:
    return create_app(
        app_settings(**settings), new_id=seeded_uuids(5), store=store, scheduler=ImmediateScheduler()
    )


def test_watchers_over_the_app_leave_no_listener_behind() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(4))
    with TestClient(_app(store)) as client:
        chat = new_chat(client)
        url = f"/api/v2/chats/{chat}/messages/watch-ws"
        for _ in range(3):
            with client.websocket_connect(url, headers=dict(ALICE)) as ws:
                json.loads(ws.receive_text())  # the system prompt
                assert store.listener_count(UUID(chat)) == 1
        # Then: the app has returned for each; nothing follows the chat any more
        assert store.listener_count(UUID(chat)) == 0


def test_when_the_server_begins_to_stop_every_watcher_gets_going_away() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(4))
    stopping = Stopping()
    app = create_app(
        app_settings(), new_id=seeded_uuids(5), store=store, scheduler=ImmediateScheduler(), stopping=stopping
    )
    with TestClient(app) as client:
        chat = new_chat(client)
        with client.websocket_connect(f"/api/v2/chats/{chat}/messages/watch-ws", headers=dict(ALICE)) as ws:
            ws.receive_text()
            # When: the server begins to stop
            stopping.begin()
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1001, "server stopping")
    assert store.listener_count(UUID(chat)) == 0


# --- the watch loop at the ASGI level, against servers that misbehave -----------------------


def _watch_scope(chat: UUID) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": f"/api/v2/chats/{chat}/messages/watch-ws",
        "query_string": b"",
        "headers": [(b"coder-session-token", DEMO_TOKENS["alice"].encode()), (b"host", b"127.0.0.1")],
        "extensions": {"websocket.http.response": {}},
    }


def _middleware(store: ChatStore, limit: int = 1000) -> WatchMiddleware:
    async def no_app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never reached
        raise AssertionError("watch-ws went to the app")

    return WatchMiddleware(
        no_app,
        store=store,
        directory=Directory.from_tokens(DEMO_TOKENS),
        origins=CorsPolicy(),
        queue_limit=limit,
        close_timeout=0,  # the stalled client below never takes the close frame
    )


def _silent_client(sent: list[dict[str, Any]]) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A client's side of `receive`: the connect, then nothing (it neither speaks nor leaves)."""

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "websocket.connect"}
        await asyncio.Event().wait()
        return {"type": "websocket.disconnect", "code": 1006}  # pragma: no cover

    return receive


def test_a_server_that_refuses_to_send_after_dropping_the_client_ends_the_watch_quietly() -> None:
    # uvicorn's keepalive timeout closes a socket under the app; its next send raises this.
    store, chat = _store_with_chat()
    sent: list[dict[str, Any]] = []

    async def scenario() -> None:
        receive = _silent_client(sent)

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send" and len(sent) >= 2:
                raise RuntimeError(
                    "Unexpected ASGI message 'websocket.send', after sending 'websocket.close'."
                )
            sent.append(message)

        task = asyncio.ensure_future(_middleware(store)(_watch_scope(chat), receive, send))
        while len(sent) < 2:  # accepted, the system prompt sent
            await asyncio.sleep(0)
        # When: a row is written after the server gave up on the client
        store.append_message(chat, Role.USER, {"n": 1})
        await task  # Then: no exception reaches the server

    asyncio.run(scenario())
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send"]
    assert store.listener_count(chat) == 0


def test_a_client_that_never_reads_is_closed_with_1008_and_costs_nothing_more() -> None:
    store, chat = _store_with_chat()
    sent: list[dict[str, Any]] = []

    async def scenario() -> None:
        receive = _silent_client(sent)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "websocket.send":
                await asyncio.Event().wait()  # the socket's buffer is full: a send never completes

        task = asyncio.ensure_future(_middleware(store, limit=5)(_watch_scope(chat), receive, send))
        while len(sent) < 2:
            await asyncio.sleep(0)
        for n in range(20):
            store.append_message(chat, Role.USER, {"n": n})
        await task

    asyncio.run(scenario())
    # Then: the close frame was offered (a stalled client may never take it) and the watch ended
    assert sent[-1] == {
        "type": "websocket.close",
        "code": 1008,
        "reason": "watcher fell behind: more than 5 frames unsent; reconnect with after_id",
    }
    assert store.listener_count(chat) == 0


def test_large_frames_go_out_one_at_a_time_and_small_ones_never_wait() -> None:
    store, _ = _store_with_chat()
    order: list[str] = []

    async def scenario() -> None:
        fanout = Fanout(store, str, limit=10)

        async def sending(name: str, frame: str) -> None:
            async with fanout.turn_for(frame):
                order.append(f"{name} begins")
                await asyncio.sleep(0)  # the send hands the loop over
                order.append(f"{name} ends")

        large = "x" * LARGE_FRAME
        await asyncio.gather(sending("large 1", large), sending("large 2", large), sending("small", "{}"))

    asyncio.run(scenario())
    assert order == [
        "large 1 begins",
        "small begins",
        "large 1 ends",
        "small ends",
        "large 2 begins",
        "large 2 ends",
    ]
