"""`GET /api/v2/chats/{chat}/stream`: a chat's live stream (openapi/current/WIRE.md section 7.1).

A one-way WebSocket outside the document, so it sits in front of the Connexion app as plain
ASGI middleware. Refusals come before the upgrade as Coder's HTTP errors, in coderd's order:
authentication (header, cookie or query, as every route), the `{chat}` UUID, the chat itself
(404), `after_id` (400 `Invalid after_id parameter.`), then, in `websocket.Accept`, a
cross-origin browser handshake (403); a GET that is no upgrade is a 426. On connect the client gets the snapshot (messages after `after_id`, the queue,
the status and what goes with it), then the open step's parts so far and every live event,
each frame a JSON array of at most 256 events. A client more than the queue limit behind is
closed with 1008; the control plane may close a chat's streams with any code; the limits
layer closes every WebSocket with 1001 when the server begins to stop.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from mockserver.core.directory import Directory
from mockserver.core.errors import ChatNotFound, InvalidQueryParam, MockError
from mockserver.core.models import Chat
from mockserver.core.store import ChatStore
from mockserver.current.inputs import parse_go_int
from mockserver.current.stream_feed import ChatStreamFeed
from mockserver.current.stream_wire import BATCH_SIZE, pack_batch
from mockserver.current.wire import last_assistant_id
from mockserver.edge.auth import session_token
from mockserver.edge.chat_param import ResolveChat, load_chat
from mockserver.edge.fanout import Fanout
from mockserver.edge.origins import CorsPolicy
from mockserver.edge.push_socket import (
    PushOptions,
    check_origin,
    direct_write,
    refuse,
    refuse_plain_http,
    serve,
)
from mockserver.edge.streams import OpenStreams

__all__ = ["FRAME_CHARS", "STREAM_PATH", "StreamMiddleware", "snapshot_frames", "stream_middleware"]

STREAM_PATH = re.compile(r"/api/v2/chats/(?P<chat>[^/]+)/stream(?:/parts)?")
# Characters of events after which a snapshot frame is closed (see `snapshot_frames`).
FRAME_CHARS = 256 * 1024


def snapshot_frames(events: Iterator[str], most_chars: int = FRAME_CHARS) -> Iterator[str]:
    """The snapshot's frames: at most 256 events each (coderd's batch), and, once a frame holds
    `most_chars` characters of events, no more (the mock's choice: a client still reads arrays of
    at most 256, and ten clients joining a long transcript hold ten small frames, not ten copies)."""
    batch: list[str] = []
    size = 0
    for event in events:
        batch.append(event)
        size += len(event)
        if len(batch) == BATCH_SIZE or size >= most_chars:
            yield pack_batch(batch)
            batch, size = [], 0
    if batch:
        yield pack_batch(batch)


def after_id_of(scope: Scope) -> int:
    """`after_id` as streamChat reads it: empty or absent is 0, else strconv.ParseInt(v, 10, 64)."""
    raw = ""
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if name == "after_id":
            raw = value  # r.URL.Query().Get: the first value
            break
    if raw == "":
        return 0
    try:
        return parse_go_int(raw, 64)
    except ValueError as error:
        raise InvalidQueryParam("Invalid after_id parameter.", str(error)) from None


class StreamMiddleware:
    """Answers stream WebSockets (the front layer, front.py, hands it their paths)."""

    def __init__(
        self,
        *,
        store: ChatStore,
        directory: Directory,
        origins: CorsPolicy,
        queue_limit: int,
        streams: OpenStreams,
        resolve_chat: ResolveChat | None = None,
        close_timeout: float = 2.0,
    ) -> None:
        """`close_timeout`: how long a close frame may wait for a client that stopped reading."""
        self._store = store
        self._resolve_chat = resolve_chat or (lambda user, raw: load_chat(store, user, raw))
        self._directory = directory
        self._origins = origins
        self._options = PushOptions(batch=BATCH_SIZE, pack=pack_batch, close_timeout=close_timeout)
        self._fanout = Fanout(
            store,
            limit=queue_limit,
            feed=lambda chat_id: ChatStreamFeed(store, chat_id),
            wire=self._options.wire,
        )
        streams.add(self._fanout)

    async def answer(self, scope: Scope, receive: Receive, send: Send, raw_chat: str) -> None:
        """Serve a request for a stream path (`STREAM_PATH`): a WebSocket, or a plain GET's refusal."""
        if scope["type"] == "http":
            await refuse_plain_http(
                scope,
                receive,
                send,
                partial(self._checked, scope, raw_chat),
                "Failed to open chat stream.",
            )
        else:
            await self._stream(WebSocket(scope, receive, send), raw_chat, receive, send)

    def _checked(self, scope: Scope, raw_chat: str) -> tuple[Chat, int]:
        """The chat and `after_id`, or the refusal, in coderd's order."""
        user = self._directory.authenticate(session_token(scope))
        chat = self._resolve_chat(user, raw_chat)
        return chat, after_id_of(scope)

    async def _stream(self, websocket: WebSocket, raw_chat: str, receive: Receive, send: Send) -> None:
        try:
            chat, after_id = self._checked(websocket.scope, raw_chat)
            check_origin(websocket.scope, self._origins)  # websocket.Accept, after the route's checks
        except MockError as error:
            await refuse(websocket, error)
            return

        # Join, then take the snapshot, with no await between: the feed and the snapshot see the
        # same store, so nothing is missed and nothing repeated.
        watcher, leave = self._fanout.join(chat.id, last_id=0)
        try:
            feed = self._fanout.feed_of(chat.id)
            assert isinstance(feed, ChatStreamFeed)
            snapshot = feed.snapshot(chat, after_id)
            for part in snapshot.parts:  # the open step's parts so far: the first live events
                watcher.offer(part, None)
            first = snapshot_frames(snapshot.state)  # each packed (its rows encoded) as it is sent
            await websocket.accept()
            # The owner's stream marks the chat read on connect and on disconnect (markChatAsRead).
            self._mark_read(chat.id)
            direct = direct_write(websocket.scope)
            await serve(watcher, first, receive, send, self._fanout, self._options, direct)
        finally:
            leave()
            self._mark_read(chat.id)

    def _mark_read(self, chat_id: UUID) -> None:
        with contextlib.suppress(ChatNotFound):  # evicted meanwhile: nothing to mark
            last = last_assistant_id(self._store.messages_of(chat_id))
            if last is not None:
                self._store.mark_read(chat_id, last)

    def stream_count(self, chat_id: UUID) -> int:
        """How many clients stream the chat."""
        return self._fanout.watcher_count(chat_id)


def stream_middleware(
    store: ChatStore,
    directory: Directory,
    *,
    origins: CorsPolicy,
    queue_limit: int,
    streams: OpenStreams,
    resolve_chat: ResolveChat | None = None,
) -> Any:
    """The part, bound to its parts, for the front layer (front.py) to build."""
    return partial(
        StreamMiddleware,
        store=store,
        directory=directory,
        origins=origins,
        queue_limit=queue_limit,
        streams=streams,
        resolve_chat=resolve_chat,
    )
