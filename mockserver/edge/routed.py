"""Per-operation middleware for Connexion, built from a function of the operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.middleware.abstract import ROUTING_CONTEXT, RoutedAPI, RoutedMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.edge.next_layer import direct_call

__all__ = ["StepFactory", "operation_app", "routed_middleware"]

# Makes the ASGI step that runs for one operation before `next_app`.
StepFactory = Callable[[AbstractOperation, ASGIApp], ASGIApp]


def operation_app(app: ASGIApp, base_path: str | None, operation_id: str | None) -> ASGIApp:
    """What `app` runs for an HTTP request Connexion routed to this operation, found once.

    A RoutedMiddleware (the mock's or Connexion's) looks up the operation's step in its API of
    the request's base path on every request, then runs it; Connexion's LifespanMiddleware
    passes every HTTP request on. Both are looked through here: the answer is the step itself
    (an object's, as its bound `__call__`: `next_layer.direct_call`).
    Anything else, or an operation a layer does not know, is `app` (it decides, as before).
    """
    while True:
        if isinstance(app, LifespanMiddleware):
            app = app.next_app
            continue
        if isinstance(app, RoutedMiddleware):
            apis = app.apis.get(base_path) if base_path is not None else None
            if apis is not None and len(apis) == 1:
                step: ASGIApp | None = apis[0].operations.get(operation_id)
                if step is not None:
                    return direct_call(step)
        return app


def routed_middleware(make_step: StepFactory) -> type[RoutedMiddleware[Any]]:
    """A middleware class for Connexion's list that runs `make_step(operation, next_app)` per operation.

    `next_app` is the next layer's own step for the operation when that layer routes by
    operation too (`operation_app`): Connexion adds an API to the innermost layer first, so an
    operation's steps are chained step to step at start-up, not looked up layer by layer.
    """

    class _API(RoutedAPI[ASGIApp]):  # type: ignore[misc]  # connexion is untyped
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.add_paths()

        def make_operation(self, operation: AbstractOperation) -> ASGIApp:
            return make_step(operation, operation_app(self.next_app, self.base_path, operation.operation_id))

    class _Middleware(RoutedMiddleware[_API]):  # type: ignore[misc]
        """Connexion's RoutedMiddleware, with each operation's step found in one dict lookup.

        Connexion's own lookup walks the APIs of the request's base path and asks each for the
        operation; with one API per base path (the mock's), that is a (base path, operation id)
        key, built once, at the first request (every API is added by then). Anything else goes
        the way Connexion goes.
        """

        api_cls = _API
        _steps: dict[tuple[str, str], ASGIApp] | None = None

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                steps = self._steps if self._steps is not None else self._index()
                routed = scope.get("extensions", {}).get(ROUTING_CONTEXT, {})
                step = steps.get((routed.get("api_base_path"), routed.get("operation_id")))
                if step is not None:
                    await step(scope, receive, send)
                    return
            await super().__call__(scope, receive, send)

        def _index(self) -> dict[tuple[str, str], ASGIApp]:
            self._steps = {
                (base_path, operation_id): step
                for base_path, apis in self.apis.items()
                if len(apis) == 1
                for operation_id, step in apis[0].operations.items()
            }
            return self._steps

    return _Middleware
