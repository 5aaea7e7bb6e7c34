"""One topic's events to many watchers: each event encoded once, each watcher a bounded queue.

A topic is a chat (its rows and changes, `ChatStore.subscribe`) or an owner (their chats'
changes, `ChatStore.subscribe_owner`). The store calls one listener per watched topic (not one
per watcher); that listener turns the event into frames once (`encode`, or a stateful `Feed`
made per topic) and offers the same strings to every watcher of the topic. A watcher holds at
most `limit` frames: one that falls further behind is told to close (policy violation), its
queue dropped at once, so a client that stops reading costs the others nothing and the mock no
memory. When a topic's last watcher leaves, its listener leaves the store.

A watcher whose socket can be written to directly (`Watcher.write_directly`, once its queue is
empty) skips the queue: the frames of one turn of the event loop are framed once for all such
watchers (the Fanout's `wire`) and written to each socket in the turn after next, one write a
socket, no task woken. A socket that cannot take them (its buffer full, closing) is given them
in its queue instead, and from then on uses the queue until it is empty again.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol
from uuid import UUID

from mockserver.core.changes import ChatEvent
from mockserver.core.models import ChatMessage, LivePart
from mockserver.core.store import ChatStore, Eviction
from mockserver.edge.row_frames import RowFrames

__all__ = ["LARGE_FRAME", "CloseCode", "Closing", "Fanout", "Feed", "Frame", "RowsAndParts", "Watcher"]

Event = ChatMessage | LivePart

# A frame for every watcher of a topic, and the row id it carries (None: not a row).
Frame = tuple[str, int | None]


class Feed(Protocol):
    """One topic's store events as frames, each encoded once (it may keep state between events)."""

    def frames(self, event: Any) -> Iterable[Frame]:
        """The frames `event` becomes, in order (none for an event its wire does not show)."""


class RowsAndParts:
    """The seed's feed: each row and live part one frame; other changes are not shown.

    One per topic: a live row is encoded once for the watchers it reaches; the rows of joining
    watchers' backlogs (`row`) once for all of them.
    """

    __slots__ = ("_encode", "row")

    def __init__(self, encode: Callable[[Event], str]) -> None:
        self._encode = encode
        self.row: Callable[[ChatMessage], str] = RowFrames(encode).of

    def frames(self, event: ChatEvent) -> Iterable[Frame]:
        if isinstance(event, ChatMessage):
            return ((self._encode(event), event.id),)
        if isinstance(event, LivePart):
            return ((self._encode(event), None),)
        return ()


# A frame this long (characters) is a large one: copying it into a socket takes milliseconds.
LARGE_FRAME = 64 * 1024


class CloseCode(enum.IntEnum):
    """The WebSocket close codes (RFC 6455 section 7.4.1) the watch stream ends with."""

    NORMAL = 1000  # the stream has nothing more to send: its chat was evicted
    POLICY_VIOLATION = 1008  # the client fell more than the queue limit behind


@dataclass(frozen=True, slots=True)
class Closing:
    """Why a watcher is to be closed: the close frame's code and reason."""

    code: int  # a CloseCode, or any code the control plane asked for
    reason: str


# A socket the topic may write frames to (edge/push_socket.py's `DirectWrite`): writes the
# bytes now, or returns False (nothing written) when the socket cannot take them.
DirectWriter = Callable[[bytes], bool]


