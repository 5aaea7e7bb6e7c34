"""The fake agent: after a message is posted, it writes one run's rows into the transcript.

The rows follow coderd/chats/runner.go (WIRE.md section 4): `run_started`, the assistant
message of each step, the step's `usage`, then `run_finished`. The agent never answers a
request; it only writes rows through the store, on the scheduler's time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from mockserver.errors import ChatNotFound
from mockserver.models import Chat, Role
from mockserver.scheduler import Scheduler
from mockserver.store import ChatStore

__all__ = ["EchoAgent", "Row", "user_message_envelope"]


def user_message_envelope(run_id: UUID, text: str) -> dict[str, Any]:
    """The envelope coderd stores for a posted user message."""
    return {
        "type": "message",
        "run_id": str(run_id),
        "message": {"id": "", "content": "", "role": "user", "parts": [{"type": "text", "text": text}]},
    }


@dataclass(frozen=True, slots=True)
class Row:
    """A transcript row the agent will write, `delay` seconds after the previous one."""

    delay: float
    role: Role
    content: dict[str, Any]


def _stream_event(
    run_id: UUID, event: str, usage: tuple[int | None, int | None], **extra: Any
) -> dict[str, Any]:
    prompt, completion = usage
    return {
        "type": "stream_event",
        "run_id": str(run_id),
        "event": event,
        "usage": {"promptTokens": prompt, "completionTokens": completion},
        **extra,
    }


class EchoAgent:
    """Answers every message with `You said: <text>` in one step, finishing with `stop`."""

    def __init__(self, store: ChatStore, scheduler: Scheduler) -> None:
        self._store = store
        self._scheduler = scheduler

    def start_run(self, chat: Chat, run_id: UUID, text: str) -> None:
        """Begin writing the run's rows; returns at once."""
        self._write(chat.id, iter(self.rows(run_id, text)))

    @staticmethod
    def rows(run_id: UUID, text: str) -> Sequence[Row]:
        """The rows of one echo run, in the order the server stores them."""
        reply = f"You said: {text}"
        usage = (len(text.split()) + 6, len(reply.split()))
        assistant = {
            "type": "message",
            "run_id": str(run_id),
            "message": {
                "id": f"msg-{run_id.hex[:24]}",
                "content": reply,
                "role": "assistant",
                "parts": [{"type": "step-start"}, {"type": "text", "text": reply}],
            },
        }
        return (
            Row(0.0, Role.SYSTEM, _stream_event(run_id, "run_started", (None, None))),
            Row(0.0, Role.ASSISTANT, assistant),
            Row(0.0, Role.SYSTEM, _stream_event(run_id, "usage", usage, step=0)),
            Row(
                0.0, Role.SYSTEM, _stream_event(run_id, "run_finished", usage, finish_reason="stop", steps=1)
            ),
        )

    def _write(self, chat_id: UUID, rows: Iterator[Row]) -> None:
        row = next(rows, None)
        if row is None:
            return

        def write_then_continue() -> None:
            try:
                self._store.append_message(chat_id, row.role, row.content)
            except ChatNotFound:
                return  # the chat is gone (a reset): the run ends with it
            self._write(chat_id, rows)

        self._scheduler.call_later(row.delay, write_then_continue)
