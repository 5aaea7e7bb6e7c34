"""The values the mock stores: users, workspaces, chats and their messages."""

from __future__ import annotations

import enum
import marshal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from uuid import UUID

__all__ = [
    "Chat",
    "ChatMessage",
    "ChatStatus",
    "LivePart",
    "QueuedMessage",
    "Role",
    "User",
    "Workspace",
]


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


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        id: UUID,
        created_at: datetime,
        updated_at: datetime,
        organization_id: UUID,
        owner_id: UUID,
        workspace_id: UUID | None,
        title: str,
        provider: str,
        model: str,
        metadata: Any,
        status: ChatStatus = ChatStatus.WAITING,
        archived: bool = False,
        pin_order: int = 0,
        labels: dict[str, str] | None = None,  # None: no labels (a new dict)
        last_error: Any = None,
        last_read_message_id: int = 0,
    ) -> None:
        # The generated __init__ of a frozen class sets each field through object.__setattr__,
        # looked up by name; the slots' own descriptors do the same, ~1.1 µs against ~2.5 for
        # a chat (a send replaces its chat twice, a create builds one).
        _chat_set_id(self, id)
        _chat_set_created_at(self, created_at)
        _chat_set_updated_at(self, updated_at)
        _chat_set_organization_id(self, organization_id)
        _chat_set_owner_id(self, owner_id)
        _chat_set_workspace_id(self, workspace_id)
        _chat_set_title(self, title)
        _chat_set_provider(self, provider)
        _chat_set_model(self, model)
        _chat_set_metadata(self, metadata)
        _chat_set_status(self, status)
        _chat_set_archived(self, archived)
        _chat_set_pin_order(self, pin_order)
        _chat_set_labels(self, {} if labels is None else labels)
        _chat_set_last_error(self, last_error)
        _chat_set_last_read_message_id(self, last_read_message_id)


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The `__set__` of the slot `name` of `cls` (its member descriptor)."""
    setter: Callable[[Any, Any], None] = vars(cls)[name].__set__
    return setter


# Each by its slot's name (not by the fields' order, which a new field would shift).
_chat_set_id = _slot_setter(Chat, "id")
_chat_set_created_at = _slot_setter(Chat, "created_at")
_chat_set_updated_at = _slot_setter(Chat, "updated_at")
_chat_set_organization_id = _slot_setter(Chat, "organization_id")
_chat_set_owner_id = _slot_setter(Chat, "owner_id")
_chat_set_workspace_id = _slot_setter(Chat, "workspace_id")
_chat_set_title = _slot_setter(Chat, "title")
_chat_set_provider = _slot_setter(Chat, "provider")
_chat_set_model = _slot_setter(Chat, "model")
_chat_set_metadata = _slot_setter(Chat, "metadata")
_chat_set_status = _slot_setter(Chat, "status")
_chat_set_archived = _slot_setter(Chat, "archived")
_chat_set_pin_order = _slot_setter(Chat, "pin_order")
_chat_set_labels = _slot_setter(Chat, "labels")
_chat_set_last_error = _slot_setter(Chat, "last_error")
_chat_set_last_read_message_id = _slot_setter(Chat, "last_read_message_id")


@dataclass(frozen=True, slots=True, init=False, eq=False, repr=False)
class ChatMessage:
    """One transcript row; `content` is the JSON envelope, immutable once stored.

    A million rows must fit in a few hundred MiB, so a row is kept in two objects besides its
    id: the row itself (three fields, 56 B) and `row`, one bytes object: the role's number, the
    time as the 10 bytes datetime pickles it to, then the content as `marshal` packs it (instead
    of a datetime, a dict, a list and a dict per part, and a string for each value; none for the
    garbage collector to walk). `created_at`, `role` and `content` are read back from it: the
    very time, the role, and a fresh copy of the content equal to the value stored (same types,
    same key order); a content of a few hundred bytes unpacks in about a microsecond. A time in
    another zone than UTC, or a content marshal refuses, keeps the row as the tuple
    (role, created_at, content).

    datetime's state (its `__reduce_ex__(4)`, what pickle stores) is the exact time, fold
    included; `datetime(state, UTC)` gives it back. marshal keeps JSON's values exactly: dicts
    in key order, lists apart from tuples, ints of any size, floats to the bit, strings with
    lone surrogates. Equal values may pack differently (its back-references follow reference
    counts): rows compare by `content`.
    """

    chat_id: UUID
    id: int
    row: bytes | tuple[Role, datetime, Any]  # packed as below, or (role, created_at, content)

    __match_args__ = ("chat_id", "id", "created_at", "role", "content")  # as the fields were

    def __init__(self, chat_id: UUID, id: int, created_at: datetime, role: Role, content: Any) -> None:
        # Set through the slots' own descriptors (a frozen class refuses `self.x = ...`): what
        # object.__setattr__ does without looking each name up, ~0.1 µs a field on five rows a post.
        _set_chat_id(self, chat_id)
        _set_id(self, id)
        head = _packed_head(created_at, role)
        if head is not None:
            try:
                _set_row(self, head + marshal.dumps(content))
                return
            except ValueError:  # a content marshal refuses
                pass
        _set_row(self, (role, created_at, content))

    @classmethod
    def of_packed(
        cls, chat_id: UUID, id: int, created_at: datetime, role: Role, packed: bytes
    ) -> ChatMessage:
        """The row of a content given already packed: `packed` is a marshal stream that
        `marshal.loads` reads back as the content (what `marshal.dumps(content)` gives, or one
        written from constant pieces and a few values packed per row, see v1/packed.py); the
        caller answers for it. The same row as `ChatMessage(chat_id, id, created_at, role,
        content)`, without packing the content again."""
        head = _packed_head(created_at, role)
        if head is None:  # kept as a tuple (a time in another zone): the content unpacked
            return cls(chat_id, id, created_at, role, marshal.loads(packed))
        message: ChatMessage = _new_message(cls)
        _set_chat_id(message, chat_id)
        _set_id(message, id)
        _set_row(message, head + packed)
        return message

    @property
    def created_at(self) -> datetime:
        """When the row was stored."""
        row = self.row
        if type(row) is bytes:
            return _datetime_of_state(row[1:_HEAD_SIZE], UTC)
        assert isinstance(row, tuple)
        return row[1]

    @property
    def role(self) -> Role:
        """Who wrote the row."""
        row = self.row
        if type(row) is bytes:
            return _ROLES[row[0]]
        assert isinstance(row, tuple)
        return row[0]

    @property
    def content(self) -> Any:
        """The JSON envelope as it was stored (a fresh copy each time it is packed)."""
        row = self.row
        return marshal.loads(row[_HEAD_SIZE:]) if type(row) is bytes else row[2]

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


_set_chat_id, _set_id, _set_row = (_slot_setter(ChatMessage, name) for name in ("chat_id", "id", "row"))
_ROLES = tuple(Role)
# By the role's value: a dict keyed by the member itself would call Enum.__hash__ (Python code).
_ROLE_BYTES = {role._value_: bytes((number,)) for number, role in enumerate(_ROLES)}
_HEAD_SIZE = 11  # the role's number (1 byte), the time as datetime's pickled state (10 bytes)
_reduce_datetime: Callable[[datetime, int], Any] = datetime.__reduce_ex__  # (datetime, (state, tzinfo))
_new_message = object.__new__


def _packed_head(created_at: datetime, role: Role) -> bytes | None:
    """A packed row's first bytes (role and time, see ChatMessage), or None when the time is not
    in UTC and the row is kept as a tuple."""
    if type(created_at) is datetime and created_at.tzinfo is UTC:
        state: bytes = _reduce_datetime(created_at, 4)[1][0]
        return _ROLE_BYTES[role._value_] + state
    return None


_datetime_of_state: Callable[[bytes, tzinfo], datetime] = datetime  # type: ignore[assignment]  # datetime(state, tz)


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
