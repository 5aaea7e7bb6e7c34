"""One chat's rows to many watchers: each row encoded once, each watcher a bounded queue.

The store calls one listener per watched chat (not one per watcher); that listener encodes the
event to its frame once and offers the same string to every watcher of the chat. A watcher
holds at most `limit` frames: one that falls further behind is told to close (policy
violation), its queue dropped at once, so a client that stops reading costs the others nothing
and the mock no memory. When a chat's last watcher leaves, its listener leaves the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from mockserver.core.changes import ChatEvent
from mockserver.core.models import ChatMessage, LivePart
from mockserver.core.store import ChatStore, Eviction

__all__ = ["LARGE_FRAME", "CloseCode", "Closing", "Fanout", "Watcher"]

Event = ChatMessage | LivePart

# A frame this long (characters) is a large one: copying it into a socket takes milliseconds.
LARGE_FRAME = 64 * 1024


class CloseCode(enum.IntEnum):
    """The WebSocket close codes (RFC 6455 section 7.4.1) the watch stream ends with."""

    NORMAL = 1000  # the stream has nothing more to send: its chat was evicted
    POLICY_VIOLATION = 1008  # the client fell more than the queue limit behind


@dataclass(frozen=True, slots=True)
class Closing:
    """Why a watcher is to be closed: the close frame's code and reason."""

    code: CloseCode
    reason: str


class Watcher:
    """One watch-ws client's queue of frames still to send, and whether it must close.

    Offered and drained on the event loop's thread only (the Fanout hands events over).
    """

    __slots__ = ("_closed", "_ready", "closing", "frames", "last_id", "limit")

    def __init__(self, limit: int, last_id: int) -> None:
        self.limit = limit
        self.last_id = last_id  # rows with an id up to this one were sent with the backlog
        self.frames: deque[str] = deque()
        self.closing: Closing | None = None
        self._ready = asyncio.Event()
        self._closed = asyncio.Event()

    def offer(self, frame: str, row_id: int | None) -> None:
        """Queue a frame (`row_id` None for a live part); past the limit, close instead."""
        if self.closing is not None:
            return
        if row_id is not None:
            if row_id <= self.last_id:
                return  # already sent with the backlog
            self.last_id = row_id
        if len(self.frames) >= self.limit:
            self.close(
                CloseCode.POLICY_VIOLATION,
                f"watcher fell behind: more than {self.limit} frames unsent; reconnect with after_id",
            )
            return
        self.frames.append(frame)
        self._ready.set()

    def close(self, code: CloseCode, reason: str) -> None:
        """Ask the watcher to close (the first reason wins); frames not yet sent are dropped."""
        if self.closing is None:
            self.closing = Closing(code, reason)
            self.frames.clear()
        self._ready.set()
        self._closed.set()

    async def until_closing(self) -> None:
        """Until the watcher is asked to close (even while a send is stuck on a slow client)."""
        await self._closed.wait()

    async def wait(self) -> None:
        """Until a frame is queued or the watcher must close."""
        await self._ready.wait()
        if not self.frames:
            self._ready.clear()


class Fanout:
    """The watchers of every chat, fed from the store with one encoding per event.

    `encode` turns an event into its text frame (the generation's wire shape). Rows may be
    written from another thread (a test, a control plane): they are handed to the loop the
    watchers run on.
    """

    def __init__(self, store: ChatStore, encode: Callable[[Event], str], *, limit: int) -> None:
        if limit < 1:
            raise ValueError("a watcher's queue holds at least one frame")
        self._store = store
        self._encode = encode
        self.limit = limit
        self._chats: dict[UUID, _ChatWatchers] = {}
        self._large = _LargeFrameTurn()
        store.on_evict(self._evicted)

    def turn_for(self, frame: str) -> contextlib.AbstractAsyncContextManager[object]:
        """What a watcher holds while sending `frame`: the large-frame turn, or nothing."""
        return self._large if len(frame) >= LARGE_FRAME else _NO_TURN

    def join(self, chat_id: UUID, last_id: int) -> tuple[Watcher, Callable[[], None]]:
        """A new watcher of the chat and the function that removes it.

        Rows the store writes from now on reach it; list the backlog before any await.
        """
        watchers = self._chats.get(chat_id)
        if watchers is None:
            watchers = _ChatWatchers(asyncio.get_running_loop(), self._encode)
            watchers.unsubscribe = self._store.subscribe(chat_id, watchers.listen)
            self._chats[chat_id] = watchers
        watcher = Watcher(self.limit, last_id)
        watchers.members.add(watcher)

        def leave() -> None:
            watchers.members.discard(watcher)
            if not watchers.members and self._chats.get(chat_id) is watchers:
                del self._chats[chat_id]
                watchers.unsubscribe()

        return watcher, leave

    def watcher_count(self, chat_id: UUID) -> int:
        """How many watchers follow the chat."""
        watchers = self._chats.get(chat_id)
        return 0 if watchers is None else len(watchers.members)

    def _evicted(self, eviction: Eviction) -> None:
        watchers = self._chats.get(eviction.chat.id)
        if watchers is not None:
            reason = f"chat evicted ({eviction.reason})"
            watchers.call(partial(watchers.close_members, CloseCode.NORMAL, reason))


_NO_TURN: contextlib.AbstractAsyncContextManager[object] = contextlib.nullcontext()


class _LargeFrameTurn:
    """Large frames go out one at a time, and use at most half of the event loop's time.

    Handing a 10 MB frame to the server costs tens of milliseconds (it is copied a few times
    on its way to the socket), once per watcher. One at a time, and after each a pause as long
    as it took, other requests (the post that wrote the row, a GET of another chat) get their
    turns between: the frames go out at half speed instead of stalling the whole server.
    """

    def __init__(self) -> None:
        self._one = asyncio.Lock()
        self._began = 0.0

    async def __aenter__(self) -> object:
        await self._one.acquire()
        self._began = time.monotonic()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await asyncio.sleep(time.monotonic() - self._began)
        finally:
            self._one.release()


class _ChatWatchers:
    """One chat's watchers and the one store listener that feeds them."""

    __slots__ = ("_encode", "_loop", "_thread", "members", "unsubscribe")

    def __init__(self, loop: asyncio.AbstractEventLoop, encode: Callable[[Event], str]) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self._encode = encode
        self.members: set[Watcher] = set()
        self.unsubscribe: Callable[[], None] = lambda: None

    def listen(self, event: ChatEvent) -> None:
        if isinstance(event, ChatMessage | LivePart):  # the rows and parts; V1 shows no other change
            self.call(partial(self._deliver, event))

    def call(self, action: Callable[[], None]) -> None:
        """Run `action` on the watchers' loop: now if this is its thread, else handed over."""
        if threading.get_ident() == self._thread:
            action()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(action)

    def close_members(self, code: CloseCode, reason: str) -> None:
        for watcher in tuple(self.members):
            watcher.close(code, reason)

    def _deliver(self, event: Event) -> None:
        if not self.members:
            return
        frame = self._encode(event)  # once, however many watchers
        row_id = event.id if isinstance(event, ChatMessage) else None
        for watcher in tuple(self.members):
            watcher.offer(frame, row_id)
