"""Where the server under test is: a URL, or an ASGI app called in-process."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.shell import command_line
from contracts.token_sources import TokenSource, placed

__all__ = ["API_PREFIX", "Probe", "Target", "operation_of"]

# The document's `servers` entry: every operation lives under this prefix.
API_PREFIX = "/api/v2"
# A path segment after /chats/ is the {chat} parameter, whatever was sent in it.
_CHAT_SEGMENT = re.compile(r"^/chats/[^/?]+")


def operation_of(method: str, path: str) -> str:
    """The operation a request is for, e.g. `GET /chats/{chat}/messages`."""
    route = path.split("?", 1)[0]
    mount = ""
    if "://" in route:  # an absolute URL: another mount of the same routes (/api/experimental)
        route = urlsplit(route).path
        mount, _, rest = route.partition("/chats")
        mount = "" if mount == API_PREFIX else mount
        route = "/chats" + rest if rest or route.endswith("/chats") else route
    if not route.startswith("/"):
        route = "/" + route
    return f"{method} {mount}{_CHAT_SEGMENT.sub('/chats/{chat}', route)}"


@dataclass(frozen=True, slots=True)
class Target:
    """A server to judge: `Target.url("http://host:port")` or `Target.asgi(app)`."""

    api_url: str  # the URL of the API prefix, e.g. http://127.0.0.1:8080/api/v2
    app: Any = None  # an ASGI app, called in-process instead of over the network

    @classmethod
    def url(cls, base_url: str) -> Target:
        """A server over HTTP; `base_url` is the deployment root (or already ends in /api/v2)."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        root = base_url.rstrip("/")
        return cls(root if root.endswith(API_PREFIX) else root + API_PREFIX)

    @classmethod
    def asgi(cls, app: Any) -> Target:
        """An ASGI app, called in-process."""
        return cls("http://testserver" + API_PREFIX, app)

    def client(self, timeout: float = 10.0) -> httpx.Client:
        """An httpx client for the API (enter it: an ASGI app gets one event loop for the run)."""
        if self.app is None:
            return httpx.Client(base_url=self.api_url, timeout=timeout)
        from starlette.testclient import TestClient

        return TestClient(self.app, base_url=self.api_url, raise_server_exceptions=False)


@dataclass(slots=True)
class Probe:
    """Sends the scenario checks' requests and remembers the last one, for its reproduction."""

    client: httpx.Client
    tokens: dict[str, str]  # placeholder ($TOKEN, $TOKEN2) -> token
    last_curl: str = ""
    last_operation: str = "-"
    sent: int = field(default=0)

    def send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        auth: Mapping[TokenSource, str] | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
    ) -> httpx.Response:
        """One request; `token` goes in the Coder-Session-Token header, `auth` in the sources it names."""
        sources = dict(auth or {})
        if token is not None:
            sources[TokenSource.HEADER] = token
        headers, params = placed(sources)
        content = raw_body
        if json_body is not None:
            content = json.dumps(json_body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        request = self.client.build_request(
            method, path.lstrip("/"), headers=headers, params=params or None, content=content
        )
        self.last_curl = self.curl(request)
        self.last_operation = operation_of(method, path)
        self.sent += 1
        return self.client.send(request)

    def curl(self, request: httpx.Request) -> str:
        """A curl command for `request`, tokens as their placeholders."""
        parts = ["curl", "-X", request.method]
        for name, value in request.headers.items():
            if name.lower() in ("coder-session-token", "content-type", "authorization", "cookie"):
                parts += ["-H", f"{name}: {value}"]
        if request.content:
            parts += ["-d", request.content.decode("utf-8", "replace")]
        parts.append(str(request.url))
        return command_line(parts, self.tokens)
