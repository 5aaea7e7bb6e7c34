"""Authentication the way coderd does it, before any parameter or body is looked at."""

from __future__ import annotations

from collections.abc import Awaitable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from connexion.middleware.abstract import RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.core.directory import Directory
from mockserver.edge.routed import routed_middleware

__all__ = ["authentication_middleware", "context_of", "session_token"]

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
    query_string: bytes = scope.get("query_string", b"")
    if query_string:
        for key, text in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            if key == SESSION_COOKIE:
                if text:
                    return text
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


def context_of(scope: Scope) -> dict[str, Any]:
    """The Connexion context of a request: what lands in it reaches handlers as arguments.

    Made once, by the first layer that writes to it (authentication, for every operation that
    asks for a session); each layer after it finds it in two subscripts.
    """
    try:
        context: dict[str, Any] = scope["extensions"]["connexion_context"]
    except KeyError:
        return _new_context(scope)
    return context


def _new_context(scope: Scope) -> dict[str, Any]:
    extensions = scope.get("extensions")
    if extensions is None:
        extensions = scope["extensions"] = {}
    context: dict[str, Any] | None = extensions.get("connexion_context")
    if context is None:
        context = extensions["connexion_context"] = {}
    return context


def authentication_middleware(directory: Directory) -> type[RoutedMiddleware[Any]]:
    """Replaces Connexion's security middleware: one token, found in Coder's order, one check.

    An operation with `security` in the document (none of its requirements empty) gets the authenticated user in its
    context (the handler's `user` argument); a failure raises `Unauthenticated`.
    """

    def make_step(operation: AbstractOperation, next_app: ASGIApp) -> ASGIApp:
        if not operation.security or {} in operation.security:
            # No requirement, or an empty one (OpenAPI's "anonymous allowed"; /__mock's own
            # token is checked by the control plane's guard, never a session token).
            return next_app

        def authenticate(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
            # The caller, resolved once, begins the context: the layers after this one read it there.
            # A plain function handing back the next step's awaitable: no coroutine of its own.
            _new_context(scope)["user"] = directory.authenticate(session_token(scope))
            return next_app(scope, receive, send)

        return authenticate

    return routed_middleware(make_step)
