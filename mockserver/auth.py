"""Authentication the way coderd does it, before any parameter or body is looked at."""

from __future__ import annotations

from functools import partial
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.directory import Directory

__all__ = ["AuthenticationMiddleware", "authentication_middleware", "session_token"]

SESSION_COOKIE = "coder_session_token"
SESSION_HEADER = b"coder-session-token"


def session_token(scope: Scope) -> str | None:
    """The session token of a request, looked for in coderd's order; empty values are absent.

    The cookie `coder_session_token`, then the query parameter of that name, then the
    `Coder-Session-Token` header, then `Authorization: Bearer <token>`.
    """
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"cookie":
            token = _cookie(value.decode("latin-1"))
            if token:
                return token
    query = scope.get("query_string", b"")
    if query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if name == SESSION_COOKIE:
                if value:
                    return value
                break  # Go's Query().Get returns the first value only
    bearer = None
    for name, raw in headers:
        if name == SESSION_HEADER and raw:
            return raw.decode("latin-1")
        if name == b"authorization" and bearer is None:
            scheme, _, credentials = raw.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                bearer = credentials.strip()
    return bearer


def _cookie(header: str) -> str | None:
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(header)
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


class _AuthenticatedOperation:
    def __init__(self, next_app: ASGIApp, *, directory: Directory, secured: bool) -> None:
        self._next_app = next_app
        self._directory = directory
        self._secured = secured

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._secured:
            user = self._directory.authenticate(session_token(scope))
            context: dict[str, Any] = scope.setdefault("extensions", {}).setdefault("connexion_context", {})
            context["user"] = user
        await self._next_app(scope, receive, send)


class _AuthenticationAPI(RoutedAPI[_AuthenticatedOperation]):
    def __init__(self, *args: Any, directory: Directory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._directory = directory
        self.add_paths()

    def make_operation(self, operation: AbstractOperation) -> _AuthenticatedOperation:
        return _AuthenticatedOperation(
            self.next_app, directory=self._directory, secured=bool(operation.security)
        )


class AuthenticationMiddleware(RoutedMiddleware[_AuthenticationAPI]):
    """Replaces Connexion's security middleware: one token, found in Coder's order, one check.

    An operation with `security` in the document gets the authenticated user in its
    context (the handler's `user` argument); a failure raises `Unauthenticated`.
    """

    api_cls = _AuthenticationAPI

    def __init__(self, app: ASGIApp, *, directory: Directory) -> None:
        super().__init__(app)
        self._directory = directory

    def add_api(self, specification: Any, **kwargs: Any) -> _AuthenticationAPI:
        return super().add_api(specification, directory=self._directory, **kwargs)


def authentication_middleware(directory: Directory) -> Any:
    """The middleware, bound to a directory, in the form Connexion's middleware list takes."""
    return partial(AuthenticationMiddleware, directory=directory)
