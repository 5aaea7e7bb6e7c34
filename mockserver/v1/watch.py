"""The live transcript: `GET /api/v2/chats/{chat}/messages/watch-ws?after_id=N` (WIRE.md section 5).

A one-way WebSocket the document does not describe, so it sits in front of the Connexion app
as plain ASGI middleware. Refusals come before the upgrade, as plain HTTP with Coder's error
body, in coderd's order: authentication, the `{chat}` UUID, the chat itself, then `after_id`.
Frames are `{"type": "data", "data": X}`: each stored row with `id > N`, then each new row
(or live part of a run) as it is written.
"""

from __future__ import annotations

import asyncio
import logging
import re
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from mockserver.core.directory import Directory
from mockserver.core.errors import InvalidQueryParam, MockError
from mockserver.core.golang import encode_json
from mockserver.core.models import ChatMessage, LivePart
from mockserver.core.store import ChatStore
from mockserver.edge.auth import session_token
from mockserver.edge.coder_errors import CONTENT_TYPE, coder_error
from mockserver.v1.chat_param import load_chat
from mockserver.v1.wire import message_json

__all__ = ["WATCH_PATH", "WatchMiddleware", "watch_middleware"]

WATCH_PATH = re.compile(r"/api/v2/chats/(?P<chat>[^/]+)/messages/watch-ws")
# The close code used when a server cannot send an HTTP refusal before the upgrade.
POLICY_VIOLATION = 1008

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

    def __init__(self, app: ASGIApp, *, store: ChatStore, directory: Directory) -> None:
        self._app = app
        self._store = store
        self._directory = directory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = WATCH_PATH.fullmatch(scope.get("path", "")) if scope["type"] == "websocket" else None
        if match is None:
            await self._app(scope, receive, send)
            return
        await self._watch(WebSocket(scope, receive, send), match["chat"])

    async def _watch(self, websocket: WebSocket, raw_chat: str) -> None:
        try:
            user = self._directory.authenticate(session_token(websocket.scope))
            chat = load_chat(self._store, user, raw_chat)
            after_id = _after_id(websocket.scope)
        except MockError as error:
            await _refuse(websocket, error)
            return

        queue: asyncio.Queue[ChatMessage | LivePart] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def enqueue(event: ChatMessage | LivePart) -> None:
            # Rows may be written from another thread (a test, a control plane): hand over safely.
            loop.call_soon_threadsafe(queue.put_nowait, event)

        # Subscribe, then list, with no await between: nothing is missed; ids drop repeats.
        unsubscribe = self._store.subscribe(chat.id, enqueue)
        try:
            backlog = [m for m in self._store.list_messages(user, chat.id) if m.id > after_id]
            await websocket.accept()
            last_id = after_id
            for message in backlog:
                await websocket.send_text(_frame(message))
                last_id = message.id
            await self._follow(websocket, queue, last_id)
        except WebSocketDisconnect:
            pass
        finally:
            unsubscribe()

    async def _follow(
        self, websocket: WebSocket, queue: asyncio.Queue[ChatMessage | LivePart], last_id: int
    ) -> None:
        """Send new rows until the client goes away (the socket is one-way: input is ignored)."""
        closed = asyncio.ensure_future(_until_disconnect(websocket))
        try:
            while True:
                got = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({got, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    got.cancel()
                    return
                event = got.result()
                if isinstance(event, ChatMessage):
                    if event.id <= last_id:
                        continue  # already sent with the backlog
                    last_id = event.id
                await websocket.send_text(_frame(event))
        finally:
            closed.cancel()


async def _until_disconnect(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
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


def watch_middleware(store: ChatStore, directory: Directory) -> Any:
    """The middleware, bound to the store and directory, in the form Connexion's list takes."""
    return partial(WatchMiddleware, store=store, directory=directory)
