"""Who may reach /__mock: nobody unless enabled; then its own token and an allowed origin."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.core.errors import RouteNotFound
from mockserver.edge.coder_errors import coder_error, error_body, send_error
from mockserver.edge.next_layer import direct_call
from mockserver.edge.origins import CONTROL_TOKEN_HEADER, CorsPolicy

from .hosts import HostAllowlist
from .paths import CONTROL_PREFIX

__all__ = ["ControlGuard"]

_TOKEN_HEADER = CONTROL_TOKEN_HEADER.lower().encode()


class ControlGuard:
    """Answers for /__mock before anything else can.

    Disabled: every /__mock path is 404, as if it did not exist. Enabled: with a host allowlist,
    a request without `Host` is 400 and one whose Host is not on the list is 403 (DNS
    rebinding); a request from a browser origin the CORS policy does not allow is 403 (a page
    elsewhere cannot reset the mock with a simple form post); with a control token, a request
    without that token in `X-Mock-Control-Token` is 401. A Coder session token plays no part.
    A CORS preflight goes on to the CORS middleware, since a browser never sends custom headers
    on it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        enabled: bool,
        token: str | None,
        cors: CorsPolicy,
        hosts: HostAllowlist | None = None,
    ) -> None:
        self._app = direct_call(app)
        self._enabled = enabled
        self._token = token.encode() if token else None
        self._cors = cors
        self._hosts = hosts  # None: any Host (create_app's default; serve passes its list)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function handing back the awaitable of the request's path: a request for the
        # Chats API passes through without a coroutine of this layer's own.
        path: str = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not (
            path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
        ):
            return self._app(scope, receive, send)
        return self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        refusal = self._refusal(scope, headers)
        if refusal is None:
            await self._app(scope, receive, send)
            return
        status, body = refusal
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_error(send, status, body)

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, dict[str, str]] | None:
        if not self._enabled:
            return coder_error(RouteNotFound())
        if self._hosts is not None:
            host = headers.get(b"host")
            if host is None:
                return 400, error_body("Missing Host header.", "The control plane needs a Host header.")
            hosts = sum(1 for name, _ in scope["headers"] if name == b"host")
            if hosts > 1:
                # RFC 9110 7.2: a request with more than one Host is a 400 (a browser sends one).
                return 400, error_body("Invalid Host header.", f"The request has {hosts} Host headers.")
            if not self._hosts.allows(host.decode("latin-1")):
                return 403, error_body(
                    "Forbidden.", "The control plane answers only to localhost, 127.0.0.1, [::1] or --host."
                )
        origin = headers.get(b"origin")
        if scope.get("method") == "OPTIONS" and origin and b"access-control-request-method" in headers:
            return None  # a preflight: the CORS middleware answers it by the same policy
        if origin is not None and not self._cors.allows(origin.decode("latin-1")):
            return 403, error_body("Forbidden.", "This origin may not use the mock's control plane.")
        if self._token is not None and not hmac.compare_digest(headers.get(_TOKEN_HEADER, b""), self._token):
            return 401, error_body(
                "Control plane token missing or wrong.",
                f"Send the token given to --control-token in the {CONTROL_TOKEN_HEADER} header.",
            )
        return None
