"""Which browser origins may call the mock (the options of Starlette's CORSMiddleware)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["CONTROL_TOKEN_HEADER", "LOCALHOST_ORIGINS", "CorsPolicy", "cors_options"]

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
