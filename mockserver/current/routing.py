"""Routing as chi routes: a path segment matches a parameter whatever its declared type.

Connexion turns an `integer` path parameter into Starlette's `int` convertor, so `/messages/abc`
would find no route (404 `Route not found.`). coderd's chi router matches any segment and the
handler refuses it (400 `Invalid chat message ID.`), so here every parameter is a plain segment.
"""

from __future__ import annotations

from typing import Any

import starlette.routing
from connexion.middleware.routing import RoutingAPI, RoutingMiddleware
from connexion.operations import AbstractOperation

__all__ = ["AnySegmentRoutingMiddleware"]


class _AnySegmentRoutingAPI(RoutingAPI):  # type: ignore[misc]
    @staticmethod
    def _framework_path_and_name(operation: AbstractOperation, path: str) -> tuple[str, str]:
        starlette_path = _plain(path)
        return starlette_path, starlette_path


def _plain(path: str) -> str:
    # `{my-param}` becomes `{my_param}` (as Connexion spells names), with no convertor.
    out, rest = [], path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        out.append(head + "{" + name.replace("-", "_") + "}")
    return "".join(out) + rest


class AnySegmentRoutingMiddleware(RoutingMiddleware):  # type: ignore[misc]
    """Connexion's routing middleware with chi's matching of path parameters."""

    def add_api(
        self,
        specification: Any,
        base_path: str | None = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        api = _AnySegmentRoutingAPI(
            specification, base_path=base_path, arguments=arguments, next_app=self.app, **kwargs
        )
        for route in self.router.routes:
            if isinstance(route, starlette.routing.Mount) and route.path == api.base_path:
                route.app.default = api.router  # type: ignore[attr-defined]
        self.router.mount(api.base_path, app=api.router)
