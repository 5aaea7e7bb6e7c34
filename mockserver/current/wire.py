"""Today's Coder's wire shapes, in Go's field order (openapi/current/WIRE.md section 3)."""

from __future__ import annotations

from typing import Any

from mockserver.core.golang import format_time
from mockserver.core.models import Chat, ChatMessage, QueuedMessage, Role
from mockserver.current.catalog import ChatModelConfig, ModelCatalog

__all__ = [
    "chat_json",
    "has_assistant_message",
    "last_assistant_id",
    "message_json",
    "message_text",
    "model_json",
    "models_json",
    "part_json",
    "queued_json",
]

# A ChatMessagePart's fields in struct order, with the value Go sends when the field is unused
# (None: `omitempty`, left out). Fields Coder strips before sending are not listed.
_PART_FIELDS: tuple[tuple[str, Any], ...] = (
    ("type", ""),
    ("text", ""),
    ("tool_call_id", None),
    ("tool_name", None),
    ("mcp_server_config_id", "null"),  # uuid.NullUUID: a struct, never omitted
    ("args", None),
    ("args_delta", None),
    ("parsed_commands", None),
    ("result", None),
    ("result_delta", None),
    ("result_reset", None),
    ("is_error", None),
    ("is_media", None),
    ("source_id", None),
    ("url", ""),
    ("title", None),
    ("media_type", ""),
    ("name", None),
    ("data", None),
    ("file_id", "null"),
    ("file_name", ""),
    ("start_line", 0),
    ("end_line", 0),
    ("content", ""),
    ("provider_executed", None),
    ("hook_rewritten", None),
    ("created_at", None),
    ("completed_at", None),
    ("context_file_path", ""),
    ("context_file_truncated", None),
    ("context_file_agent_id", "null"),
    ("skill_name", ""),
    ("skill_description", None),
)


# The fields Go always sends, in struct order, with their unused values.
_ALWAYS_SENT: dict[str, Any] = {
    name: None if unused == "null" else unused for name, unused in _PART_FIELDS if unused is not None
}


def part_json(part: dict[str, Any]) -> dict[str, Any]:
    """A stored part as Go sends a codersdk.ChatMessagePart: every field without omitempty present."""
    if part.keys() <= _ALWAYS_SENT.keys():
        # Only fields Go always sends (a text part): updating a copy of them keeps their order.
        always = _ALWAYS_SENT.copy()
        always.update(part)
        return always
    out: dict[str, Any] = {}
    for name, unused in _PART_FIELDS:
        if name in part:
            out[name] = part[name]
        elif unused == "null":
            out[name] = None
        elif unused is not None:
            out[name] = unused
    return out


def message_json(message: ChatMessage) -> dict[str, Any]:
    """A codersdk.ChatMessage."""
    content: dict[str, Any] = message.content
    out: dict[str, Any] = {"id": message.id, "chat_id": str(message.chat_id)}
    if content.get("created_by"):
        out["created_by"] = content["created_by"]
    if content.get("model_config_id"):
        out["model_config_id"] = content["model_config_id"]
    out["created_at"] = format_time(message.created_at)
    out["role"] = message.role.value
    if content["parts"]:
        out["content"] = [part_json(part) for part in content["parts"]]
    if content.get("usage"):
        out["usage"] = content["usage"]
    return out


def message_text(message: ChatMessage, *, separator: str = " ") -> str:
    """The text parts of a message, joined (with a space: what a search reads)."""
    parts = message.content.get("parts") or ()
    return separator.join(p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text")


def queued_json(queued: QueuedMessage) -> dict[str, Any]:
    """A codersdk.ChatQueuedMessage."""
    content: dict[str, Any] = queued.content
    out: dict[str, Any] = {"id": queued.id, "chat_id": str(queued.chat_id)}
    if content.get("model_config_id"):
        out["model_config_id"] = content["model_config_id"]
    out["content"] = [part_json(part) for part in content["parts"]]
    out["created_at"] = format_time(queued.created_at)
    return out


def chat_json(chat: Chat, model: ChatModelConfig, *, has_unread: bool) -> dict[str, Any]:
    """A codersdk.Chat of the mock: no subagents, no workspace agent, no diff, nothing shared."""
    attributes: dict[str, Any] = chat.metadata
    out: dict[str, Any] = {
        "id": str(chat.id),
        "organization_id": str(chat.organization_id),
        "owner_id": str(chat.owner_id),
    }
    if chat.workspace_id is not None:
        out["workspace_id"] = str(chat.workspace_id)
    out["last_model_config_id"] = model.id_text
    out["title"] = chat.title
    out["status"] = chat.status.value
    if attributes.get("mode"):
        out["mode"] = attributes["mode"]
    if attributes.get("plan_mode"):
        out["plan_mode"] = attributes["plan_mode"]
    if chat.last_error is not None:
        out["last_error"] = chat.last_error
    out.update(
        {
            "last_turn_summary": None,
            "summary": None,
            "created_at": format_time(chat.created_at),
            "updated_at": format_time(chat.updated_at),
            "archived": chat.archived,
            "shared": False,
            "pin_order": chat.pin_order,
            "mcp_server_ids": [],
            "labels": dict(chat.labels),
            "has_unread": has_unread,
            "client_type": attributes.get("client_type", "api"),
            "children": [],
        }
    )
    return out


def has_assistant_message(messages: tuple[ChatMessage, ...], after: int = 0) -> bool:
    """Whether a transcript holds an assistant message with an id above `after` (the read cursor).

    The cursor moves when an owner's stream connects or disconnects (WIRE.md section 7.1).
    """
    return any(message.role is Role.ASSISTANT for message in reversed(messages) if message.id > after)


def last_assistant_id(messages: tuple[ChatMessage, ...]) -> int | None:
    """The id of the transcript's last assistant message (coderd's markChatAsRead target), if any."""
    return next((message.id for message in reversed(messages) if message.role is Role.ASSISTANT), None)


def model_json(m: ChatModelConfig) -> dict[str, Any]:
    """A codersdk.ChatModel."""
    return {
        "id": str(m.id),
        "organization_id": str(m.organization_id),
        "ai_provider_id": str(m.provider.id),
        "model": m.model,
        "display_name": m.display_name,
        "enabled": True,
        "is_default": m.is_default,
        "context_limit": m.context_limit,
        "compression_threshold": m.compression_threshold,
        "created_at": format_time(m.created_at),
        "updated_at": format_time(m.created_at),
    }


def models_json(catalog: ModelCatalog) -> dict[str, Any]:
    """A codersdk.OrganizationChatModelsResponse."""
    return {
        "models": [model_json(m) for m in catalog.models],
        "providers": [
            {
                "id": str(p.id),
                "type": p.type,
                "display_name": p.display_name,
                "icon": "",
                "enabled": True,
                "has_api_key": True,
                "has_user_api_key": False,
                "has_effective_api_key": True,
                "allow_user_api_key": False,
                "available": True,
            }
            for p in catalog.providers
        ],
        "unsupported_providers": [],
    }
