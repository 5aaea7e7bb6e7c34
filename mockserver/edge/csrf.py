"""coderd's CSRF check: a write that only a cookie authenticates must carry the CSRF token too.

coderd wraps every route in `httpmw.CSRF` (justinas/nosurf, openapi/current/WIRE.md section 2).
A request is let through when its method is safe (GET, HEAD, OPTIONS, TRACE), its path is not
under `/api`, or it carries no session cookie; or when something a page on another site cannot
forge says who it is: the `Coder-Session-Token` header or the `coder_session_token` query
parameter equal to the cookie, an `Authorization: Bearer` header, or an `X-CSRF-TOKEN` header
that matches the `csrf_token` cookie (nosurf's double submit: the cookie holds 32 random bytes
in base64, the header the same bytes, or them masked with a one-time pad of 32 more). Anything
else, such as a cross-site `text/plain` form POST carrying the session cookie, is refused with
coderd's 400, in plain text (Go's `http.Error`), before authentication or the body is read.

The mock does not hand out `csrf_token` cookies (nosurf sets one on a response to a request
without it): a client using the cookie sends a pair it chose, such as the development pair of
Coder's own site (`site/vite.config.mts` and `site/src/api/api.ts`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.edge.auth import SESSION_COOKIE

__all__ = ["BAD_TOKEN", "MISMATCHED_AUTH", "CsrfMiddleware", "csrf_token_matches"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # nosurf's safeMethods
_TOKEN_COOKIE = "csrf_token"  # nosurf's default cookie name
_TOKEN_BYTES = 32  # nosurf's tokenLength
BAD_TOKEN = (
    "Something is wrong with your CSRF token. Please refresh the page. "
    "If this error persists, try clearing your cookies."
)
MISMATCHED_AUTH = (
    'CSRF error encountered. Authentication via "coder_session_token" cookie and "Coder-Session-Token" '
    "header detected, but the values do not match. To resolve this issue ensure the values used in both "
    "match, or only use one of the authentication methods. You can also try clearing your cookies if this "
    "error persists."
)


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def csrf_token_matches(cookie: str, sent: str) -> bool:
    """nosurf.VerifyToken: the header's token (plain or masked) is the cookie's 32 bytes."""
    real = _b64(cookie)
    token = _b64(sent)
    if real is None or token is None or len(real) != _TOKEN_BYTES:
        return False
    if len(token) == 2 * _TOKEN_BYTES:  # masked: a one-time pad, then the token under it
        token = bytes(
            pad ^ masked for pad, masked in zip(token[:_TOKEN_BYTES], token[_TOKEN_BYTES:], strict=True)
        )
    return hmac.compare_digest(real, token)


def _cookies(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's cookies by name (the first of a name, as Go's r.Cookie finds it)."""
    found: dict[str, str] = {}
    for name, value in headers:
        if name != b"cookie":
            continue
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value.decode("latin-1"))
        except CookieError:
            continue
        for key, morsel in jar.items():
            found.setdefault(key, morsel.value)
    return found


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    """The first value of a header, as Go's Header.Get reads it ("" when absent)."""
    return next((value.decode("latin-1") for key, value in headers if key == name), "")


def _query(scope: Scope, name: str) -> str | None:
    """The first value of a query parameter (None when absent)."""
    query = scope.get("query_string", b"").decode("latin-1")
    return next((value for key, value in parse_qsl(query, keep_blank_values=True) if key == name), None)


def _refusal(scope: Scope) -> str | None:
    """Why coderd's CSRF check refuses this request (its plain-text body), or None to let it through."""
    if scope["method"] in _SAFE_METHODS or not scope["path"].startswith("/api"):
        return None
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    cookies = _cookies(headers)
    session = cookies.get(SESSION_COOKIE)
    if session is None:
        return None  # nothing a browser attaches by itself: no CSRF to fear
    header_token = _header(headers, b"coder-session-token")
    if header_token == session or _query(scope, SESSION_COOKIE) == session:
        return None
    if _header(headers, b"authorization").lower().startswith("bearer "):
        return None
    sent = _header(headers, b"x-csrf-token")
    if sent and csrf_token_matches(cookies.get(_TOKEN_COOKIE, ""), sent):
        return None
    if header_token:  # both ways of signing in, naming different tokens
        return MISMATCHED_AUTH
    return BAD_TOKEN


class CsrfMiddleware:
    """Refuses what `_refusal` refuses, as Go's http.Error writes it; lets everything else through."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reason = _refusal(scope) if scope["type"] == "http" else None
        if reason is None:
            await self._app(scope, receive, send)
            return
        body = (reason + "\n").encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
