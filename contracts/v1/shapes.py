"""What the document names in each object it leaves open: compare these, ignore the rest.

Chats, rows, envelopes, parts and error bodies are open: a newer server may add fields, and a
comparison that looked at every key would fail it. A view keeps the named fields that are
present (an omitted field stays omitted); opaque values (metadata, tool args and results) are
kept whole, since they are the client's or the tool's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["chat_view", "content_view", "error_view", "row_view"]

CHAT_FIELDS = (
    "id",
    "created_at",
    "updated_at",
    "organization_id",
    "owner_id",
    "workspace_id",
    "title",
    "provider",
    "model",
    "metadata",
)
ROW_FIELDS = ("chat_id", "id", "created_at", "role", "content")
ERROR_FIELDS = ("message", "detail", "validations")
# WIRE.md §4: the fields of each envelope type.
ENVELOPE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "system_prompt": ("type", "content"),
    "message": ("type", "run_id", "message"),
    "stream_event": (
        "type",
        "run_id",
        "event",
        "usage",
        "step",
        "finish_reason",
        "steps",
        "code",
        "message",
        "retryable",
    ),
    "tool_call": ("type", "run_id", "step", "tool_call_id", "tool_name", "args"),
    "tool_result": ("type", "run_id", "step", "tool_call_id", "tool_name", "result", "error", "duration_ms"),
}
MESSAGE_FIELDS = ("id", "content", "role", "parts")
USAGE_FIELDS = ("promptTokens", "completionTokens")
# WIRE.md §4, the AI SDK's parts.
PART_FIELDS: Mapping[str, tuple[str, ...]] = {
    "text": ("type", "text"),
    "reasoning": ("type", "reasoning"),
    "tool-invocation": ("type", "toolInvocation"),
    "step-start": ("type",),
    "file": ("type", "mimeType", "data"),
    "source": ("type", "source"),
}
INVOCATION_FIELDS = ("state", "step", "toolCallId", "toolName", "args", "result")


def _named(value: Any, fields: tuple[str, ...]) -> Any:
    if not isinstance(value, dict):
        return value
    return {name: value[name] for name in fields if name in value}


def chat_view(chat: Any) -> Any:
    """A chat's named fields (WIRE.md §1)."""
    return _named(chat, CHAT_FIELDS)


def error_view(body: Any) -> Any:
    """An error body's named fields (WIRE.md §2)."""
    return _named(body, ERROR_FIELDS)


def row_view(row: Any) -> Any:
    """A transcript row's named fields, its content as `content_view`."""
    view = _named(row, ROW_FIELDS)
    if isinstance(view, dict) and "content" in view:
        view["content"] = content_view(view["content"])
    return view


def content_view(content: Any) -> Any:
    """An envelope's named fields; an envelope of a type the document does not name is kept whole."""
    if not isinstance(content, dict) or content.get("type") not in ENVELOPE_FIELDS:
        return content
    view = _named(content, ENVELOPE_FIELDS[content["type"]])
    if isinstance(view.get("usage"), dict):
        view["usage"] = _named(view["usage"], USAGE_FIELDS)
    if content["type"] == "message" and isinstance(view.get("message"), dict):
        message = _named(view["message"], MESSAGE_FIELDS)
        if isinstance(message.get("parts"), list):
            message["parts"] = [_part_view(part) for part in message["parts"]]
        view["message"] = message
    return view


def _part_view(part: Any) -> Any:
    if not isinstance(part, dict) or part.get("type") not in PART_FIELDS:
        return part
    view = _named(part, PART_FIELDS[part["type"]])
    if isinstance(view.get("toolInvocation"), dict):
        view["toolInvocation"] = _named(view["toolInvocation"], INVOCATION_FIELDS)
    return view
