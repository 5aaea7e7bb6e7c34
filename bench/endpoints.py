"""The requests the benchmark sends, one per endpoint, and the fixtures they need."""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["ENDPOINTS", "Endpoint", "Fixtures"]

CREATE_CHAT_BODY = json.dumps({"provider": "anthropic", "model": "claude-sonnet-4-5", "title": "bench"})
CREATE_MESSAGE_BODY = json.dumps({"content": "Why does the build fail on Tuesdays?"})


@dataclass(frozen=True, slots=True)
class Fixtures:
    """Ids created over HTTP before the load: one chat to read, one to post messages to."""

    read_chat: str
    write_chat: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One row of the report: a request sent again and again."""

    name: str
    method: str
    path: str  # relative to the server's base path; {read_chat} and {write_chat} are filled in
    body: str | None = None

    def resolve(self, fixtures: Fixtures) -> str:
        """The path with the fixture ids filled in."""
        return self.path.format(read_chat=fixtures.read_chat, write_chat=fixtures.write_chat)


# POST message writes to its own chat so that GET messages reads a transcript that does not
# grow with the load (the mock's store keeps every posted message and its agent rows).
ENDPOINTS = (
    Endpoint("GET chat", "GET", "/chats/{read_chat}"),
    Endpoint("POST chat", "POST", "/chats", CREATE_CHAT_BODY),
    Endpoint("POST message", "POST", "/chats/{write_chat}/messages", CREATE_MESSAGE_BODY),
    Endpoint("GET messages", "GET", "/chats/{read_chat}/messages"),
)
