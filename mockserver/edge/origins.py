"""Which browser origins may call the mock: the options of Starlette's CORSMiddleware, and the layer."""

from __future__ import annotations

import re
from collections.abc import Awaitable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.edge.next_layer import direct_call

__all__ = ["CONTROL_TOKEN_HEADER", "LOCALHOST_ORIGINS", "CorsMiddleware", "CorsPolicy", "cors_options"]

# Any port of localhost, 127.0.0.1 or [::1], over http or https: where a frontend's dev server runs.
LOCALHOST_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"

# The header that carries the control plane's own token (never a Coder session token).
CONTROL_TOKEN_HEADER = "X-Mock-Control-Token"

# The headers a browser may send: Coder's token forms, a JSON body, the control token, and the
# two Coder's web UI adds to its requests (coderd's httpmw.Cors allows them: X-CSRF-Token on
# every call, X-Latency-Check on the region's /latency-check).
_ALLOWED_HEADERS = (
    "Coder-Session-Token",
    "Content-Type",
    "Authorization",
    CONTROL_TOKEN_HEADER,
    "X-CSRF-Token",
    "X-Latency-Check",
)
_ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """Origins allowed by name or by a regular expression matched against the whole origin."""

    origins: tuple[str, ...] = ()
    origin_regex: str | None = LOCALHOST_ORIGINS

    def allows(self, origin: str) -> bool:
        """Whether a browser page at `origin` may call the mock."""
        if origin in self.origins:
            return True
        return self.origin_regex is not None and re.fullmatch(self.origin_regex, origin) is not None

    def allows_handshake(self, origin: str | None, host: str | None) -> bool:
        """Whether a WebSocket handshake with this `Origin` (None: absent) may be upgraded.

        As coder/websocket's Accept does (accept.go, authenticateOrigin): no Origin (a client
        that is not a browser) passes, so does an origin whose host:port is the request's
        `Host` (same origin); otherwise the origin must be one the policy allows.
        """
        if origin is None:
            return True
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:
            return False
        if host is not None and netloc != "" and netloc.lower() == host.lower():
            return True
        return self.allows(origin)


def cors_options(policy: CorsPolicy) -> dict[str, Any]:
    """Starlette's CORSMiddleware options; credentials allowed for the session cookie."""
    return {
        "allow_origins": policy.origins,
        "allow_origin_regex": policy.origin_regex,
        "allow_methods": _ALLOWED_METHODS,
        "allow_headers": _ALLOWED_HEADERS,
        "allow_credentials": True,
    }


class CorsMiddleware(CORSMiddleware):
    """Starlette's CORSMiddleware, with short ways for the two common requests.

    - No Origin (every non-browser client): Starlette's layer only adds `Vary: Origin` to the
      answer, after reading the request's headers twice through its `Headers` and the answer's
      through `MutableHeaders`. Here that is one scan of the request's header names and, when
      the answer has no `Vary` yet, one appended header.
    - An allowed Origin, not a preflight (a frontend's every call): the answer gets the simple
      headers, `Access-Control-Allow-Origin` (the origin) and `Vary: Origin`, appended in
      Starlette's order when it has none of them yet (~2 µs, Starlette's way ~7).
    Anything else goes Starlette's way.
    """

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        super().__init__(app, **options)
        self._next = direct_call(app)
        # What Starlette's `send` sets for an allowed origin, as MutableHeaders writes it.
        self._simple_raw = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.simple_headers.items()
        ]
        self._set_names = frozenset(
            [*(name for name, _ in self._simple_raw), b"access-control-allow-origin", b"vary"]
        )

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        # A plain function handing back the awaitable of the request's path: a request without
        # an Origin goes on with no coroutine of this layer's own.
        if scope["type"] != "http":
            return super().__call__(scope, receive, send)
        origin: bytes | None = None
        preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                if origin is None:
                    origin = value
            elif name == b"access-control-request-method":
                preflight = True
        if origin is not None:
            return self._with_origin(scope, receive, send, origin, preflight=preflight)

        # A plain function that hands back the server's awaitable: no coroutine of its own for
        # each message of every answer.
        def vary_on_origin(message: MutableMapping[str, Any]) -> Awaitable[None]:
            if message["type"] != "http.response.start":
                return send(message)  # the body: nothing to add
            headers = message.setdefault("headers", [])
            if isinstance(headers, list):
                for name, _ in headers:
                    if name.lower() == b"vary":
                        break
                else:
                    headers.append((b"vary", b"Origin"))
                    return send(message)
            return self.send(message, send=send, request_headers=_NO_HEADERS)

        return self._next(scope, receive, vary_on_origin)

    async def _with_origin(
        self, scope: Scope, receive: Receive, send: Send, origin: bytes, *, preflight: bool
    ) -> None:
        if (
            (preflight and scope["method"] == "OPTIONS")
            or self.allow_all_origins
            or not self.is_allowed_origin(origin.decode("latin-1"))
        ):
            await super().__call__(scope, receive, send)
            return
        added = [*self._simple_raw, (b"access-control-allow-origin", origin), (b"vary", b"Origin")]

        async def allow_origin(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                if not isinstance(headers, list) or any(
                    name.lower() in self._set_names for name, _ in headers
                ):
                    await self.send(message, send=send, request_headers=Headers(scope=scope))
                    return
                headers.extend(added)
            await send(message)

        await self.app(scope, receive, allow_origin)


class _NoHeaders:
    """The request headers of a request without an Origin, as CORSMiddleware.send reads them."""

    @staticmethod
    def get(name: str, default: Any = None) -> Any:
        return default


_NO_HEADERS: Any = _NoHeaders()
