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

import asyncio
import contextlib
import logging
import re
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from mockserver.control.cors import CorsPolicy
from mockserver.core.directory import Directory
from mockserver.core.errors import CrossOriginHandshake, InvalidQueryParam, MockError
from mockserver.core.golang import encode_json
from mockserver.core.models import ChatMessage, LivePart
from mockserver.core.store import ChatStore
from mockserver.edge.auth import session_token
from mockserver.edge.coder_errors import CONTENT_TYPE, coder_error
from mockserver.edge.fanout import CloseCode, Fanout, Watcher
from mockserver.edge.streams import OpenStreams
from mockserver.v1.chat_param import load_chat
from mockserver.v1.wire import message_json

__all__ = ["WATCH_PATH", "WatchMiddleware", "watch_middleware"]

WATCH_PATH = re.compile(r"/api/v2/chats/(?P<chat>[^/]+)/messages/watch-ws")
# The close code used when a server cannot send an HTTP refusal before the upgrade.
POLICY_VIOLATION = 1008
# How long a close frame may wait for a client that does not read before the mock gives up.
_CLOSE_TIMEOUT = 2.0

_log = logging.getLogger(__name__)


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
        self._close_timeout = close_timeout
        self._store = store
        self._directory = directory
        self._origins = origins
        self._fanout = Fanout(store, _frame, limit=queue_limit)
        if streams is not None:  # the control plane may close a chat's watchers
            streams.add(self._fanout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = WATCH_PATH.fullmatch(scope.get("path", "")) if scope["type"] == "websocket" else None
        if match is None:
            await self._app(scope, receive, send)
            return
        await self._watch(WebSocket(scope, receive, send), match["chat"], receive, send)

    async def _watch(self, websocket: WebSocket, raw_chat: str, receive: Receive, send: Send) -> None:
        try:
            self._check_origin(websocket.scope)
            user = self._directory.authenticate(session_token(websocket.scope))
            chat = load_chat(self._store, user, raw_chat)
            after_id = _after_id(websocket.scope)
        except MockError as error:
            await _refuse(websocket, error)
            return

        # Join, then list, with no await between: nothing is missed; ids drop repeats.
        watcher, leave = self._fanout.join(chat.id, after_id)
        try:
            backlog = [m for m in self._store.list_messages(user, chat.id) if m.id > after_id]
            if backlog:
                watcher.last_id = max(watcher.last_id, backlog[-1].id)
            await websocket.accept()
            frames = [_frame(m) for m in backlog]
            # Past the handshake, the raw ASGI calls: frames are the hot path, and _serve knows
            # the connection's state without Starlette's checks on every frame.
            await _serve(watcher, frames, receive, send, self._fanout, self._close_timeout)
        finally:
            leave()

    def _check_origin(self, scope: Scope) -> None:
        headers = dict(scope["headers"])
        origin, host = headers.get(b"origin"), headers.get(b"host")
        text_origin = None if origin is None else origin.decode("latin-1")
        text_host = None if host is None else host.decode("latin-1")
        if not self._origins.allows_handshake(text_origin, text_host):
            raise CrossOriginHandshake(text_origin or "", text_host or "")


async def _serve(
    watcher: Watcher,
    backlog: list[str],
    receive: Receive,
    send: Send,
    fanout: Fanout,
    close_timeout: float,
) -> None:
    """Send the backlog, then the watcher's frames, until it must close or the client leaves.

    The socket is one-way: input is read only to learn that the client went away. A client
    the server already gave up on (uvicorn's keepalive timeout closes the socket under us)
    refuses further sends with an error: that ends the watch quietly, like a disconnect.
    """
    gone = asyncio.ensure_future(_until_disconnect(receive, watcher))
    pump = asyncio.ensure_future(_pump(watcher, backlog, send, fanout))
    told = asyncio.ensure_future(watcher.until_closing())
    try:
        done, _ = await asyncio.wait({gone, pump, told}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump, gone, told):
            task.cancel()
    refused = pump in done and pump.exception() is not None  # the server will not send any more
    closing = watcher.closing
    if gone in done or refused or closing is None:
        return  # the client is gone, or no close frame can go
    with contextlib.suppress(Exception):  # whatever the server refuses with, the watch is over
        # A client that stopped reading may never take the close frame: give up after a while.
        async with asyncio.timeout(close_timeout):
            await send({"type": "websocket.close", "code": int(closing.code), "reason": closing.reason})


async def _pump(watcher: Watcher, backlog: list[str], send: Send, fanout: Fanout) -> None:
    """Send frames until the watcher is told to close (then return)."""
    for frame in backlog:
        if watcher.closing is not None:
            return
        async with fanout.turn_for(frame):
            await send({"type": "websocket.send", "text": frame})
    frames = watcher.frames
    while True:
        await watcher.wait()
        while frames:
            frame = frames.popleft()
            async with fanout.turn_for(frame):
                await send({"type": "websocket.send", "text": frame})
        if watcher.closing is not None:
            return


async def _until_disconnect(receive: Receive, watcher: Watcher) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            watcher.close(CloseCode.NORMAL, "client went away")
            return


async def _refuse(websocket: WebSocket, error: Exception) -> None:
    """Coder's HTTP refusal before the upgrade; a policy close where the server cannot send one."""
    status, body = coder_error(error)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        response = Response(encode_json(body), status_code=status, media_type=CONTENT_TYPE)
        await websocket.send_denial_response(response)
        return
    _log.info("server cannot refuse a WebSocket with HTTP; closing with %d", POLICY_VIOLATION)
    await websocket.close(POLICY_VIOLATION, reason=body["message"][:120])


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
