"""Per-operation middleware for Connexion, built from a function of the operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp

__all__ = ["StepFactory", "routed_middleware"]

# Makes the ASGI step that runs for one operation before `next_app`.
StepFactory = Callable[[AbstractOperation, ASGIApp], ASGIApp]


def routed_middleware(make_step: StepFactory) -> type[RoutedMiddleware[Any]]:
    """A middleware class for Connexion's list that runs `make_step(operation, next_app)` per operation."""

    class _API(RoutedAPI[ASGIApp]):  # type: ignore[misc]  # connexion is untyped
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.add_paths()

        def make_operation(self, operation: AbstractOperation) -> ASGIApp:
            return make_step(operation, self.next_app)

    class _Middleware(RoutedMiddleware[_API]):  # type: ignore[misc]
        api_cls = _API

    return _Middleware
