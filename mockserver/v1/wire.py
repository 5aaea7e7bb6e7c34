"""The JSON shapes a real Coder server sends for the stored values, fields in Go's order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.golang import encode_json_text, format_time
from mockserver.core.models import Chat, ChatMessage

__all__ = ["chat_answer", "chat_json", "message_json", "posted_message_answer"]


def chat_json(chat: Chat, spelt: Mapping[int, str] | None = None) -> dict[str, Any]:
    """A codersdk.Chat: `title` omitted when empty, `workspace_id` a string or null.

    `spelt`: ids already spelt out (the directory's users and organizations), by `UUID.int` (an
    int's hash is C, a UUID's Python), looked up rather than formatted again for each chat sent.
    """
    known = spelt or {}
    created = format_time(chat.created_at)
    body: dict[str, Any] = {
        "id": str(chat.id),
        "created_at": created,
        # Equal times (a chat never updated, as V1's are) are formatted once.
        "updated_at": created if chat.updated_at == chat.created_at else format_time(chat.updated_at),
        "organization_id": known.get(chat.organization_id.int) or str(chat.organization_id),
        "owner_id": known.get(chat.owner_id.int) or str(chat.owner_id),
        "workspace_id": None if chat.workspace_id is None else str(chat.workspace_id),
    }
    if chat.title:
        body["title"] = chat.title
    body["provider"] = chat.provider
    body["model"] = chat.model
    body["metadata"] = chat.metadata
    return body


def message_json(message: ChatMessage) -> dict[str, Any]:
    """A codersdk.ChatMessage."""
    return {
        "chat_id": str(message.chat_id),
        "id": message.id,
        "created_at": format_time(message.created_at),
        "role": message.role.value,
        "content": message.content,
    }


# The two answers below are what encode_json writes for chat_json and for a post's answer, formatted
# around the few values that vary instead of built as dicts and encoded whole: a write answers
# them once per request. Strings a client chose are encoded alone (Go's escapes are per character,
# so the pieces read as the whole encoded at once); ids and times are hex digits, dashes and
# digits, which JSON writes as they are.


def chat_answer(chat: Chat, spelt: Mapping[int, str] | None = None) -> bytes:
    """`encode_json(chat_json(chat, spelt))`."""
    known = spelt or {}
    created = format_time(chat.created_at)
    updated = created if chat.updated_at == chat.created_at else format_time(chat.updated_at)
    organization = known.get(chat.organization_id.int) or str(chat.organization_id)
    owner = known.get(chat.owner_id.int) or str(chat.owner_id)
    workspace = "null" if chat.workspace_id is None else f'"{chat.workspace_id}"'
    title = f'"title":{encode_json_text(chat.title)},' if chat.title else ""
    # Most chats' metadata is `{}`, whose text needs no encoder (~1 µs a call before any value).
    metadata = "{}" if type(chat.metadata) is dict and not chat.metadata else encode_json_text(chat.metadata)
    return (
        f'{{"id":"{chat.id}","created_at":"{created}","updated_at":"{updated}",'
        f'"organization_id":"{organization}","owner_id":"{owner}","workspace_id":{workspace},{title}'
        f'"provider":{encode_json_text(chat.provider)},"model":{encode_json_text(chat.model)},'
        f'"metadata":{metadata}}}\n'
    ).encode()


def posted_message_answer(run: str, message: ChatMessage, text: str) -> bytes:
    """`encode_json({"run_id": run, "message": message_json(message)})` for the user row a post
    stores: its content is the agent's user_message_envelope(run, text)."""
    return (
        f'{{"run_id":"{run}","message":{{"chat_id":"{message.chat_id}","id":{message.id},'
        f'"created_at":"{format_time(message.created_at)}","role":"user","content":'
        f'{{"type":"message","run_id":"{run}","message":{{"id":"","content":"","role":"user",'
        f'"parts":[{{"type":"text","text":{encode_json_text(text)}}}]}}}}}}}}\n'
    ).encode()