class Watcher:
    """One watch-ws client's queue of frames still to send, and whether it must close.

    Offered and drained on the event loop's thread only (the Fanout hands events over).
    """

    __slots__ = ("_closed", "_ready", "_topic", "closing", "frames", "last_id", "limit", "writer")

    def __init__(self, limit: int, last_id: int, topic: _ChatWatchers | None = None) -> None:
        self.limit = limit
        self.last_id = last_id  # rows with an id up to this one were sent with the backlog
        self.frames: deque[str] = deque()
        self.closing: Closing | None = None
        self.writer: DirectWriter | None = None  # set while the topic writes to the socket itself
        self._topic = topic
        self._ready = asyncio.Event()
        self._closed = asyncio.Event()

    def write_directly(self, writer: DirectWriter) -> None:
        """With nothing queued, let the topic write the next frames to `writer` itself."""
        if self._topic is not None and self.writer is None and not self.frames and self.closing is None:
            self._topic.write_directly(self, writer)

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

    def close(self, code: int, reason: str) -> None:
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
    """The watchers of every topic, fed from the store with one encoding per event.

    `encode` turns a row or live part into its text frame (the generation's wire shape); or
    `feed` makes, for a topic's first watcher, the Feed that turns its events into frames.
    `subscribe` is how a topic's listener joins the store (default: a chat's,
    `store.subscribe`). Events may come from another thread (a test, a control plane): they
    are handed to the loop the watchers run on.
    """

    def __init__(
        self,
        store: ChatStore,
        encode: Callable[[Event], str] | None = None,
        *,
        limit: int,
        feed: Callable[[UUID], Feed] | None = None,
        subscribe: Callable[[UUID, Callable[[Any], None]], Callable[[], None]] | None = None,
        wire: Callable[[Sequence[str]], bytes] | None = None,
    ) -> None:
        """`wire`: frames as the bytes written to a direct watcher's socket (None: never direct)."""
        if limit < 1:
            raise ValueError("a watcher's queue holds at least one frame")
        self._store = store
        if (encode is None) == (feed is None):
            raise ValueError("give either encode or feed")
        if encode is not None:
            feed = lambda _topic: RowsAndParts(encode)  # noqa: E731 - one a topic: its rows' frames
        assert feed is not None
        self._feed = feed
        self._subscribe = subscribe or store.subscribe
        self._wire = wire
        self.limit = limit
        self._chats: dict[UUID, _ChatWatchers] = {}
        self._large = _LargeFrameTurn()
        store.on_evict(self._evicted)

    def turn_for(self, frame: str) -> contextlib.AbstractAsyncContextManager[object]:
        """What a watcher holds while sending `frame`: the large-frame turn, or nothing."""
        return self._large if len(frame) >= LARGE_FRAME else _NO_TURN

    def join(self, chat_id: UUID, last_id: int) -> tuple[Watcher, Callable[[], None]]:
        """A new watcher of the topic and the function that removes it.

        Events the store makes from now on reach it; read the backlog before any await.
        """
        watchers = self._chats.get(chat_id)
        if watchers is None:
            watchers = _ChatWatchers(asyncio.get_running_loop(), self._feed(chat_id), self._wire)
            watchers.unsubscribe = self._subscribe(chat_id, watchers.listen)
            self._chats[chat_id] = watchers
        watcher = Watcher(self.limit, last_id, watchers if self._wire is not None else None)
        watchers.members.add(watcher)
        watchers.queued.add(watcher)

        def leave() -> None:
            watchers.members.discard(watcher)
            watchers.queued.discard(watcher)
            watchers.direct.discard(watcher)
            watcher.writer = None
            if not watchers.members and self._chats.get(chat_id) is watchers:
                del self._chats[chat_id]
                watchers.unsubscribe()
                # The unsubscribe holds the listener, a method of `watchers`: without the
                # cycle, reference counting frees the topic now, not a full collection later.
                watchers.unsubscribe = _NOTHING

        return watcher, leave

    def watcher_count(self, chat_id: UUID) -> int:
        """How many watchers follow the topic."""
        watchers = self._chats.get(chat_id)
        return 0 if watchers is None else len(watchers.members)

    def feed_of(self, chat_id: UUID) -> Feed | None:
        """The feed of a watched topic (None when nobody watches it)."""
        watchers = self._chats.get(chat_id)
        return None if watchers is None else watchers.feed

    def publish(self, topic: UUID, event: Any) -> None:
        """Hand `event` to a watched topic's feed as if the store had sent it (e.g. an eviction)."""
        watchers = self._chats.get(topic)
        if watchers is not None:
            watchers.listen(event)

    def close_topic(self, chat_id: UUID, code: int, reason: str) -> int:
        """Ask every watcher of the topic to close with `code`; returns how many were asked."""
        watchers = self._chats.get(chat_id)
        if watchers is None:
            return 0
        count = len(watchers.members)
        watchers.call(partial(watchers.close_members, code, reason))
        return count

    def _evicted(self, eviction: Eviction) -> None:
        watchers = self._chats.get(eviction.chat.id)
        if watchers is not None:
            reason = f"chat evicted ({eviction.reason})"
            watchers.call(partial(watchers.close_members, CloseCode.NORMAL, reason))


