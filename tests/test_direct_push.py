"""Direct writes: a caught-up watcher's socket gets each turn's frames, framed once, in one write."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from uuid import UUID

from websockets.frames import Frame, Opcode
from websockets.sync.client import connect

from mockserver.app.factory import create_app
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.models import ChatMessage, LivePart, Role
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.core.store import ChatStore
from mockserver.current.stream_wire import BATCH_SIZE, pack_batch
from mockserver.edge.fanout import LARGE_FRAME, Fanout
from mockserver.edge.origins import CorsPolicy
from mockserver.edge.push_socket import DIRECT_WRITE, PushOptions, direct_write, one_item_a_frame, text_frame
from mockserver.v1.watch import WatchMiddleware
from tests.app_settings import app_settings
from tests.server_thread import served_in_a_thread

TOKEN = DEMO_TOKENS["alice"]


def _store_with_chat() -> tuple[ChatStore, UUID]:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    alice = Directory.from_tokens(DEMO_TOKENS).authenticate(TOKEN)
    chat = store.create_chat(alice, workspace_id=None, title="", provider="p", model="m", metadata={})
    return store, chat.id


def _encode(event: ChatMessage | LivePart) -> str:
    return f"row {event.content['n']}" if isinstance(event, ChatMessage) else f"part {event.part}"


def _joined(frames: Any) -> bytes:
    return "|".join(frames).encode()


class _Socket:
    """A direct write that records what it took, and refuses while `full`."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.full = False

    def __call__(self, data: bytes) -> bool:
        if self.full:
            return False
        self.written.append(data)
        return True


def test_a_text_frame_is_the_one_websockets_would_send_at_every_length_encoding() -> None:
    for size in (0, 1, 125, 126, 65535, 65536, 70000):
        payload = b"x" * size
        assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False)


def test_the_wire_packs_items_into_frames_as_the_queue_would() -> None:
    stream = PushOptions(batch=BATCH_SIZE, pack=pack_batch)
    items = [f'{{"n":{n}}}' for n in range(BATCH_SIZE + 2)]
    assert stream.wire(items) == text_frame(pack_batch(items[:BATCH_SIZE]).encode()) + text_frame(
        pack_batch(items[BATCH_SIZE:]).encode()
    )
    rows = PushOptions(batch=1, pack=one_item_a_frame)
    assert rows.wire(["a", "é"]) == text_frame(b"a") + text_frame("é".encode())


async def _turns(count: int = 3) -> None:
    """Let the event loop run `count` turns."""
    for _ in range(count):
        await asyncio.sleep(0)


def test_direct_watchers_get_two_turns_in_one_write_framed_once_for_all() -> None:
    store, chat = _store_with_chat()
    framed: list[list[str]] = []

    def wire(frames: Any) -> bytes:
        framed.append(list(frames))
        return _joined(frames)

    async def scenario() -> tuple[list[_Socket], list[list[bytes]]]:
        fanout = Fanout(store, _encode, limit=10, wire=wire)
        sockets = [_Socket() for _ in range(3)]
        for socket in sockets:
            watcher, _ = fanout.join(chat, last_id=0)
            watcher.write_directly(socket)
        # When: a row and a part in one turn, a row in the next (a post, then its run), then
        # a row once those are written
        store.append_message(chat, Role.USER, {"n": 1})
        store.publish_partial(chat, UUID(int=1), "0", "chunk")
        await asyncio.sleep(0)
        store.append_message(chat, Role.USER, {"n": 2})
        before_they_are_written = [list(s.written) for s in sockets]
        await _turns()
        store.append_message(chat, Role.USER, {"n": 3})
        await _turns()
        return sockets, before_they_are_written

    sockets, early = asyncio.run(scenario())
    # Then: one write a socket for the two turns, framed once for all, then one for the third
    assert early == [[], [], []]
    assert framed == [["row 1", "part chunk", "row 2"], ["row 3"]]
    assert [s.written for s in sockets] == [[b"row 1|part chunk|row 2", b"row 3"]] * 3


