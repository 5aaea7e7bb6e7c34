"""Fixtures: a chat's transcript written to a file, and loaded back into a mock at start-up.

The format (YAML or JSON; JSON is YAML) holds each chat exactly as the API sends it, so a
fixture can be exported from the mock or from a real Coder with plain GETs:

    chats_mock_fixture: 1
    chats:
      - owner: alice            # a username of the mock's directory, or a token id
        chat: {...}             # GET /api/v2/chats/{chat}
        messages: [...]         # GET /api/v2/chats/{chat}/messages

On import, ids and timestamps are kept; `owner_id` and `organization_id` become the owner's in
this mock; the global message sequence continues after the highest imported id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from mockserver.core.directory import Directory
from mockserver.core.fixture_files import (
    FIXTURE_VERSION,
    FixtureError,
    ServerOfAnotherGeneration,
    fixture_document,
    fixture_text,
    load_entries,
    load_files,
    owner_of,
    parse_time,
)
from mockserver.core.models import Chat, ChatMessage, Role, User
from mockserver.core.store import ChatStore
from mockserver.v1.wire import chat_json, message_json

__all__ = [
    "FIXTURE_VERSION",
    "FixtureError",
    "dump_fixture",
    "export_chat",
    "fetch_fixture",
    "import_fixture",
    "load_fixture_files",
]

# The generation these entries belong to (`--api`); its files carry no `api` key.
API = "v1"


def export_chat(store: ChatStore, owner: User, chat_id: UUID) -> dict[str, Any]:
    """One chat of `owner` as a fixture entry (raises ChatNotFound like the API)."""
    chat = store.get_chat(owner, chat_id)
    return {
        "owner": owner.username,
        "chat": chat_json(chat),
        "messages": [message_json(m) for m in store.list_messages(owner, chat_id)],
    }


def dump_fixture(entries: Iterable[Mapping[str, Any]], *, as_json: bool = False) -> str:
    """A fixture file's text for these chat entries."""
    return fixture_text(fixture_document(entries, API), as_json=as_json)


def fetch_fixture(get_json: Callable[[str], Any], owner: str, chat_ids: Iterable[str]) -> dict[str, Any]:
    """A fixture built from the API itself: `get_json(path)` GETs a path under /api/v2.

    Works against the mock or a real Coder; `owner` is what the fixture records (a username
    or the token's id).
    """
    entries = [_fetch_chat(get_json, owner, chat_id) for chat_id in chat_ids]
    return fixture_document(entries, API)


def _fetch_chat(get_json: Callable[[str], Any], owner: str, chat_id: str) -> dict[str, Any]:
    chat = get_json(f"/chats/{chat_id}")
    if not isinstance(chat, dict) or "provider" not in chat:
        # Today's chats have no provider: a fixture without it fails to load (`KeyError`).
        raise ServerOfAnotherGeneration(API, f"GET /chats/{chat_id} answered a chat without provider")
    messages = get_json(f"/chats/{chat_id}/messages")
    if not isinstance(messages, list):
        raise ServerOfAnotherGeneration(API, f"GET /chats/{chat_id}/messages answered no JSON array")
    return {"owner": owner, "chat": chat, "messages": messages}


def import_fixture(store: ChatStore, directory: Directory, fixture: Any, *, source: str = "<fixture>") -> int:
    """Load a parsed fixture into the store; returns how many chats it held. Raises FixtureError."""
    return load_entries(fixture, API, _entry_loader(store, directory), source=source)


def load_fixture_files(store: ChatStore, directory: Directory, paths: Iterable[Path]) -> int:
    """Load fixture files in order (again after a reset: the store must not hold their chats)."""
    return load_files(paths, API, _entry_loader(store, directory))


def _entry_loader(store: ChatStore, directory: Directory) -> Callable[[Mapping[str, Any]], None]:
    def load(entry: Mapping[str, Any]) -> None:
        owner = owner_of(directory, entry.get("owner"))
        chat = _chat(entry["chat"], owner)
        store.restore_chat(chat, [_message(raw) for raw in entry.get("messages", [])])

    return load


def _chat(raw: Mapping[str, Any], owner: User) -> Chat:
    workspace = raw.get("workspace_id")
    return Chat(
        id=UUID(raw["id"]),
        created_at=parse_time(raw["created_at"]),
        updated_at=parse_time(raw.get("updated_at", raw["created_at"])),
        organization_id=owner.organization_id,
        owner_id=owner.id,
        workspace_id=None if workspace is None else UUID(workspace),
        title=raw.get("title") or "",
        provider=raw["provider"],
        model=raw["model"],
        metadata=raw.get("metadata", {}),
    )


def _message(raw: Mapping[str, Any]) -> ChatMessage:
    return ChatMessage(
        chat_id=UUID(raw["chat_id"]),
        id=int(raw["id"]),
        created_at=parse_time(raw["created_at"]),
        role=Role(raw["role"]),
        content=raw["content"],
    )
