"""`GET /api/v2/chats/watch`: the caller's chat list, live (openapi/current/WIRE.md section 7.2).

A one-way WebSocket outside the document, in front of the Connexion app as plain ASGI
middleware. Refusals come before the upgrade as Coder's HTTP errors: authentication (header,
cookie or query), then a cross-origin browser handshake (403, in `websocket.Accept`); a GET
that is no upgrade is a 426. There is no snapshot: from the
upgrade on, each change of one of the caller's chats is one text frame holding one
`ChatWatchEvent`: `created` (a new chat, or one unarchived), `deleted` (archived, or evicted by
the store's limits), `title_change`, `status_change`, then `action_required` with the pending
tool calls when a run waits for the client. Other users' chats are never seen. A client more
than the queue limit behind is closed with 1008; the limits layer closes every WebSocket with
1001 when the server begins to stop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from mockserver.core.changes import ChatChanged
from mockserver.core.directory import Directory
from mockserver.core.errors import MockError
from mockserver.core.models import Chat, ChatStatus
from mockserver.core.store import ChatStore, Eviction
from mockserver.current.stream_wire import pending_tool_calls, watch_event
from mockserver.edge.auth import session_token
from mockserver.edge.fanout import Fanout, Frame
from mockserver.edge.origins import CorsPolicy
from mockserver.edge.push_socket import (
    PushOptions,
    check_origin,
    direct_write,
    one_item_a_frame,
    refuse,
    refuse_plain_http,
    serve,
)

__all__ = ["WATCH_PATH", "ChatWatchFeed", "WatchMiddleware", "watch_middleware"]

WATCH_PATH = "/api/v2/chats/watch"

# A chat as the watch shows it (a codersdk.Chat); called for a chat the store may have evicted.
RenderChat = Callable[[Chat], dict[str, Any]]


class ChatWatchFeed:
    """One owner's chat changes as watch frames, each encoded once (a Feed of edge/fanout.py)."""

    __slots__ = ("_render", "_store")

    def __init__(self, store: ChatStore, render: RenderChat) -> None:
        self._store = store
        self._render = render

    def frames(self, event: Any) -> Iterable[Frame]:
        """The frames of a chat created, changed or evicted."""
        return [(frame, None) for frame in self._frames(event)]

    def _frames(self, event: Any) -> list[str]:
        if isinstance(event, Eviction):
            return [watch_event("deleted", self._render(event.chat))]
        if not isinstance(event, ChatChanged):
            return []
        chat, previous = event.chat, event.previous
        if previous is None:
            return [watch_event("created", self._render(chat))]
        frames: list[str] = []
        if chat.archived != previous.archived:
            frames.append(watch_event("deleted" if chat.archived else "created", self._render(chat)))
        if chat.title != previous.title:
            frames.append(watch_event("title_change", self._render(chat)))
        if chat.status is not previous.status:
            rendered = self._render(chat)
            frames.append(watch_event("status_change", rendered))
            if chat.status is ChatStatus.REQUIRES_ACTION:
                calls = pending_tool_calls(self._store.messages_of(chat.id))
                frames.append(watch_event("action_required", rendered, calls))
        return frames


class WatchMiddleware:
    """Answers chat-list watch WebSockets (the front layer, front.py, hands it their path)."""

    def __init__(
        self,
        *,
        store: ChatStore,
        directory: Directory,
        origins: CorsPolicy,
        queue_limit: int,
        render: RenderChat,
    ) -> None:
        self._directory = directory
        self._origins = origins
        self._options = PushOptions(batch=1, pack=one_item_a_frame)
        self._fanout = Fanout(
            store,
            limit=queue_limit,
            feed=lambda _owner: ChatWatchFeed(store, render),
            subscribe=store.subscribe_owner,
            wire=self._options.wire,
        )
        store.on_evict(self._evicted)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a WebSocket or a plain GET (refused) on `WATCH_PATH`."""
        if scope["type"] == "http":
            await refuse_plain_http(
                scope,
                receive,
                send,
                lambda: self._directory.authenticate(session_token(scope)),
                "Failed to open chat watch stream.",
            )
            return
        websocket = WebSocket(scope, receive, send)
        try:
            user = self._directory.authenticate(session_token(scope))
            check_origin(scope, self._origins)  # websocket.Accept, after authentication
        except MockError as error:
            await refuse(websocket, error)
            return
        # Subscribed before the upgrade, as coderd does: a change once the client's dial
        # returns is never missed.
        watcher, leave = self._fanout.join(user.id, last_id=0)
        try:
            await websocket.accept()
            await serve(watcher, (), receive, send, self._fanout, self._options, direct_write(scope))
        finally:
            leave()

    def _evicted(self, eviction: Eviction) -> None:
        self._fanout.publish(eviction.chat.owner_id, eviction)


def watch_middleware(
    store: ChatStore,
    directory: Directory,
    *,
    origins: CorsPolicy,
    queue_limit: int,
    render: RenderChat,
) -> Any:
    """The part, bound to its parts, for the front layer (front.py) to build."""
    return partial(
        WatchMiddleware,
        store=store,
        directory=directory,
        origins=origins,
        queue_limit=queue_limit,
        render=render,
    )