def test_a_socket_that_cannot_take_a_write_gets_the_frames_in_its_queue_in_order() -> None:
    store, chat = _store_with_chat()

    async def scenario() -> tuple[list[bytes], list[str], bool]:
        fanout = Fanout(store, _encode, limit=10, wire=_joined)
        socket = _Socket()
        watcher, _ = fanout.join(chat, last_id=0)
        watcher.write_directly(socket)
        store.append_message(chat, Role.USER, {"n": 1})
        await _turns()
        # When: the socket's buffer is full for the next write, and a row comes after it
        socket.full = True
        store.append_message(chat, Role.USER, {"n": 2})
        await _turns()
        store.append_message(chat, Role.USER, {"n": 3})
        socket.full = False
        watcher.write_directly(socket)  # its queue is not empty: it stays on the queue
        return socket.written, list(watcher.frames), watcher.writer is None

    written, queued, on_the_queue = asyncio.run(scenario())
    # Then: the refused turn and what followed wait in the queue, in order, for the pump
    assert written == [b"row 1"]
    assert queued == ["row 2", "row 3"]
    assert on_the_queue


def test_a_watcher_turning_direct_with_frames_pending_does_not_get_them_twice() -> None:
    store, chat = _store_with_chat()

    async def scenario() -> tuple[list[bytes], list[bytes], list[str]]:
        fanout = Fanout(store, _encode, limit=10, wire=_joined)
        early, late = _Socket(), _Socket()
        first, _ = fanout.join(chat, last_id=0)
        first.write_directly(early)
        second, _ = fanout.join(chat, last_id=0)
        store.append_message(chat, Role.USER, {"n": 1})  # pending for the first, queued for the second
        queued = list(second.frames)
        second.frames.clear()  # as its pump sends it
        # When: the second turns direct before the turn ends
        second.write_directly(late)
        store.append_message(chat, Role.USER, {"n": 2})
        await _turns()
        return early.written, late.written, queued

    early, late, queued = asyncio.run(scenario())
    # Then: the first got the pending row when the second turned direct; each row once a socket
    assert early == [b"row 1", b"row 2"]
    assert queued == ["row 1"]
    assert late == [b"row 2"]


def test_a_large_frame_puts_direct_watchers_back_on_their_queues() -> None:
    store, chat = _store_with_chat()

    async def scenario() -> tuple[list[bytes], list[str]]:
        fanout = Fanout(store, lambda e: "x" * LARGE_FRAME, limit=10, wire=_joined)
        socket = _Socket()
        watcher, _ = fanout.join(chat, last_id=0)
        watcher.write_directly(socket)
        store.append_message(chat, Role.USER, {"n": 1})
        await _turns()
        return socket.written, list(watcher.frames)

    written, queued = asyncio.run(scenario())
    # Then: the queue sends it, one large frame at a time (Fanout.turn_for)
    assert written == []
    assert queued == ["x" * LARGE_FRAME]


def test_a_row_sent_with_the_backlog_is_not_written_again() -> None:
    store, chat = _store_with_chat()

    async def scenario() -> tuple[list[bytes], list[str]]:
        fanout = Fanout(store, _encode, limit=10, wire=_joined)
        socket = _Socket()
        watcher, _ = fanout.join(chat, last_id=0)
        watcher.write_directly(socket)
        watcher.last_id = 10**6  # as if these rows had gone with the backlog
        store.append_message(chat, Role.USER, {"n": 1})
        await _turns()
        return socket.written, list(watcher.frames)

    assert asyncio.run(scenario()) == ([], [])


# --- the watch over ASGI with a direct write, and over serve's own server -----------------------


