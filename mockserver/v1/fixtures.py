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

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml

from mockserver.core.directory import Directory
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

# The version key every fixture carries; a later format would bump it.
FIXTURE_VERSION = 1
API_PREFIX = "/api/v2"


class FixtureError(ValueError):
    """A fixture the mock cannot load; the message says where and why."""


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
    fixture = {"chats_mock_fixture": FIXTURE_VERSION, "chats": list(entries)}
    if as_json:
        return json.dumps(fixture, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(fixture, sort_keys=False, allow_unicode=True, width=100)


def fetch_fixture(get_json: Callable[[str], Any], owner: str, chat_ids: Iterable[str]) -> dict[str, Any]:
    """A fixture built from the API itself: `get_json(path)` GETs a path under /api/v2.

    Works against the mock or a real Coder; `owner` is what the fixture records (a username
    or the token's id).
    """
    entries = [
        {
            "owner": owner,
            "chat": get_json(f"/chats/{chat_id}"),
            "messages": get_json(f"/chats/{chat_id}/messages"),
        }
        for chat_id in chat_ids
    ]
    return {"chats_mock_fixture": FIXTURE_VERSION, "chats": entries}


def import_fixture(store: ChatStore, directory: Directory, fixture: Any, *, source: str = "<fixture>") -> int:
    """Load a parsed fixture into the store; returns how many chats it held. Raises FixtureError."""
    if not isinstance(fixture, dict) or fixture.get("chats_mock_fixture") != FIXTURE_VERSION:
        raise FixtureError(
            f"{source}: not a chats-mock fixture (want `chats_mock_fixture: {FIXTURE_VERSION}`)"
        )
    chats = fixture.get("chats")
    if not isinstance(chats, list):
        raise FixtureError(f"{source}: `chats` must be a list")
    for index, entry in enumerate(chats):
        where = f"{source}: chats[{index}]"
        try:
            owner = _owner(directory, entry.get("owner") if isinstance(entry, dict) else None)
            chat = _chat(entry["chat"], owner)
            messages = [_message(raw) for raw in entry.get("messages", [])]
            store.restore_chat(chat, messages)
        except FixtureError as error:
            raise FixtureError(f"{where}: {error}") from None
        except (KeyError, TypeError, ValueError) as error:
            raise FixtureError(f"{where}: {type(error).__name__}: {error}") from None
    return len(chats)


def load_fixture_files(store: ChatStore, directory: Directory, paths: Iterable[Path]) -> int:
    """Load fixture files in order (again after a reset: the store must not hold their chats)."""
    loaded = 0
    for path in paths:
        try:
            fixture = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise FixtureError(f"{path}: cannot read: {error.strerror or error}") from None
        except UnicodeDecodeError as error:
            raise FixtureError(f"{path}: cannot read: not UTF-8 text (byte {error.start})") from None
        except yaml.MarkedYAMLError as error:
            line = "" if error.problem_mark is None else f":{error.problem_mark.line + 1}"
            raise FixtureError(f"{path}{line}: not YAML: {error.problem}") from None
        except yaml.YAMLError as error:
            raise FixtureError(f"{path}: not YAML: {error}") from None
        loaded += import_fixture(store, directory, fixture, source=str(path))
    return loaded


def _owner(directory: Directory, name: Any) -> User:
    for user in directory.users:
        if name in (user.username, user.token_id):
            return user
    known = ", ".join(user.username for user in directory.users)
    raise FixtureError(f"owner {name!r} is no user of this mock (by username or token id; users: {known})")


def _time(raw: Any) -> datetime:
    if isinstance(raw, datetime):  # YAML may have read an unquoted timestamp already
        return raw
    return datetime.fromisoformat(str(raw))


def _chat(raw: Mapping[str, Any], owner: User) -> Chat:
    workspace = raw.get("workspace_id")
    return Chat(
        id=UUID(raw["id"]),
        created_at=_time(raw["created_at"]),
        updated_at=_time(raw.get("updated_at", raw["created_at"])),
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
        created_at=_time(raw["created_at"]),
        role=Role(raw["role"]),
        content=raw["content"],
    )
