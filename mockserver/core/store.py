"""The in-memory store of chats and transcripts; it knows nothing of HTTP."""

from __future__ import annotations

import bisect
import dataclasses
import operator
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from mockserver.core.changes import (
    ChatChanged,
    ChatEvent,
    MessagesDeleted,
    PreviewReset,
    QueueChanged,
    RetryScheduled,
    StreamPosition,
)
from mockserver.core.clock import Clock, IdFactory
from mockserver.core.errors import ChatEvicted, ChatNotFound, MessageNotFound, QueuedMessageNotFound
from mockserver.core.models import Chat, ChatMessage, ChatStatus, LivePart, QueuedMessage, Role, User

__all__ = [
    "SYSTEM_PROMPT",
    "ChatStore",
    "Eviction",
    "EvictionListener",
    "Listener",
    "OwnerListener",
    "StoreLimits",
]

# Called with each change of a watched chat (core/changes.py): rows, live parts, fields, queue...
Listener = Callable[[ChatEvent], None]

# Called with each chat of an owner created or changed.
OwnerListener = Callable[[ChatChanged], None]

# How many evicted chat ids the store remembers, to answer them with a 404 that says why.
_EVICTED_REMEMBERED = 10_000


# How a row is made from (chat_id, id, created_at, role, content): ChatMessage itself, or
# ChatMessage.of_packed for a content given as its marshal stream.
_MakeRow = Callable[[UUID, int, datetime, Role, Any], ChatMessage]


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """Caps for a long-running mock; None is unbounded. Past a cap the oldest chats are evicted."""

    max_chats: int | None = None  # chats kept; a new chat evicts the oldest
    max_messages: int | None = None  # rows kept over all chats; a new row evicts the oldest chats

    def __post_init__(self) -> None:
        for name in ("max_chats", "max_messages"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(frozen=True, slots=True)
class Eviction:
    """A chat the store forgot to stay within its limits."""

    chat: Chat
    messages: int  # the rows forgotten with it
    reason: str  # which limit, e.g. `max_chats 100`


# Called with each eviction (the control plane's journal records them).
EvictionListener = Callable[[Eviction], None]

# A Chat's fields in its constructor's order, all read in one call, and each one's place.
_CHAT_FIELDS = tuple(field.name for field in dataclasses.fields(Chat))
_chat_values = operator.attrgetter(*_CHAT_FIELDS)
_CHAT_FIELD_PLACES = {name: place for place, name in enumerate(_CHAT_FIELDS)}


def _replaced(chat: Chat, **changes: Any) -> Chat:
    """`dataclasses.replace(chat, **changes)`, in ~2.8 µs against ~4.4 (two or three a turn).

    The values are read in one call and passed by position, where replace walks the fields one
    by one and passes them by name. An unknown field is a KeyError.
    """
    values = list(_chat_values(chat))
    for name, value in changes.items():
        values[_CHAT_FIELD_PLACES[name]] = value
    return Chat(*values)


def _new_chat(
    owner: User,
    chat_id: UUID,
    created_at: datetime,
    updated_at: datetime,
    *,
    workspace_id: UUID | None,
    title: str,
    provider: str,
    model: str,
    metadata: Any,
    labels: Mapping[str, str],
    status: ChatStatus,
) -> Chat:
    """A new chat of `owner`'s (its labels copied), as `create_chat` and its one-build path store it."""
    return Chat(
        id=chat_id,
        created_at=created_at,
        updated_at=updated_at,
        organization_id=owner.organization_id,
        owner_id=owner.id,
        workspace_id=workspace_id,
        title=title,
        provider=provider,
        model=model,
        metadata=metadata,
        labels=dict(labels),
        status=status,
    )


# The one message coderd stores when a chat is created.
SYSTEM_PROMPT = {"type": "system_prompt", "content": "You are a helpful assistant."}


class _LiveHistory:
    """A chat's stream position, kept as the store changes it (see StreamPosition)."""

    __slots__ = ("generation_attempt", "history_version", "preview", "queue_version", "retry", "truncated")

    def __init__(self) -> None:
        self.history_version = 0
        self.truncated = False
        self.queue_version = 0
        self.generation_attempt = 0
        self.preview: list[LivePart] | None = None  # made by the first part: most chats are idle
        self.retry: Any = None

    def history_changed(self, changes: int = 1) -> None:
        # New rows (or a truncation) close the open preview: its parts are now a row or void.
        self.history_version += changes
        self.generation_attempt = 0
        self.preview = None
        self.retry = None


class ChatStore:
    """Chats by id and their transcripts; get and append are O(1), a list is O(its length).

    Message ids come from one global sequence, as from the Postgres sequence behind them.
    Every table is keyed by the ids' ints (`UUID.int`): a UUID's hash is Python code (a frame
    each lookup, and a post makes a dozen or two), an int's is not.
    """

    def __init__(self, *, clock: Clock, new_id: IdFactory, limits: StoreLimits | None = None) -> None:
        self._clock = clock
        self._new_id = new_id
        self._limits = limits or StoreLimits()
        self._chats: dict[int, Chat] = {}  # in creation order: the first is the oldest
        # The same chats by owner, each in creation order, so that a list reads the owner's chats,
        # not everyone's.
        self._owned: dict[int, dict[int, Chat]] = {}
        self._transcripts: dict[int, list[ChatMessage]] = {}
        self._message_count = 0  # rows over all transcripts
        self._last_message_id = 0  # the global sequence; imports move it past their ids
        self._listeners: dict[int, list[Listener]] = {}
        self._owner_listeners: dict[int, list[OwnerListener]] = {}
        self._live: dict[int, _LiveHistory] = {}
        self._eviction_listeners: list[EvictionListener] = []
        self._evicted: OrderedDict[int, int] = OrderedDict()  # chat id -> owner id, the newest last
        self._queues: dict[int, list[QueuedMessage]] = {}
        self._last_queued_id = 0  # queued messages have a sequence of their own

    def clear(self) -> int:
        """Forget every chat and its transcript; message ids restart at 1. Returns the chat count."""
        count = len(self._chats)
        self._chats.clear()
        self._owned.clear()
        self._transcripts.clear()
        self._evicted.clear()
        self._message_count = 0
        self._last_message_id = 0
        self._queues.clear()
        self._live.clear()
        self._last_queued_id = 0
        return count

    @property
    def message_count(self) -> int:
        """Rows stored over all chats."""
        return self._message_count

    def create_chat(
        self,
        owner: User,
        *,
        workspace_id: UUID | None,
        title: str,
        provider: str,
        model: str,
        metadata: Any,
        labels: dict[str, str] | None = None,
        system_prompt: Any = SYSTEM_PROMPT,
        status: ChatStatus | None = None,
        chat_id: UUID | None = None,
    ) -> Chat:
        """Store a new chat and, unless `system_prompt` is None, its system-prompt message.

        `status` is the chat's status from its first moment (today's Coder creates chats running);
        `chat_id` a fixed id (today's orchestrator chat), else the id factory's next.
        """
        now = self._clock()
        chat = _new_chat(
            owner,
            chat_id or self._new_id(),
            now,
            now,
            workspace_id=workspace_id,
            title=title,
            provider=provider,
            model=model,
            metadata=metadata,
            labels=labels or {},
            status=ChatStatus.WAITING if status is None else status,  # a Chat's default status
        )
        self._put(chat)
        key = chat.id.int
        self._transcripts[key] = []
        self._live[key] = _LiveHistory()
        if self._limits.max_chats is not None:
            while len(self._chats) > self._limits.max_chats:
                self._evict(next(iter(self._chats.values())), f"max_chats {self._limits.max_chats}")
        if chat.owner_id.int in self._owner_listeners:  # most creates have no one following the owner
            self._notify_owner(ChatChanged(chat=chat, previous=None))
        if system_prompt is not None:
            self.append_message(chat.id, Role.SYSTEM, system_prompt)
        return chat

    def create_chat_with_message(
        self,
        owner: User,
        content: Any,
        *,
        workspace_id: UUID | None,
        title: str,
        provider: str,
        model: str,
        metadata: Any,
        labels: dict[str, str],
        status: ChatStatus,
        chat_id: UUID | None = None,
    ) -> Chat:
        """`create_chat` (no system prompt), `append_message` of the user's `content`, then
        `update_chat` with no change (`updated_at` after the message), as today's CreateChat.

        When no one can see the chat in between (no listener on it or on its owner, no cap
        that evicts), it is built once, with both instants, instead of built and replaced:
        the same clock reads and ids in the same order, the same chat and row in the end.
        """
        unseen = (
            owner.id.int not in self._owner_listeners
            and (chat_id is None or chat_id.int not in self._listeners)
            and self._limits.max_chats is None
            and self._limits.max_messages is None
        )
        if not unseen:
            chat = self.create_chat(
                owner,
                workspace_id=workspace_id,
                title=title,
                provider=provider,
                model=model,
                metadata=metadata,
                labels=labels,
                system_prompt=None,
                status=status,
                chat_id=chat_id,
            )
            self.append_message(chat.id, Role.USER, content)
            return self.update_chat(chat.id)
        created_at = self._clock()
        new_id = chat_id or self._new_id()
        self._last_message_id += 1
        message = ChatMessage(new_id, self._last_message_id, self._clock(), Role.USER, content)
        chat = _new_chat(
            owner,
            new_id,
            created_at,
            self._clock(),
            workspace_id=workspace_id,
            title=title,
            provider=provider,
            model=model,
            metadata=metadata,
            labels=labels,
            status=status,
        )
        self._put(chat)
        key = new_id.int
        self._transcripts[key] = [message]
        self._message_count += 1
        live = self._live[key] = _LiveHistory()
        live.history_changed()
        return chat

    def get_chat(self, owner: User, chat_id: UUID) -> Chat:
        """The chat, if it exists and is the owner's; another user's chat is not found."""
        chat = self._chats.get(chat_id.int)
        if chat is None or chat.owner_id.int != owner.id.int:
            if chat is None and self._evicted.get(chat_id.int) == owner.id.int:
                raise ChatEvicted(str(chat_id))
            raise ChatNotFound(str(chat_id))
        return chat

    def chat(self, chat_id: UUID) -> Chat:
        """The chat of this id, whoever owns it (for the mock's own runs, not for requests)."""
        chat = self._chats.get(chat_id.int)
        if chat is None:
            raise ChatNotFound(str(chat_id))
        return chat

    def chats_of(self, owner: User) -> tuple[Chat, ...]:
        """The owner's chats, in the order they were created."""
        owned = self._owned.get(owner.id.int)
        return () if owned is None else tuple(owned.values())

    def _put(self, chat: Chat) -> None:
        """Store a new chat, or a chat's new version (its owner never changes)."""
        key = chat.id.int
        self._chats[key] = chat
        self._owned.setdefault(chat.owner_id.int, {})[key] = chat

    def update_chat(self, chat_id: UUID, **changes: Any) -> Chat:
        """Replace some fields of a chat (dataclass field names); `updated_at` becomes now."""
        chat = self._chats.get(chat_id.int)
        if chat is None:
            raise ChatNotFound(str(chat_id))
        previous = chat
        chat = _replaced(chat, updated_at=self._clock(), **changes)
        self._put(chat)
        # Most changes have no one following the chat or its owner: no event to build for no one.
        watched = chat_id.int in self._listeners
        if watched or chat.owner_id.int in self._owner_listeners:
            changed = ChatChanged(chat=chat, previous=previous)
            if watched:
                self._notify(chat_id, changed)
            self._notify_owner(changed)
        return chat

    def mark_read(self, chat_id: UUID, message_id: int) -> None:
        """Move the chat's read cursor; neither `updated_at` nor any listener hears of it."""
        chat = self._chats.get(chat_id.int)
        if chat is not None and chat.last_read_message_id != message_id:
            self._put(_replaced(chat, last_read_message_id=message_id))

    def list_messages(self, owner: User, chat_id: UUID) -> Sequence[ChatMessage]:
        """The owner's chat's transcript, by id ascending."""
        self.get_chat(owner, chat_id)
        return tuple(self._transcripts[chat_id.int])

    def append_message(self, chat_id: UUID, role: Role, content: Any) -> ChatMessage:
        """Append a row to a chat's transcript with the next id of the global sequence."""
        return self._append_row(chat_id, role, content, ChatMessage)

    def append_packed_message(self, chat_id: UUID, role: Role, packed: bytes) -> ChatMessage:
        """`append_message` of a content given as its marshal stream (see ChatMessage.of_packed)."""
        return self._append_row(chat_id, role, packed, ChatMessage.of_packed)

    def append_messages(self, chat_id: UUID, rows: Sequence[tuple[Role, Any]]) -> None:
        """`append_message` of each (role, content) in turn: rows written at the same moment.

        With no listener on the chat and no cap on rows, nothing looks in between two of them:
        they are written in one pass, the chat looked up once. Otherwise row by row.
        """
        self._append_rows(chat_id, rows, ChatMessage)

    def append_packed_messages(self, chat_id: UUID, rows: Sequence[tuple[Role, bytes]]) -> None:
        """`append_messages` of rows whose contents are given as marshal streams (see
        ChatMessage.of_packed)."""
        self._append_rows(chat_id, rows, ChatMessage.of_packed)

    def _append_row(self, chat_id: UUID, role: Role, content: Any, make: _MakeRow) -> ChatMessage:
        key = chat_id.int
        transcript = self._transcripts.get(key)
        if transcript is None:
            raise ChatNotFound(str(chat_id))
        self._last_message_id += 1
        message = make(chat_id, self._last_message_id, self._clock(), role, content)
        transcript.append(message)
        self._message_count += 1
        self._live[key].history_changed()
        if key in self._listeners:  # most rows have no watcher: no empty tuple to walk
            self._notify(chat_id, message)
        if self._limits.max_messages is not None:
            self._keep_messages_within_limit(chat_id)
        return message

    def _append_rows(self, chat_id: UUID, rows: Sequence[tuple[Role, Any]], make: _MakeRow) -> None:
        key = chat_id.int
        transcript = self._transcripts.get(key)
        if transcript is None:
            raise ChatNotFound(str(chat_id))
        if key in self._listeners or self._limits.max_messages is not None:
            for role, content in rows:
                self._append_row(chat_id, role, content, make)
            return
        clock, message_id = self._clock, self._last_message_id
        for role, content in rows:
            message_id += 1
            transcript.append(make(chat_id, message_id, clock(), role, content))
        self._last_message_id = message_id
        self._message_count += len(rows)
        self._live[key].history_changed(len(rows))

    # --- limits ---------------------------------------------------------------------------

    def on_evict(self, listener: EvictionListener) -> None:
        """Call `listener` with each chat evicted from now on."""
        self._eviction_listeners.append(listener)

    def _keep_messages_within_limit(self, written: UUID) -> None:
        """Evict the oldest chats but the one just written until the rows fit under max_messages.

        The chat being written is kept even when it alone is over the cap: its run goes on.
        """
        limit = self._limits.max_messages
        if limit is None or self._message_count <= limit:
            return
        kept = written.int
        for chat in [c for key, c in self._chats.items() if key != kept]:
            if self._message_count <= limit:
                return
            self._evict(chat, f"max_messages {limit}")

    def _evict(self, chat: Chat, reason: str) -> None:
        key = chat.id.int
        del self._chats[key]
        owned = self._owned[chat.owner_id.int]
        del owned[key]
        if not owned:  # an owner whose last chat went holds nothing
            del self._owned[chat.owner_id.int]
        rows = len(self._transcripts.pop(key))
        self._queues.pop(key, None)
        self._live.pop(key, None)
        self._message_count -= rows
        self._evicted[key] = chat.owner_id.int
        if len(self._evicted) > _EVICTED_REMEMBERED:
            self._evicted.popitem(last=False)
        eviction = Eviction(chat=chat, messages=rows, reason=reason)
        for listener in tuple(self._eviction_listeners):
            listener(eviction)

    def messages_of(self, chat_id: UUID) -> tuple[ChatMessage, ...]:
        """A chat's transcript by id ascending, whoever owns it (the caller checked)."""
        return tuple(self._transcript(chat_id))

    def has_message_after(self, chat_id: UUID, role: Role, after_id: int) -> bool:
        """Whether the chat holds a row of `role` with an id above `after_id` (a read cursor).

        Reads back from the newest row without copying the transcript: a chat list asks this of
        every chat on its page, and the newest rows answer it.
        """
        for message in reversed(self._transcript(chat_id)):
            if message.id <= after_id:
                return False
            if message.role is role:
                return True
        return False

    def get_message(self, chat_id: UUID, message_id: int) -> ChatMessage:
        """One row of a chat's transcript; MessageNotFound when the chat has no such row."""
        transcript = self._transcript(chat_id)
        index = bisect.bisect_left(transcript, message_id, key=lambda m: m.id)
        if index == len(transcript) or transcript[index].id != message_id:
            raise MessageNotFound(str(message_id))
        return transcript[index]

    def message_page(
        self, chat_id: UUID, *, before_id: int, after_id: int, limit: int, ascending: bool
    ) -> tuple[tuple[ChatMessage, ...], bool]:
        """Up to `limit` rows with after_id < id < before_id (0: no bound), and whether more remain.

        Descending from the newest, or ascending from the oldest; the bool says whether a row
        beyond the page exists in that direction.
        """
        transcript = self._transcript(chat_id)
        low = bisect.bisect_right(transcript, after_id, key=lambda m: m.id) if after_id else 0
        high = bisect.bisect_left(transcript, before_id, key=lambda m: m.id) if before_id else len(transcript)
        if high - low <= 0:
            return (), False
        if ascending:
            rows = transcript[low : min(high, low + limit)]
        else:
            rows = transcript[max(low, high - limit) : high][::-1]
        return tuple(rows), high - low > limit

    def delete_messages_from(self, chat_id: UUID, message_id: int) -> tuple[int, ...]:
        """Drop the row `message_id` and every later row of the chat; returns their ids in order."""
        transcript = self._transcript(chat_id)
        index = bisect.bisect_left(transcript, message_id, key=lambda m: m.id)
        deleted = tuple(m.id for m in transcript[index:])
        del transcript[index:]
        self._message_count -= len(deleted)
        if deleted:
            live = self._live[chat_id.int]
            live.history_changed()
            live.truncated = True
            self._notify(
                chat_id, MessagesDeleted(chat_id=chat_id, deleted_ids=deleted, remaining=tuple(transcript))
            )
        return deleted

    def _transcript(self, chat_id: UUID) -> list[ChatMessage]:
        transcript = self._transcripts.get(chat_id.int)
        if transcript is None:
            raise ChatNotFound(str(chat_id))
        return transcript

    # --- the queue of messages sent while a chat was busy -------------------------------------

    def queue_of(self, chat_id: UUID) -> tuple[QueuedMessage, ...]:
        """The chat's queued messages, the next to run first."""
        return tuple(self._queue(chat_id))

    def enqueue(self, chat_id: UUID, content: Any) -> QueuedMessage:
        """Put a message at the end of the chat's queue, with the next queued-message id."""
        queue = self._queue(chat_id, make=True)
        self._last_queued_id += 1
        queued = QueuedMessage(
            id=self._last_queued_id, chat_id=chat_id, created_at=self._clock(), content=content
        )
        queue.append(queued)
        self._queue_changed(chat_id)
        return queued

    def remove_queued(self, chat_id: UUID, queued_id: int) -> QueuedMessage:
        """Take a message out of the queue; QueuedMessageNotFound when the chat has no such one."""
        queue = self._queue(chat_id)
        for index, queued in enumerate(queue):
            if queued.id == queued_id:
                queue.pop(index)
                self._queue_changed(chat_id)
                return queued
        raise QueuedMessageNotFound(str(queued_id))

    def put_first(self, chat_id: UUID, queued: QueuedMessage) -> None:
        """Put a queued message at the head of the chat's queue."""
        self._queue(chat_id, make=True).insert(0, queued)
        self._queue_changed(chat_id)

    def pop_queued(self, chat_id: UUID) -> QueuedMessage | None:
        """Take the head of the chat's queue, or None when it is empty."""
        queue = self._queue(chat_id)
        if not queue:
            return None
        head = queue.pop(0)
        self._queue_changed(chat_id)
        return head

    def clear_queue(self, chat_id: UUID) -> None:
        """Empty the chat's queue."""
        queue = self._queue(chat_id)
        if queue:
            queue.clear()
            self._queue_changed(chat_id)

    def _queue_changed(self, chat_id: UUID) -> None:
        key = chat_id.int
        self._live[key].queue_version += 1
        queue = self._queues[key]
        if not queue:
            del self._queues[key]  # an empty queue is no list: most chats never queue
        self._notify(chat_id, QueueChanged(chat_id=chat_id, queue=tuple(queue)))

    def _queue(self, chat_id: UUID, *, make: bool = False) -> list[QueuedMessage]:
        """The chat's queue; an empty one is kept only when `make` (the caller adds to it)."""
        key = chat_id.int
        queue = self._queues.get(key)
        if queue is None:
            if key not in self._live:
                raise ChatNotFound(str(chat_id))
            queue = []
            if make:
                self._queues[key] = queue
        return queue

    # --- live transcript ------------------------------------------------------------------

    def subscribe(self, chat_id: UUID, listener: Listener) -> Callable[[], None]:
        """Call `listener` with each change of the chat from now on; returns the unsubscribe.

        Listeners run synchronously inside the call that changed the chat, so that a caller
        who subscribes and then reads the chat (with no await between) misses and repeats nothing.
        """
        key = chat_id.int
        listeners = self._listeners.setdefault(key, [])
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)
            # The chat's list goes with its last listener: nothing is left per watcher or per chat.
            if not listeners and self._listeners.get(key) is listeners:
                del self._listeners[key]

        return unsubscribe

    def listener_count(self, chat_id: UUID) -> int:
        """How many listeners follow the chat (0 once the last one unsubscribed)."""
        return len(self._listeners.get(chat_id.int, ()))

    def subscribe_owner(self, owner_id: UUID, listener: OwnerListener) -> Callable[[], None]:
        """Call `listener` with each of the owner's chats created or changed; returns the unsubscribe."""
        key = owner_id.int
        listeners = self._owner_listeners.setdefault(key, [])
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)
            if not listeners and self._owner_listeners.get(key) is listeners:
                del self._owner_listeners[key]

        return unsubscribe

    def owner_listener_count(self, owner_id: UUID) -> int:
        """How many listeners follow the owner's chats."""
        return len(self._owner_listeners.get(owner_id.int, ()))

    def publish_partial(self, chat_id: UUID, run_id: UUID, type_id: str, part: Any) -> None:
        """Send a live, unstored piece of a run to the chat's listeners; it joins the open preview."""
        live = self._live.get(chat_id.int)
        if live is None:
            raise ChatNotFound(str(chat_id))
        event = LivePart(chat_id=chat_id, run_id=run_id, type_id=type_id, part=part)
        if live.preview is None:
            live.preview = []
        live.preview.append(event)
        self._notify(chat_id, event)

    def publish_retry(self, chat_id: UUID, retry: Any) -> None:
        """A model call failed and will be retried: `retry` (the generation's JSON) is pending.

        It stays the chat's pending retry (StreamPosition.retry) until the next row is stored.
        """
        live = self._live.get(chat_id.int)
        if live is None:
            raise ChatNotFound(str(chat_id))
        live.retry = retry
        self._notify(chat_id, RetryScheduled(chat_id=chat_id, retry=retry))

    def publish_reset(self, chat_id: UUID) -> None:
        """A new attempt of the open step's model call begins: the parts streamed so far are void."""
        live = self._live.get(chat_id.int)
        if live is None:
            raise ChatNotFound(str(chat_id))
        live.generation_attempt += 1
        live.preview = None
        self._notify(chat_id, PreviewReset(chat_id=chat_id, generation_attempt=live.generation_attempt))

    def clear_retry(self, chat_id: UUID) -> None:
        """The run ended without storing a row (it failed, or was stopped): no retry is pending.

        Silent, as coderd clears a chat's retry state without a stream event; a chat that is gone
        has nothing to clear.
        """
        live = self._live.get(chat_id.int)
        if live is not None:
            live.retry = None

    def stream_position(self, chat_id: UUID) -> StreamPosition:
        """Where the chat's live history stands now (for a new subscriber to line up with)."""
        live = self._live.get(chat_id.int)
        if live is None:
            raise ChatNotFound(str(chat_id))
        return StreamPosition(
            history_version=live.history_version,
            truncated=live.truncated,
            queue_version=live.queue_version,
            generation_attempt=live.generation_attempt,
            preview=tuple(live.preview or ()),
            retry=live.retry,
        )

    def _notify(self, chat_id: UUID, event: ChatEvent) -> None:
        for listener in tuple(self._listeners.get(chat_id.int, ())):
            listener(event)

    def _notify_owner(self, changed: ChatChanged) -> None:
        for listener in tuple(self._owner_listeners.get(changed.chat.owner_id.int, ())):
            listener(changed)

    # --- fixtures -------------------------------------------------------------------------

    def restore_chat(
        self, chat: Chat, messages: Iterable[ChatMessage], queued: Iterable[QueuedMessage] = ()
    ) -> None:
        """Put back a chat, its transcript and its queue as they were, ids included (fixtures).

        The global message sequence (and the queued-message one) continues after the highest
        id in the store. Raises ValueError for a chat id already taken, a message of another
        chat, or a message id already used or not rising.
        """
        key = chat.id.int
        if key in self._chats:
            raise ValueError(f"chat {chat.id} already exists")
        rows = list(messages)
        taken = {m.id for transcript in self._transcripts.values() for m in transcript}
        previous = 0
        for message in rows:
            if message.chat_id != chat.id:
                raise ValueError(f"message {message.id} belongs to chat {message.chat_id}, not {chat.id}")
            if message.id <= previous or message.id in taken:
                raise ValueError(f"message id {message.id} is already used or not rising")
            previous = message.id
        waiting = list(queued)
        taken_queued = {q.id for queue in self._queues.values() for q in queue}
        for item in waiting:
            if item.chat_id != chat.id:
                raise ValueError(f"queued message {item.id} belongs to chat {item.chat_id}, not {chat.id}")
            if item.id in taken_queued:
                raise ValueError(f"queued message id {item.id} is already used")
            taken_queued.add(item.id)
        self._put(chat)
        self._transcripts[key] = rows
        if waiting:
            self._queues[key] = waiting
        live = self._live[key] = _LiveHistory()
        live.history_version = len(rows)
        live.queue_version = 1 if waiting else 0
        self._message_count += len(rows)
        self._last_message_id = max(self._last_message_id, previous)
        self._last_queued_id = max([self._last_queued_id, *(item.id for item in waiting)])
        if self._limits.max_chats is not None:
            while len(self._chats) > self._limits.max_chats:
                self._evict(next(iter(self._chats.values())), f"max_chats {self._limits.max_chats}")
        self._keep_messages_within_limit(chat.id)
