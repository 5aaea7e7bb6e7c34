"""Where the server under test is: a URL, or an ASGI app called in-process."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["API_PREFIX", "Probe", "Target"]

# The document's `servers` entry: every operation lives under this prefix.
API_PREFIX = "/api/v2"


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
    """Sends the scenario checks' requests and remembers the last one, for its curl line."""

    client: httpx.Client
    tokens: dict[str, str]  # placeholder ($TOKEN, $TOKEN2) -> token
    last_curl: str = ""
    sent: int = field(default=0)

    def send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
    ) -> httpx.Response:
        """One request; `token` goes in the Coder-Session-Token header, a body as JSON or raw bytes."""
        headers = {"Coder-Session-Token": token} if token is not None else {}
        content = raw_body
        if json_body is not None:
            content = json.dumps(json_body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        request = self.client.build_request(method, path.lstrip("/"), headers=headers, content=content)
        self.last_curl = self._curl(request)
        self.sent += 1
        return self.client.send(request)

    def _curl(self, request: httpx.Request) -> str:
        parts = ["curl", "-X", request.method]
        for name, value in request.headers.items():
            if name.lower() not in ("coder-session-token", "content-type"):
                continue
            shown = next((ph for ph, tok in self.tokens.items() if tok == value), value)
            parts += ["-H", f"{name}: {shown}"]
        if request.content:
            parts += ["-d", request.content.decode("utf-8", "replace")]
        parts.append(str(request.url))
        return " ".join(_quote(part) for part in parts)


def _quote(part: str) -> str:
    # Keep $TOKEN expandable by the shell: double quotes where a placeholder is inside.
    if "$TOKEN" in part:
        return '"' + part.replace('"', '\\"') + '"'
    return shlex.quote(part)
