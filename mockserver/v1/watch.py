"""The live transcript: `GET /api/v2/chats/{chat}/messages/watch-ws?after_id=N` (WIRE.md section 5).

A one-way WebSocket the document does not describe, so it sits in front of the Connexion app
as plain ASGI middleware. Refusals come before the upgrade, as plain HTTP with Coder's error
body: a cross-origin browser handshake (403, as coder/websocket's Accept refuses it), then in
coderd's order authentication, the `{chat}` UUID, the chat itself, then `after_id`.
Frames are `{"type": "data", "data": X}`: each stored row with `id > N`, then each new row
(or live part of a run) as it is written, encoded once for every watcher (edge/fanout.py).
A watcher that falls behind its queue limit is closed with 1008, one whose chat is evicted
with 1000; when the server begins to stop, the limits layer closes every WebSocket with 1001.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from mockserver.core.directory import Directory
from mockserver.core.errors import InvalidQueryParam, MockError
from mockserver.core.golang import encode_json
from mockserver.core.models import ChatMessage, LivePart
from mockserver.core.store import ChatStore
from mockserver.edge.auth import session_token
from mockserver.edge.chat_param import load_chat
from mockserver.edge.fanout import Fanout, RowsAndParts
from mockserver.edge.origins import CorsPolicy
from mockserver.edge.push_socket import (
    PushOptions,
    check_origin,
    direct_write,
    one_item_a_frame,
    refuse,
    serve,
)
from mockserver.edge.streams import OpenStreams
from mockserver.v1.wire import message_json

__all__ = ["WATCH_PATH", "WatchMiddleware", "watch_middleware"]

WATCH_PATH = re.compile(r"/api/v2/chats/(?P<chat>[^/]+)/messages/watch-ws")
# How long a close frame may wait for a client that does not read before the mock gives up.
_CLOSE_TIMEOUT = 2.0


def _after_id(scope: Scope) -> int:
    """`after_id` as Go's strconv.ParseInt reads it; absent or empty is 0."""
    raw = ""
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if name == "after_id":
            raw = value
            break
    if raw == "":
        return 0
    if not re.fullmatch(r"[+-]?[0-9]+", raw) or not -(2**63) <= int(raw) < 2**63:
        raise InvalidQueryParam("invalid after_id")
    return int(raw)


def _frame(event: ChatMessage | LivePart) -> str:
    if isinstance(event, ChatMessage):
        data: Any = message_json(event)
    else:
        data = {"run_id": str(event.run_id), "type_id": event.type_id, "part": event.part}
    return encode_json({"type": "data", "data": data}).decode()


class WatchMiddleware:
    """Answers `watch-ws` WebSockets; every other request goes on to the Connexion app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: ChatStore,
        directory: Directory,
        origins: CorsPolicy,
        queue_limit: int,
        close_timeout: float = _CLOSE_TIMEOUT,
        streams: OpenStreams | None = None,
    ) -> None:
        self._app = app
        # One stored row or live part a frame; what the client sends is read past, as at 57cb8559.
        self._push = PushOptions(
            batch=1, pack=one_item_a_frame, close_timeout=close_timeout, data_closes=False
        )
        self._store = store
        self._directory = directory
        self._origins = origins
        self._fanout = Fanout(store, _frame, limit=queue_limit, wire=self._push.wire)
        if streams is not None:  # the control plane may close a chat's watchers
            streams.add(self._fanout)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function handing back the awaitable of the path taken: every HTTP request
        # passes this layer, and an `async def` would add a coroutine and its frame to each.
        if scope["type"] == "websocket":
            match = WATCH_PATH.fullmatch(scope.get("path", ""))
            if match is not None:
                return self._watch(WebSocket(scope, receive, send), match["chat"], receive, send)
        return self._app(scope, receive, send)

    async def _watch(self, websocket: WebSocket, raw_chat: str, receive: Receive, send: Send) -> None:
        try:
            check_origin(websocket.scope, self._origins)
            user = self._directory.authenticate(session_token(websocket.scope))
            chat = load_chat(self._store, user, raw_chat)
            after_id = _after_id(websocket.scope)
        except MockError as error:
            await refuse(websocket, error)
            return

        # Join, then list, with no await between: nothing is missed; ids drop repeats.
        watcher, leave = self._fanout.join(chat.id, after_id)
        try:
            backlog = [m for m in self._store.list_messages(user, chat.id) if m.id > after_id]
            if backlog:
                watcher.last_id = max(watcher.last_id, backlog[-1].id)
            await websocket.accept()
            feed = self._fanout.feed_of(chat.id)
            assert isinstance(feed, RowsAndParts)
            frames = map(feed.row, backlog)  # encoded as sent, once for all the chat's watchers
            # Past the handshake, the raw ASGI calls: frames are the hot path, and serve knows
            # the connection's state without Starlette's checks on every frame.
            direct = direct_write(websocket.scope)
            await serve(watcher, frames, receive, send, self._fanout, self._push, direct)
        finally:
            leave()


def watch_middleware(
    store: ChatStore,
    directory: Directory,
    *,
    origins: CorsPolicy,
    queue_limit: int,
    streams: OpenStreams | None = None,
) -> Any:
    """The middleware, bound to its parts, in the form Connexion's list takes."""
    return partial(
        WatchMiddleware,
        store=store,
        directory=directory,
        origins=origins,
        queue_limit=queue_limit,
        streams=streams,
    )
