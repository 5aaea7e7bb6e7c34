"""The requests the benchmark sends, one set per API generation, and the fixtures they need."""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = [
    "CURRENT_ENDPOINTS",
    "ENDPOINTS",
    "GENERATIONS",
    "GET_CHAT",
    "SEND_MESSAGE",
    "WRITE_CHATS",
    "Endpoint",
    "Fixtures",
    "endpoints_of",
]

CREATE_CHAT_BODY = json.dumps({"provider": "anthropic", "model": "claude-sonnet-4-5", "title": "bench"})
CREATE_MESSAGE_BODY = json.dumps({"content": "Why does the build fail on Tuesdays?"})

# Today's API: a chat is created in an organization with its first message (a run starts).
_ORGANIZATION = "7c60d51f-b44e-4682-87d6-449835ea4de6"  # the mock's demo organization
CURRENT_CREATE_CHAT_BODY = json.dumps(
    {"organization_id": _ORGANIZATION, "content": [{"type": "text", "text": "Why does the build fail?"}]}
)
CURRENT_SEND_BODY = json.dumps({"content": [{"type": "text", "text": "And on Wednesdays?"}]})
CURRENT_PATCH_BODY = json.dumps({"title": "Build failures on Tuesdays"})

# Today's send message goes to one of this many chats in turn: a chat that is busy with a run
# queues the message (a 200), and one whose queue is full refuses it (429), so a single chat
# under 32 connections would measure the queue limit instead of the request path.
WRITE_CHATS = 64


@dataclass(frozen=True, slots=True)
class Fixtures:
    """Ids created over HTTP before the load: one chat to read, chats to post messages to."""

    read_chat: str
    write_chat: str
    write_chats: tuple[str, ...] = ()

    def write_chat_at(self, index: int) -> str:
        """The index-th chat to post to (every post goes to write_chat when there is one only)."""
        chats = self.write_chats or (self.write_chat,)
        return chats[index % len(chats)]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One row of the report: a request sent again and again."""

    name: str
    method: str
    path: str  # relative to the server's base path; {read_chat} and {write_chat} are filled in
    body: str | None = None
    rotates: bool = False  # {write_chat} goes through Fixtures.write_chats, one per request

    def resolve(self, fixtures: Fixtures, index: int = 0) -> str:
        """The path with the fixture ids filled in (the index-th write chat if it rotates)."""
        write = fixtures.write_chat_at(index) if self.rotates else fixtures.write_chat
        return self.path.format(read_chat=fixtures.read_chat, write_chat=write)


# POST message writes to its own chat so that GET messages reads a transcript that does not
# grow with the load (the mock's store keeps every posted message and its agent rows).
# The names are the same in both generations, so that the two tables read alike.
GET_CHAT = "get chat"
SEND_MESSAGE = "send message"
ENDPOINTS = (
    Endpoint(GET_CHAT, "GET", "/chats/{read_chat}"),
    Endpoint("create chat", "POST", "/chats", CREATE_CHAT_BODY),
    Endpoint(SEND_MESSAGE, "POST", "/chats/{write_chat}/messages", CREATE_MESSAGE_BODY),
    Endpoint("list messages", "GET", "/chats/{read_chat}/messages"),
)

# Today's API. List chats comes first, while the caller has a few chats (a page of 25 asked);
# list messages reads a page of 50 from a chat that holds more (Client.fixtures).
CURRENT_ENDPOINTS = (
    Endpoint("list chats", "GET", "/chats?limit=25"),
    Endpoint(GET_CHAT, "GET", "/chats/{read_chat}"),
    Endpoint("create chat", "POST", "/chats", CURRENT_CREATE_CHAT_BODY),
    Endpoint(SEND_MESSAGE, "POST", "/chats/{write_chat}/messages", CURRENT_SEND_BODY, rotates=True),
    Endpoint("list messages", "GET", "/chats/{read_chat}/messages?limit=50"),
    Endpoint("update chat", "PATCH", "/chats/{read_chat}", CURRENT_PATCH_BODY),
)

# The generations, by the name `serve --api` takes, with what their fixtures need.
GENERATIONS = ("v1", "current")


def endpoints_of(api: str) -> tuple[tuple[Endpoint, ...], str]:
    """The endpoints of a generation and the body that creates a chat in it."""
    if api == "current":
        return CURRENT_ENDPOINTS, CURRENT_CREATE_CHAT_BODY
    return ENDPOINTS, CREATE_CHAT_BODY
