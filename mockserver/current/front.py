"""What today's API answers in front of the Connexion app, as one layer that decides by path.

The chat mount's two prefixes and chi's not-found (chat_router.py), the stream, git and desktop
WebSockets (stream.py, workspace_sockets.py), the chat-list watch (watch.py) and the dashboard
shell (dashboard/) each answer their own paths. They were five stacked layers, each handing on
what was not its own, and every request paid five frames and five path tests; now they are parts
of this one layer (only the dashboard is still a middleware, for the model picker's own layer
before the chat mount). The chat mount admits the request once (as before, first: it may refuse it or rewrite its prefix), then its path decides
which one part, if any, answers it, in the order the layers had:

- a path under `/api/v2/chats` (as the app serves it): the sockets (a WebSocket or a GET; their
  paths all hold `/stream` but the watch's), else the app. No dashboard route is under it;
- any other path: the dashboard (a plain request), else the app.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.core.errors import MockError
from mockserver.current.chat_router import ChatRouterMiddleware, answer_refusal
from mockserver.current.dashboard.shell import DashboardMiddleware
from mockserver.current.stream import STREAM_PATH, StreamMiddleware
from mockserver.current.watch import WATCH_PATH, WatchMiddleware
from mockserver.current.workspace_sockets import WORKSPACE_SOCKET_PATH, WorkspaceSocketsMiddleware

__all__ = ["FrontMiddleware", "front_middleware"]

_CHATS = "/api/v2/chats"  # every socket path starts so; no dashboard path does


class FrontMiddleware:
    """The chat mount, its WebSockets and the dashboard, in front of the app: one decision a path."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        chats: Callable[[], ChatRouterMiddleware],
        stream: Callable[[], StreamMiddleware],
        workspace_sockets: Callable[[], WorkspaceSocketsMiddleware],
        watch: Callable[[], WatchMiddleware],
        dashboard: Callable[[ASGIApp], DashboardMiddleware] | None,
    ) -> None:
        """Each part is its factory, bound to its parts; the dashboard is a middleware around `app`."""
        self._app = app
        self._chats = chats()
        self._stream = stream()
        self._workspace_sockets = workspace_sockets()
        self._watch = watch()
        self._dashboard = dashboard(app) if dashboard is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self._app(scope, receive, send)
            return
        admitted = self._chats.route(scope)
        if isinstance(admitted, MockError):
            await answer_refusal(scope, receive, send, admitted)
            return
        path: str = admitted["path"]
        if path.startswith(_CHATS):
            if (kind == "websocket" or admitted["method"] == "GET") and await self._socket(
                admitted, receive, send, path
            ):
                return
        elif (
            kind == "http"
            and self._dashboard is not None
            and await self._dashboard.answer(admitted, receive, send)
        ):
            return
        await self._app(admitted, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send, path: str) -> bool:
        """Serve a WebSocket path (or refuse a plain GET of one); False if the path is none."""
        if path == WATCH_PATH:
            await self._watch.answer(scope, receive, send)
            return True
        if "/stream" not in path:
            return False
        if match := STREAM_PATH.fullmatch(path):
            await self._stream.answer(scope, receive, send, match["chat"])
            return True
        if match := WORKSPACE_SOCKET_PATH.fullmatch(path):
            await self._workspace_sockets.answer(scope, receive, send, match["chat"], match["kind"])
            return True
        return False


def front_middleware(
    *, chats: Any, stream: Any, workspace_sockets: Any, watch: Any, dashboard: Any | None
) -> Any:
    """The layer, bound to its parts' factories, in the form Connexion's list takes."""
    return partial(
        FrontMiddleware,
        chats=chats,
        stream=stream,
        workspace_sockets=workspace_sockets,
        watch=watch,
        dashboard=dashboard,
    )
