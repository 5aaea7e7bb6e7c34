"""Connexion's Swagger UI middleware, consulted only for the paths it can answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from connexion.middleware.swagger_ui import SwaggerUIAPI, SwaggerUIMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.edge.next_layer import direct_call

__all__ = ["SwaggerUIOnItsPaths"]


class SwaggerUIOnItsPaths(SwaggerUIMiddleware):  # type: ignore[misc]  # connexion is untyped
    """Serves the UI (`…/ui/…`) and the documents (`…/openapi.json`); every other request skips it.

    Connexion's version runs each request through a router of every API's UI routes before
    passing it on: 10-25 µs of route matching on every call of the API it documents. Whatever
    this sends past it would have fallen through that router to the same next app.
    """

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self._next = direct_call(app)
        # Each API's UI is built on the first request for a UI path or a document, not at start-up
        # (Jinja's templates, the UI's routes: ~20 ms before the first answer).
        self._unbuilt: list[Callable[[], Any]] = []

    def add_api(
        self, specification: Any, base_path: str | None = None, arguments: Any = None, **kwargs: Any
    ) -> None:
        self._unbuilt.append(
            partial(
                _DocumentAsWritten,
                specification,
                base_path=base_path,
                arguments=arguments,
                default=self.default_fn,
                **kwargs,
            )
        )

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function handing back the awaitable of the request's path: every other
        # request goes on with no coroutine of this layer's own.
        path: str = scope.get("path", "")
        if scope["type"] == "http" and ("/ui" in path or path.endswith(".json")):
            while self._unbuilt:  # in the order the APIs were added, as Connexion mounts them
                api = self._unbuilt.pop(0)()
                self.router.mount(api.base_path, app=api.router)
            return super().__call__(scope, receive, send)  # type: ignore[no-any-return]
        return self._next(scope, receive, send)


class _DocumentAsWritten(SwaggerUIAPI):  # type: ignore[misc]  # connexion is untyped
    """`openapi.json` / `openapi.yaml` as the document is written: its `$ref`s kept, not inlined.

    Connexion serves the document with every `$ref` resolved in place, which cannot be written
    out for a schema that refers to itself (today's `codersdk.Chat.children` holds Chats): the
    encoder raises "Circular reference detected" and the UI gets a 500. Swagger UI resolves
    `$ref`s itself, and so does every other tool that reads the served document.
    """

    def _spec_for_prefix(self, request: Any) -> dict[str, Any]:
        base_path = self._base_path_for_prefix(request)
        raw: dict[str, Any] = self.specification.with_base_path(base_path).raw
        return raw