def test_a_watcher_whose_socket_fills_is_closed_with_1008_past_its_queue_limit() -> None:
    store, chat = _store_with_chat()
    sent: list[dict[str, Any]] = []
    socket = _Socket()

    async def no_app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never reached
        raise AssertionError("watch-ws went to the app")

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "websocket.connect"}
        await asyncio.Event().wait()  # the client neither speaks nor leaves
        return {"type": "websocket.disconnect", "code": 1006}  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "websocket.send" and len(sent) > 2:
            await asyncio.Event().wait()  # the socket's buffer is full: a send never completes

    middleware = WatchMiddleware(
        no_app,
        store=store,
        directory=Directory.from_tokens(DEMO_TOKENS),
        origins=CorsPolicy(),
        queue_limit=5,
        close_timeout=0,  # the stalled client never takes the close frame
    )
    scope = {
        "type": "websocket",
        "path": f"/api/v2/chats/{chat}/messages/watch-ws",
        "query_string": b"",
        "headers": [(b"coder-session-token", TOKEN.encode()), (b"host", b"127.0.0.1")],
        "extensions": {"websocket.http.response": {}, DIRECT_WRITE: {"write_frames": socket}},
    }

    async def scenario() -> None:
        task = asyncio.ensure_future(middleware(scope, receive, send))
        for _ in range(10):  # accepted; the backlog is empty; the watcher turns direct
            await asyncio.sleep(0)
        store.append_message(chat, Role.USER, {"n": 0})
        await _turns()
        socket.full = True  # When: the socket stops taking frames
        for n in range(1, 21):
            store.append_message(chat, Role.USER, {"n": n})
            await _turns()
        await task

    asyncio.run(scenario())
    # Then: one row went directly, the rest to the queue, and past its limit the watcher closed
    assert len(socket.written) == 1
    assert sent[-1] == {
        "type": "websocket.close",
        "code": 1008,
        "reason": "watcher fell behind: more than 5 frames unsent; reconnect with after_id",
    }
    assert store.listener_count(chat) == 0


def test_serves_websocket_writes_whole_frames_only_between_the_accept_and_the_close() -> None:
    taken: list[bool] = []

    async def app(scope: Any, receive: Callable[[], Any], send: Callable[[Any], Any]) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        write = direct_write(scope)
        assert write is not None
        taken.append(write(text_frame(b"too early")))
        await send({"type": "websocket.accept"})
        taken.append(write(text_frame(b"direct")))
        await send({"type": "websocket.send", "text": "through ASGI"})
        await send({"type": "websocket.close", "code": 1000})
        taken.append(write(text_frame(b"too late")))

    with served_in_a_thread(app) as (host, port), connect(f"ws://{host}:{port}/") as ws:
        received = [ws.recv(timeout=10), ws.recv(timeout=10)]
    assert received == ["direct", "through ASGI"]
    assert taken == [False, True, False]


def test_a_thousand_frames_to_many_watchers_over_serves_server_arrive_whole_and_in_order() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(4))
    app = create_app(
        app_settings(validate_responses=False),
        clock=SteppingClock(),
        new_id=seeded_uuids(5),
        store=store,
        scheduler=ImmediateScheduler(),
    )
    headers = {"coder-session-token": TOKEN, "content-type": "application/json"}
    with served_in_a_thread(app) as (host, port):
        api = http.client.HTTPConnection(host, port, timeout=30)

        def call(method: str, path: str, body: Any = None) -> Any:
            api.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            return json.loads(api.getresponse().read())

        chat = call("POST", "/api/v2/chats", {"provider": "p", "model": "m"})["id"]
        url = f"ws://{host}:{port}/api/v2/chats/{chat}/messages/watch-ws"
        with ExitStack() as stack:
            watchers = [
                stack.enter_context(connect(url, additional_headers={"coder-session-token": TOKEN}))
                for _ in range(20)
            ]
            for ws in watchers:
                json.loads(ws.recv(timeout=10))  # the system prompt: the backlog
            # When: posts whose runs are written while they watch
            for n in range(40):
                call("POST", f"/api/v2/chats/{chat}/messages", {"content": f"post {n}"})
            stored = call("GET", f"/api/v2/chats/{chat}/messages")[1:]
            seen = []
            for ws in watchers:
                rows: list[Any] = []
                while len(rows) < len(stored):
                    data = json.loads(ws.recv(timeout=10))["data"]
                    if "id" in data:
                        rows.append(data)
                seen.append(rows)
        api.close()
    # Then: every watcher got every stored row, whole, once, in id order
    assert all(rows == stored for rows in seen)
