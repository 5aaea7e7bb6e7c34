"""The values the mock stores: users, workspaces, chats and their messages."""

from __future__ import annotations

import enum
import marshal
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

__all__ = ["Chat", "ChatMessage", "ChatStatus", "LivePart", "QueuedMessage", "Role", "User", "Workspace"]


class Role(enum.Enum):
    """Who wrote a transcript row (the database constraint `chat_messages_role`)."""

    SYSTEM = "system"  # the system prompt and the run's stream events
    USER = "user"  # a message a user posted
    ASSISTANT = "assistant"  # the model's answer for one step
    TOOL_CALL = "tool_call"  # the model asking for a tool
    TOOL_RESULT = "tool_result"  # what the tool gave back
    TOOL = "tool"  # today's Coder: the results of one step's tool calls, in one row


class ChatStatus(enum.Enum):
    """Where a chat's turn stands (today's Coder; the seed's API never shows it)."""

    WAITING = "waiting"  # idle: no turn runs
    RUNNING = "running"  # a turn is generating
    ERROR = "error"  # the last turn failed (`Chat.last_error` says why)
    REQUIRES_ACTION = "requires_action"  # the turn waits for the client's tool results
    INTERRUPTING = "interrupting"  # an interrupt was asked; the turn is stopping


@dataclass(frozen=True, slots=True)
class User:
    """A Coder user, known by the id part of its session token."""

    id: UUID
    username: str
    organization_id: UUID
    token_id: str
    token_secret: str

    @property
    def token(self) -> str:
        """The whole session token, `<id>-<secret>`."""
        return f"{self.token_id}-{self.token_secret}"


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace a chat may be tied to."""

    id: UUID
    owner_id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat; `metadata` is any JSON value, treated as immutable once stored.

    The fields after `metadata` are today's Coder's; the seed's generation leaves them at
    their defaults and never shows them.
    """

    id: UUID
    created_at: datetime
    updated_at: datetime
    organization_id: UUID
    owner_id: UUID
    workspace_id: UUID | None
    title: str
    provider: str
    model: str
    metadata: Any
    status: ChatStatus = ChatStatus.WAITING
    archived: bool = False
    pin_order: int = 0  # 0: not pinned; pinned chats are numbered from 1
    labels: dict[str, str] = field(default_factory=dict)  # treated as immutable once stored
    last_error: Any = None  # why the last turn failed, as the generation's JSON; None when it did not
    last_read_message_id: int = 0  # the owner has seen the messages up to this id (today's Coder)


@dataclass(frozen=True, slots=True, init=False, eq=False, repr=False)
class ChatMessage:
    """One transcript row; `content` is the JSON envelope, immutable once stored.

    The envelope is kept packed (`marshal`'s bytes): one object a row instead of a dict, lists
    and strings for each part, so a million rows take a third of the memory and add no object
    for the garbage collector to walk. Each read of `content` unpacks a fresh copy (about a
    microsecond for a small row), equal to the value stored: same types, same key order.
    """

    chat_id: UUID
    id: int
    created_at: datetime
    role: Role
    packed: Any  # `_pack(content)`: bytes, or the value itself when marshal cannot hold it

    def __init__(self, chat_id: UUID, id: int, created_at: datetime, role: Role, content: Any) -> None:  # noqa: A002
        object.__setattr__(self, "chat_id", chat_id)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "created_at", created_at)
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "packed", _pack(content))

    @property
    def content(self) -> Any:
        """The JSON envelope as it was stored (a fresh copy each time)."""
        packed = self.packed
        return marshal.loads(packed) if type(packed) is bytes else packed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChatMessage):
            return NotImplemented
        return (self.chat_id, self.id, self.created_at, self.role, self.content) == (
            other.chat_id,
            other.id,
            other.created_at,
            other.role,
            other.content,
        )

    __hash__ = None  # type: ignore[assignment]  # as before: the content is a dict

    def __repr__(self) -> str:
        return (
            f"ChatMessage(chat_id={self.chat_id!r}, id={self.id!r}, created_at={self.created_at!r}, "
            f"role={self.role!r}, content={self.content!r})"
        )


def _pack(content: Any) -> Any:
    """`content` as marshal's bytes, or itself when marshal refuses a value in it (a subclass, an object).

    marshal keeps JSON's values exactly: dicts in key order, lists apart from tuples, ints of any
    size, floats to the bit, strings with lone surrogates. Equal values may pack differently (its
    back-references follow reference counts): rows compare by `content`. A bytes value is packed
    too, so bytes always means packed.
    """
    try:
        return marshal.dumps(content)
    except ValueError:
        return content


@dataclass(frozen=True, slots=True)
class LivePart:
    """A piece of a run sent live to watchers and never stored (e.g. a chunk of text)."""

    chat_id: UUID
    run_id: UUID
    type_id: str
    part: Any


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message sent while the chat was busy, waiting its turn; `content` is the generation's JSON."""

    id: int
    chat_id: UUID
    created_at: datetime
    content: Any
