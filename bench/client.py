"""A tiny HTTP client for the harness: waiting for a server and creating fixtures."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.endpoints import CURRENT_SEND_BODY, WRITE_CHATS, Fixtures, endpoints_of

__all__ = ["READ_CHAT_POSTS", "Client", "ServerNotReady"]

_PROBE_CHAT = "efc9fe20-a1e5-4a8c-9c48-f1b30c1e4f86"
# Messages posted to today's read chat before the load, so that a page of 50 is full.
READ_CHAT_POSTS = 30


class ServerNotReady(RuntimeError):
    """The server answered nothing within the time allowed."""


@dataclass(frozen=True, slots=True)
class Client:
    """Talks to one server at 127.0.0.1:port under base_path."""

    port: int
    base_path: str
    token: str
    clock: Callable[[], float] = time.monotonic  # injected to simplify testing

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        """Send one request and return the status and body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            headers = {"Coder-Session-Token": self.token}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, self.base_path + path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def wait_ready(self, started: float, timeout_s: float = 30.0, poll_s: float = 0.005) -> float:
        """Poll until the server answers a 2xx or 4xx; return the seconds since started."""
        while self.clock() - started < timeout_s:
            try:
                status, _ = self.request("GET", f"/chats/{_PROBE_CHAT}")
            except OSError:
                time.sleep(poll_s)
                continue
            if 200 <= status < 500:
                return self.clock() - started
            time.sleep(poll_s)
        raise ServerNotReady(f"nothing answered on port {self.port} within {timeout_s} s")

    def create_chat(self, body: str) -> str:
        """Create a chat over HTTP and return its id."""
        status, answer = self.request("POST", "/chats", body)
        if status != 201:
            raise RuntimeError(f"POST /chats answered {status}: {answer[:300]!r}")
        chat_id = json.loads(answer)["id"]
        assert isinstance(chat_id, str)
        return chat_id

    def fixtures(self, api: str = "v1") -> Fixtures:
        """V1: one chat to read and one to post messages to. Today's API: a read chat with a
        transcript longer than a page, and WRITE_CHATS chats that posts go to in turn."""
        _, create_body = endpoints_of(api)
        read_chat = self.create_chat(create_body)
        if api != "current":
            return Fixtures(read_chat=read_chat, write_chat=self.create_chat(create_body))
        for _ in range(READ_CHAT_POSTS):
            time.sleep(0.01)  # the run before finishes: the post starts a run, not a queue
            status, answer = self.request("POST", f"/chats/{read_chat}/messages", CURRENT_SEND_BODY)
            if status != 200:
                raise RuntimeError(f"POST messages answered {status}: {answer[:300]!r}")
        writes = tuple(self.create_chat(create_body) for _ in range(WRITE_CHATS))
        return Fixtures(read_chat=read_chat, write_chat=writes[0], write_chats=writes)
