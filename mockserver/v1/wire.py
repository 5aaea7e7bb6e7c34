"""The JSON shapes a real Coder server sends for the stored values, fields in Go's order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from mockserver.core.golang import format_time
from mockserver.core.models import Chat, ChatMessage

__all__ = ["chat_json", "message_json"]


def chat_json(chat: Chat, spelt: Mapping[UUID, str] | None = None) -> dict[str, Any]:
    """A codersdk.Chat: `title` omitted when empty, `workspace_id` a string or null.

    `spelt`: ids already spelt out (the directory's users and organizations), looked up rather
    than formatted again for each chat sent.
    """
    known = spelt or {}
    created = format_time(chat.created_at)
    body: dict[str, Any] = {
        "id": str(chat.id),
        "created_at": created,
        # Equal times (a chat never updated, as V1's are) are formatted once.
        "updated_at": created if chat.updated_at == chat.created_at else format_time(chat.updated_at),
        "organization_id": known.get(chat.organization_id) or str(chat.organization_id),
        "owner_id": known.get(chat.owner_id) or str(chat.owner_id),
        "workspace_id": None if chat.workspace_id is None else str(chat.workspace_id),
    }
    if chat.title:
        body["title"] = chat.title
    body["provider"] = chat.provider
    body["model"] = chat.model
    body["metadata"] = chat.metadata
    return body


def message_json(message: ChatMessage, content: Any = None) -> dict[str, Any]:
    """A codersdk.ChatMessage.

    `content`: the row's content when the caller holds the very value it just stored (a post's
    answer), sent as it is instead of unpacked again from the row; None: read from the row.
    """
    return {
        "chat_id": str(message.chat_id),
        "id": message.id,
        "created_at": format_time(message.created_at),
        "role": message.role.value,
        "content": message.content if content is None else content,
    }
