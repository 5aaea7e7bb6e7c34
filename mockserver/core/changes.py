"""What the store tells its listeners when a chat changes; generation-free, no HTTP.

A chat's listeners (`ChatStore.subscribe`) get every event below for that chat, in the order
the store made the changes, synchronously inside the call that made them. An owner's listeners
(`ChatStore.subscribe_owner`) get `ChatChanged` for each of the owner's chats. A generation
decides what, if anything, each event becomes on its wire.

`StreamPosition` is where a chat's live history stands now: what a new subscriber needs to
line itself up with the events still to come (a run's parts so far, the retry pending).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from mockserver.core.models import Chat, ChatMessage, LivePart, QueuedMessage

__all__ = [
    "ChatChanged",
    "ChatEvent",
    "MessagesDeleted",
    "PreviewReset",
    "QueueChanged",
    "RetryScheduled",
    "StreamPosition",
]


@dataclass(frozen=True, slots=True)
class ChatChanged:
    """A chat was created (`previous` None) or some of its fields changed (status, title, ...)."""

    chat: Chat
    previous: Chat | None


@dataclass(frozen=True, slots=True)
class QueueChanged:
    """The chat's queue is now `queue` (a message queued, removed, promoted or run)."""

    chat_id: UUID
    queue: tuple[QueuedMessage, ...]


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """A run's model call failed and will be tried again; `retry` is the generation's JSON."""

    chat_id: UUID
    retry: Any


@dataclass(frozen=True, slots=True)
class MessagesDeleted:
    """Rows were removed from the transcript (an edit truncates it); the history was rewritten."""

    chat_id: UUID
    deleted_ids: tuple[int, ...]
    remaining: tuple[ChatMessage, ...]  # the transcript after the deletion


@dataclass(frozen=True, slots=True)
class PreviewReset:
    """The parts streamed so far are void: a new attempt of the run's model call begins."""

    chat_id: UUID
    generation_attempt: int


# Everything a chat's listener may be called with.
ChatEvent = (
    ChatMessage | LivePart | ChatChanged | QueueChanged | RetryScheduled | MessagesDeleted | PreviewReset
)


@dataclass(frozen=True, slots=True)
class StreamPosition:
    """Where a chat's live history stands: its versions and the unstored parts since the last row.

    `history_version` counts the transcript's changes (a row appended, rows deleted);
    `truncated` says whether rows were ever deleted; `queue_version` counts the queue's changes;
    `generation_attempt` counts the model-call attempts of the open step (a reset adds one);
    `preview` holds the live parts published since the last history change or attempt,
    in order; `retry` is the pending retry's JSON (None when none is pending).
    """

    history_version: int
    truncated: bool
    queue_version: int
    generation_attempt: int
    preview: tuple[LivePart, ...]
    retry: Any