_NO_TURN: contextlib.AbstractAsyncContextManager[object] = contextlib.nullcontext()


def _NOTHING() -> None:
    """The unsubscribe of a topic that has left the store."""


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
    """One chat's watchers and the one store listener that feeds them.

    Every member is either queued (each frame offered to its queue as it comes) or direct (its
    socket written to at the end of the turn, `pending` the turn's frames so far). A member
    turns direct only when nothing is pending (`write_directly` writes what is, first), so the
    direct members when the turn ends are those that were direct as each of its frames came.
    """

    __slots__ = (
        "_flush_soon",
        "_loop",
        "_thread",
        "_wire",
        "direct",
        "feed",
        "members",
        "pending",
        "queued",
        "unsubscribe",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        feed: Feed,
        wire: Callable[[Sequence[str]], bytes] | None = None,
    ) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self._wire = wire
        self._flush_soon: asyncio.Handle | None = None
        self.feed = feed
        self.members: set[Watcher] = set()
        self.queued: set[Watcher] = set()
        self.direct: set[Watcher] = set()
        self.pending: list[Frame] = []
        self.unsubscribe: Callable[[], None] = _NOTHING

    def listen(self, event: Any) -> None:
        self.call(partial(self._deliver, event))

    def call(self, action: Callable[[], None]) -> None:
        """Run `action` on the watchers' loop: now if this is its thread, else handed over."""
        if threading.get_ident() == self._thread:
            action()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(action)

    def close_members(self, code: int, reason: str) -> None:
        for watcher in tuple(self.members):
            watcher.close(code, reason)

    def write_directly(self, watcher: Watcher, writer: DirectWriter) -> None:
        """From now on, write `watcher`'s frames to `writer` (its queue is empty)."""
        self.flush()  # what is pending went to its queue already: it is not the watcher's to get
        watcher.writer = writer
        self.queued.discard(watcher)
        self.direct.add(watcher)

    def _to_queue(self, watcher: Watcher) -> None:
        watcher.writer = None
        self.direct.discard(watcher)
        self.queued.add(watcher)

    def _deliver(self, event: Any) -> None:
        # The feed sees every event, even with no member left: a stateful feed stays in step.
        for frame, row_id in self.feed.frames(event):  # encoded once, however many watchers
            if self.direct:
                if len(frame) >= LARGE_FRAME:
                    # Copied into every socket at once, it would stall the loop: the queues
                    # send large frames one at a time (`Fanout.turn_for`).
                    self.flush()
                    for watcher in tuple(self.direct):
                        self._to_queue(watcher)
                else:
                    self.pending.append((frame, row_id))
                    if self._flush_soon is None:
                        self._flush_soon = self._loop.call_soon(self._next_turn)
            for watcher in tuple(self.queued):
                watcher.offer(frame, row_id)

    def _next_turn(self) -> None:
        # A post writes its row in one turn and starts its run's rows for the next (a callback
        # due at once): waiting one more turn writes both in one write to each socket.
        self._flush_soon = self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write the turn's frames, framed once, to every direct member; a socket that cannot
        take them now gets them in its queue."""
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        pending = self.pending
        self.pending = []
        if not pending or not self.direct:
            return
        assert self._wire is not None  # no member turns direct without it
        data = self._wire([frame for frame, _ in pending])
        rows = [row_id for _, row_id in pending if row_id is not None]
        first_row, last_row = (rows[0], rows[-1]) if rows else (None, None)
        for watcher in tuple(self.direct):
            writer = watcher.writer
            if (
                writer is not None
                and watcher.closing is None
                and (first_row is None or first_row > watcher.last_id)
                and writer(data)
            ):
                if last_row is not None:
                    watcher.last_id = last_row
                continue
            self._to_queue(watcher)
            for frame, row_id in pending:
                watcher.offer(frame, row_id)
