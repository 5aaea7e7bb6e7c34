"""Connexion's routing, its decision remembered for each request line it has routed.

Connexion routes a request through Starlette's router (a mount per API, then each path's
regular expression in turn) and hands the next layer a copy of the scope with two additions:
the path parameters and `extensions["connexion_routing"]` (the API's base path and the
operation id). Both depend only on the method, the path and the root path, and the APIs never
change once the app is built; so once Connexion has routed a request line, the same line gets
the same two additions from a dictionary. Connexion stays the router: every decision is its
own, and a request it refuses (404, 405, a redirect) is never remembered, so it decides again.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from connexion.middleware.abstract import ROUTING_CONTEXT
from connexion.middleware.routing import RoutingMiddleware, _scope
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.edge.routed import operation_app

__all__ = ["remembered_routes"]

# Request lines remembered: the first ones routed (hot paths are routed early and often).
_DEFAULT_SIZE = 4096

# api_base_path, operation_id, path_params, and the next layer's step for the operation
_Route = tuple[str, Any, dict[str, Any], ASGIApp]


def remembered_routes(routing: type[RoutingMiddleware], size: int = _DEFAULT_SIZE) -> type[RoutingMiddleware]:
    """`routing` (Connexion's RoutingMiddleware or a subclass), remembering up to `size` request lines."""

    class RememberedRoutes(routing):  # type: ignore[misc]  # connexion is untyped
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._routes: dict[tuple[str, str, str], _Route] = {}

        def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
            # A plain function handing back the awaitable of the request's path: a request line
            # routed before goes straight to its operation's step, with no coroutine of this
            # layer's own.
            if scope["type"] != "http":
                return super().__call__(scope, receive, send)  # type: ignore[no-any-return]
            line = (scope["method"], scope["path"], scope.get("root_path", ""))
            found = self._routes.get(line)
            if found is None:
                return self._route(scope, receive, send, line)
            base_path, operation_id, path_params, step = found
            # What Connexion's RoutingOperation hands on, built as it does (a copy of the scope,
            # its path parameters and routing decision added to what it holds), with no empty
            # dict made for a part that is there (serve's requests come with `extensions`).
            # Connexion's own record of the scope (its `_scope`) is only read by its routing,
            # which a remembered line never reaches: it is not set.
            routed = dict(scope)
            params = routed.get("path_params")
            if params is None:
                routed["path_params"] = path_params.copy()
            else:
                params.update(path_params)
            extensions = routed.get("extensions")
            if extensions is None:
                extensions = routed["extensions"] = {}
            decided = extensions.get(ROUTING_CONTEXT)
            if decided is None:
                extensions[ROUTING_CONTEXT] = {"api_base_path": base_path, "operation_id": operation_id}
            else:
                decided.update(api_base_path=base_path, operation_id=operation_id)
            return step(routed, receive, send)

        async def _route(
            self, scope: Scope, receive: Receive, send: Send, line: tuple[str, str, str]
        ) -> None:
            await super().__call__(scope, receive, send)
            self._remember(line)

        def _remember(self, line: tuple[str, str, str]) -> None:
            routed = _scope.get(None)
            decided = (routed or {}).get("extensions", {}).get(ROUTING_CONTEXT)
            if not decided or decided.get("operation_id") is None or len(self._routes) >= size:
                return
            base_path, operation_id = decided["api_base_path"], decided["operation_id"]
            self._routes[line] = (
                base_path,
                operation_id,
                dict(routed.get("path_params", {})),
                operation_app(self.app, base_path, operation_id),
            )

    return RememberedRoutes
