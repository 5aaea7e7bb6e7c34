"""Fixtures of today's API: chats exported with plain GETs, loaded back into a mock at start-up.

The file (YAML or JSON) says which generation it holds and keeps each chat as the API sends it:

    chats_mock_fixture: 1
    api: current
    chats:
      - owner: alice            # a username of the mock's directory, or a token id
        chat: {...}             # GET /api/v2/chats/{chat}
        messages: [...]         # every page of GET /api/v2/chats/{chat}/messages, oldest first
        queued_messages: [...]  # the first page's queued_messages

On load, chat, message and queued-message ids, timestamps, status, archived, pin order, labels,
last error and message parts and usage are kept; `owner_id`, `organization_id` and a user
message's `created_by` become the owner's in this mock; the model is the catalog's config of
`last_model_config_id` (the default model when the catalog has none of that id). The message
sequence continues after the highest loaded id. No turn runs for a loaded chat: one loaded as
`running` stays so until it is interrupted.

A chat whose status, archive flag and queue make no state of coderd's status machine (a
`waiting` chat with queued messages, an archived one that is busy: openapi/current/WIRE.md
section 4) is refused at load, naming the chat and why, rather than served into a chat that
answers every change with a 409.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from mockserver.core.directory import Directory
from mockserver.core.fixture_files import (
    FixtureError,
    fixture_document,
    load_entries,
    load_files,
    owner_of,
    parse_time,
)
from mockserver.core.models import Chat, ChatMessage, ChatStatus, QueuedMessage, Role, User
from mockserver.core.store import ChatStore
from mockserver.current.catalog import ChatModelConfig, ModelCatalog
from mockserver.current.states import ExecutionState, classify

__all__ = ["API", "MESSAGE_PAGE_LIMIT", "fetch_fixture", "import_fixture", "load_fixture_files"]

# The generation these entries belong to: the value of the file's `api` key and of `--api`.
API = "current"
# The largest `limit` GET .../messages takes (openapi/current/chats.yaml): the fewest pages.
MESSAGE_PAGE_LIMIT = 200


def fetch_fixture(
    get_json: Callable[[str], Any],
    owner: str,
    chat_ids: Iterable[str],
    *,
    page_limit: int = MESSAGE_PAGE_LIMIT,
) -> dict[str, Any]:
    """A fixture built with plain GETs: `get_json(path)` GETs a path (with its query) under /api/v2.

    Works against the mock or a real Coder; `owner` is what the fixture records (a username
    or the token's id). Messages are read `page_limit` at a time, older pages by `before_id`,
    until `has_more` is false.
    """
    entries = [_fetch_chat(get_json, owner, chat_id, page_limit) for chat_id in chat_ids]
    return fixture_document(entries, API)


def _fetch_chat(get_json: Callable[[str], Any], owner: str, chat_id: str, page_limit: int) -> dict[str, Any]:
    base = f"/chats/{chat_id}/messages?limit={page_limit}"
    page = get_json(base)
    queued = page.get("queued_messages") or []
    newest_first: list[Any] = list(page["messages"])
    while page["has_more"] and page["messages"]:
        page = get_json(f"{base}&before_id={page['messages'][-1]['id']}")
        newest_first.extend(page["messages"])
    return {
        "owner": owner,
        "chat": get_json(f"/chats/{chat_id}"),
        "messages": newest_first[::-1],
        "queued_messages": queued,
    }


def import_fixture(store: ChatStore, directory: Directory, fixture: Any, *, source: str = "<fixture>") -> int:
    """Load a parsed fixture into the store; returns how many chats it held. Raises FixtureError."""
    return load_entries(fixture, API, _entry_loader(store, directory), source=source)


def load_fixture_files(store: ChatStore, directory: Directory, paths: Iterable[Path]) -> int:
    """Load fixture files in order (again after a reset: the store must not hold their chats)."""
    return load_files(paths, API, _entry_loader(store, directory))


def _entry_loader(store: ChatStore, directory: Directory) -> Callable[[Mapping[str, Any]], None]:
    def load(entry: Mapping[str, Any]) -> None:
        owner = owner_of(directory, entry.get("owner"))
        catalog = ModelCatalog(owner.organization_id)
        raw = entry["chat"]
        model = _model(catalog, raw.get("last_model_config_id"))
        chat = _chat(raw, owner, model)
        messages = [_message(item, owner) for item in entry.get("messages") or []]
        queued = [_queued(item, owner, model) for item in entry.get("queued_messages") or []]
        _check_state(chat, len(queued))
        store.restore_chat(chat, sorted(messages, key=lambda m: m.id), queued)

    return load


def _check_state(chat: Chat, queued: int) -> None:
    """Raise FixtureError unless the chat is in a state of coderd's status machine."""
    if classify(chat.status, chat.archived, queued > 0) is not ExecutionState.INVALID:
        return
    status = chat.status.value
    if chat.archived and chat.status not in (ChatStatus.WAITING, ChatStatus.ERROR):
        why = f"an archived chat is waiting or error, not {status}"
    else:
        why = f"a {status} chat holds no queued messages (it holds {queued}, which would never run)"
    raise FixtureError(
        f"chat {chat.id} is in no state of coderd's status machine (status {status}, "
        f"archived {str(chat.archived).lower()}, {queued} queued): {why}"
    )


def _model(catalog: ModelCatalog, config_id: Any) -> ChatModelConfig:
    found = None if config_id is None else catalog.get(UUID(str(config_id)))
    return found or catalog.default


def _chat(raw: Mapping[str, Any], owner: User, model: ChatModelConfig) -> Chat:
    workspace = raw.get("workspace_id")
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict):
        raise TypeError(f"labels must be a mapping, not {type(labels).__name__}")
    return Chat(
        id=UUID(raw["id"]),
        created_at=parse_time(raw["created_at"]),
        updated_at=parse_time(raw.get("updated_at", raw["created_at"])),
        organization_id=owner.organization_id,
        owner_id=owner.id,
        workspace_id=None if workspace is None else UUID(workspace),
        title=raw.get("title") or "",
        provider=model.provider.type,
        model=model.model,
        metadata={"client_type": raw.get("client_type", "api"), "plan_mode": raw.get("plan_mode", "")},
        status=ChatStatus(raw.get("status", ChatStatus.WAITING.value)),
        archived=bool(raw.get("archived", False)),
        pin_order=int(raw.get("pin_order", 0)),
        labels={str(key): str(value) for key, value in labels.items()},
        last_error=raw.get("last_error"),
    )


def _message(raw: Mapping[str, Any], owner: User) -> ChatMessage:
    content: dict[str, Any] = {"parts": list(raw.get("content") or [])}
    if raw.get("created_by"):
        content["created_by"] = str(owner.id)
    for key in ("model_config_id", "usage"):
        if raw.get(key):
            content[key] = raw[key]
    return ChatMessage(
        chat_id=UUID(raw["chat_id"]),
        id=int(raw["id"]),
        created_at=parse_time(raw["created_at"]),
        role=Role(raw["role"]),
        content=content,
    )


def _queued(raw: Mapping[str, Any], owner: User, model: ChatModelConfig) -> QueuedMessage:
    return QueuedMessage(
        id=int(raw["id"]),
        chat_id=UUID(raw["chat_id"]),
        created_at=parse_time(raw["created_at"]),
        content={
            "parts": list(raw.get("content") or []),
            "created_by": str(owner.id),
            "model_config_id": str(raw.get("model_config_id") or model.id),
        },
    )
