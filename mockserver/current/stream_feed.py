"""A chat's changes as today's stream events: the snapshot a client gets first, then live events.

coderd's stream loop (WIRE.md section 7.1) keeps the versions it has seen and, on each change
of the chat, sends what differs, in a fixed order. The mock's store tells each change as it
makes it, so one `ChatStreamFeed` per watched chat turns each change into its events (encoded
once for every client of the chat), in the same order: messages (or `history_reset` and the
whole transcript), `queue_update`, `status`, `error`, `action_required`, `retry`,
`preview_reset`. Live parts become `message_part` events numbered from 1 within the history
version and generation attempt they belong to. `snapshot` is the same diff against nothing,
which is what a client connecting (or reconnecting with `after_id`) is sent first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from mockserver.core.changes import (
    ChatChanged,
    MessagesDeleted,
    PreviewReset,
    QueueChanged,
    RetryScheduled,
)
from mockserver.core.models import Chat, ChatMessage, ChatStatus, LivePart
from mockserver.core.store import ChatStore
from mockserver.current.stream_wire import (
    action_required_event,
    encode_event,
    error_event,
    history_reset_event,
    message_event,
    message_part_event,
    pending_tool_calls,
    preview_reset_event,
    queue_update_event,
    retry_event,
    status_event,
)
from mockserver.edge.fanout import Frame
from mockserver.edge.row_frames import RowFrames

__all__ = ["ChatStreamFeed", "Snapshot"]


class Snapshot:
    """What a client is sent on connect: the state events, then the open step's parts so far.

    The state is taken whole at the join (the rows as references, the rest encoded), but a row
    is encoded only as its frame is packed: a transcript of 100 MB joined by ten clients costs
    no stall and no ten copies, only each client's frame being sent (and `RowFrames`' share).
    """

    __slots__ = ("parts", "state")

    def __init__(self, state: Iterator[str], parts: list[str]) -> None:
        self.state = state  # encoded events, in order, each made as it is asked for
        self.parts = parts  # encoded message_part events, queued as the first live events


class ChatStreamFeed:
    """One chat's store events as encoded stream events (a Feed of edge/fanout.py)."""

    __slots__ = ("_attempt", "_chat_id", "_history_version", "_rows", "_seq", "_store")

    def __init__(self, store: ChatStore, chat_id: UUID) -> None:
        self._store = store
        self._chat_id = chat_id
        self._rows = RowFrames(_encoded_message)  # each row's event, once for every joining client
        position = store.stream_position(chat_id)
        self._history_version = position.history_version
        self._attempt = position.generation_attempt
        self._seq = len(position.preview)

    def frames(self, event: Any) -> Iterable[Frame]:
        """The encoded events `event` becomes (no row ids: a stream never drops a repeat)."""
        return [(_encoded(e), None) for e in self._events(event)]

    def _events(self, event: Any) -> Sequence[dict[str, Any] | str]:
        """The events `event` becomes; a row's `message` event comes encoded already."""
        chat_id = self._chat_id
        match event:
            case LivePart():
                self._seq += 1
                return [self._part(event, self._seq)]
            case ChatMessage():
                self._history_changed()
                return [message_event(event), preview_reset_event(chat_id)]
            case MessagesDeleted():
                self._history_changed()
                rows = [self._rows.of(m) for m in event.remaining]
                return [history_reset_event(chat_id), *rows, preview_reset_event(chat_id)]
            case QueueChanged():
                return [queue_update_event(chat_id, event.queue)]
            case ChatChanged(chat=chat, previous=previous):
                if previous is None or previous.status is chat.status:
                    return []
                return self._status_events(chat)
            case RetryScheduled():
                return [retry_event(chat_id, event.retry)]
            case PreviewReset():
                self._attempt = event.generation_attempt
                self._seq = 0
                return [preview_reset_event(chat_id)]
        return []

    def snapshot(self, chat: Chat, after_id: int) -> Snapshot:
        """The events a client connecting now gets first (call with no await since joining)."""
        position = self._store.stream_position(chat.id)
        messages = self._store.messages_of(chat.id)
        first: list[dict[str, Any]] = []
        if position.truncated:
            # The first sync reads every revision, deleted rows included: a rewritten history
            # is sent whole, whatever after_id says.
            first.append(history_reset_event(chat.id))
            rows: Sequence[ChatMessage] = messages
        else:
            rows = [m for m in messages if m.id > after_id]
        events: list[dict[str, Any] | str] = []
        if position.queue_version:
            events.append(queue_update_event(chat.id, self._store.queue_of(chat.id)))
        events += self._status_events(chat)
        if position.retry is not None:
            events.append(retry_event(chat.id, position.retry))
        if position.history_version or position.generation_attempt:
            events.append(preview_reset_event(chat.id))
        parts = [encode_event(self._part(part, seq)) for seq, part in enumerate(position.preview, start=1)]
        state = itertools.chain(map(_encoded, first), map(self._rows.of, rows), [_encoded(e) for e in events])
        return Snapshot(state, parts)

    def _status_events(self, chat: Chat) -> list[dict[str, Any]]:
        events = [status_event(chat)]
        if chat.status is ChatStatus.ERROR:
            events.append(error_event(chat))
        elif chat.status is ChatStatus.REQUIRES_ACTION:
            calls = pending_tool_calls(self._store.messages_of(chat.id))
            events.append(action_required_event(chat.id, calls))
        return events

    def _history_changed(self) -> None:
        self._history_version += 1
        self._attempt = 0
        self._seq = 0

    def _part(self, part: LivePart, seq: int) -> dict[str, Any]:
        return message_part_event(
            self._chat_id,
            part.part,
            history_version=self._history_version,
            generation_attempt=self._attempt,
            seq=seq,
        )


def _encoded_message(row: ChatMessage) -> str:
    return encode_event(message_event(row))


def _encoded(event: dict[str, Any] | str) -> str:
    """An event as sent: a row's comes encoded already (from `RowFrames`), the others are encoded here."""
    return event if isinstance(event, str) else encode_event(event)
