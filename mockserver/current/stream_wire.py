"""Where today's stream and watch events get their JSON shape (openapi/current/WIRE.md section 7).

`ChatStreamEvent` fields in Go's order: `type, chat_id, message?, message_part?, status?,
error?, retry?, queued_messages?, action_required?` (all `omitempty` but the first two; an empty
queue is left out). A stream frame is a JSON array of them, ending with a newline as Go's
`json.Encoder` writes it; a watch frame is one `ChatWatchEvent` object, likewise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from mockserver.core.golang import encode_json
from mockserver.core.models import Chat, ChatMessage, QueuedMessage, Role
from mockserver.current.turns import unanswered_calls
from mockserver.current.wire import message_json, part_json, queued_json

__all__ = [
    "BATCH_SIZE",
    "action_required_event",
    "encode_event",
    "error_event",
    "history_reset_event",
    "message_event",
    "message_part_event",
    "pack_batch",
    "pending_tool_calls",
    "preview_reset_event",
    "queue_update_event",
    "retry_event",
    "status_event",
    "watch_event",
]

# coderd's chatStreamBatchSize: the most events one stream frame carries.
BATCH_SIZE = 256

# What the stream says when a failed chat's last_error has no message (stream_loop chatError).
_UNEXPECTED_FAILURE = "The chat request failed unexpectedly."


def encode_event(event: dict[str, Any]) -> str:
    """One event as Go encodes it, without the encoder's newline (a stream frame packs many)."""
    return encode_json(event).decode()[:-1]


def pack_batch(events: Sequence[str]) -> str:
    """A stream frame: the encoded events as one JSON array, as `encoder.Encode(batch)` writes it."""
    return "[" + ",".join(events) + "]\n"


def _event(kind: str, chat_id: UUID, **payload: Any) -> dict[str, Any]:
    return {"type": kind, "chat_id": str(chat_id), **payload}


def message_event(message: ChatMessage) -> dict[str, Any]:
    """`message`: a stored message."""
    return _event("message", message.chat_id, message=message_json(message))


def message_part_event(
    chat_id: UUID, part: dict[str, Any], *, history_version: int, generation_attempt: int, seq: int
) -> dict[str, Any]:
    """`message_part`: a live part of the assistant's open step (`omitempty` zeros left out)."""
    streamed: dict[str, Any] = {"role": Role.ASSISTANT.value, "part": part_json(part)}
    if history_version:
        streamed["history_version"] = history_version
    if generation_attempt:
        streamed["generation_attempt"] = generation_attempt
    if seq:
        streamed["seq"] = seq
    return _event("message_part", chat_id, message_part=streamed)


def status_event(chat: Chat) -> dict[str, Any]:
    """`status`: the chat's status now."""
    return _event("status", chat.id, status={"status": chat.status.value})


def error_event(chat: Chat) -> dict[str, Any]:
    """`error`: why the chat's turn failed (its last_error, with the stream's defaults)."""
    error = dict(chat.last_error) if isinstance(chat.last_error, dict) else {}
    error["message"] = error.get("message") or _UNEXPECTED_FAILURE
    error["kind"] = error.get("kind") or "generic"
    error.setdefault("retryable", False)
    ordered = {
        name: error[name]
        for name in ("message", "detail", "kind", "provider", "retryable", "status_code")
        if name in error and (name == "retryable" or error[name])
    }
    return _event("error", chat.id, error=ordered)


def retry_event(chat_id: UUID, retry: dict[str, Any]) -> dict[str, Any]:
    """`retry`: a model call failed and is tried again (a codersdk.ChatStreamRetry as given)."""
    return _event("retry", chat_id, retry=retry)


def queue_update_event(chat_id: UUID, queue: Iterable[QueuedMessage]) -> dict[str, Any]:
    """`queue_update`: the whole queue (left out when empty: `omitempty`)."""
    queued = [queued_json(q) for q in queue]
    return _event("queue_update", chat_id, **({"queued_messages": queued} if queued else {}))


def action_required_event(chat_id: UUID, tool_calls: list[dict[str, str]]) -> dict[str, Any]:
    """`action_required`: the tool calls the client must answer."""
    return _event("action_required", chat_id, action_required={"tool_calls": tool_calls})


def preview_reset_event(chat_id: UUID) -> dict[str, Any]:
    """`preview_reset`: the parts streamed so far are a stored message now, or void."""
    return _event("preview_reset", chat_id)


def history_reset_event(chat_id: UUID) -> dict[str, Any]:
    """`history_reset`: the transcript was rewritten; every message follows."""
    return _event("history_reset", chat_id)


def pending_tool_calls(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    """The calls the chat waits for, as ChatStreamToolCall objects: those POST .../tool-results takes.

    The unanswered calls of the last assistant message (WIRE.md section 5), as the engine reads
    them; a call an interrupted turn left unanswered earlier is not asked of the client (a client
    answering it would only get 400 `Unexpected tool result.`). `args` is a string holding the
    call's JSON arguments (json.RawMessage as text).
    """
    return [
        {
            "tool_call_id": call.get("tool_call_id", ""),
            "tool_name": call.get("tool_name", ""),
            "args": args if isinstance(args := call.get("args", {}), str) else encode_event(args),
        }
        for call in unanswered_calls(messages)
    ]


def watch_event(kind: str, chat: dict[str, Any], tool_calls: list[dict[str, str]] | None = None) -> str:
    """A watch frame: one codersdk.ChatWatchEvent, newline included."""
    event: dict[str, Any] = {"kind": kind, "chat": chat}
    if tool_calls:
        event["tool_calls"] = tool_calls
    return encode_json(event).decode()
