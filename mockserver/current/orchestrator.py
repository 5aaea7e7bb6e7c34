"""The caller's orchestrator chat: its fixed id, the `orchestrator` alias for `{chat}`, its creation rules.

A user has at most one orchestrator chat (sdk `ChatModeOrchestrator`). Its id is derived from the
owner's (sdk `OrchestratorChatID`: a name-based SHA-1 UUID in a fixed namespace), so a second
create collides (409), and `{chat}` may be `orchestrator` to address it (sdk
`OrchestratorChatAlias`, routes `resolveOrchestratorChatAlias`). openapi/current/WIRE.md section 2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from uuid import UUID

from mockserver.core.errors import ChatNotFound
from mockserver.core.golang import parse_uuid
from mockserver.core.models import Chat, User
from mockserver.core.store import ChatStore
from mockserver.edge.chat_param import load_chat
from mockserver.edge.coder_errors import CoderRefusal

__all__ = [
    "ORCHESTRATOR_ALIAS",
    "ORCHESTRATOR_MODE",
    "ORCHESTRATOR_TITLE",
    "check_orchestrator_create",
    "orchestrator_chat_id",
    "resolve_chat",
]

ORCHESTRATOR_ALIAS = "orchestrator"
ORCHESTRATOR_MODE = "orchestrator"
# handlers `orchestratorChatTitle` (its value was not read): the mock's fixed title.
ORCHESTRATOR_TITLE = "Orchestrator"
_NAMESPACE = UUID("6f3b1c2e-2c53-4e7a-9a3f-0d3f5a1b7c21")  # sdk `orchestratorChatNamespace`


def orchestrator_chat_id(owner_id: UUID) -> UUID:
    """uuid.NewSHA1(namespace, owner id bytes): version 5 over the owner's 16 bytes."""
    digest = hashlib.sha1(_NAMESPACE.bytes + owner_id.bytes, usedforsecurity=False).digest()
    return UUID(bytes=digest[:16], version=5)


def resolve_chat(store: ChatStore, user: User, raw: str, parse: Callable[[str], UUID] = parse_uuid) -> Chat:
    """`{chat}` as coderd resolves it: the alias becomes the caller's orchestrator id, then ExtractChatParam."""
    if raw == ORCHESTRATOR_ALIAS:
        return store.get_chat(user, orchestrator_chat_id(user.id))
    return load_chat(store, user, raw, parse)


def check_orchestrator_create(store: ChatStore, user: User, body: dict[str, Any]) -> UUID:
    """postChats' orchestrator checks, in its order; the id the new chat takes.

    The chat-orchestrator experiment is on in the mock (coderd answers 403 `The
    chat-orchestrator experiment is not enabled.` where it is off).
    """
    if body.get("workspace_id") is not None or body.get("plan_mode"):
        raise CoderRefusal(400, "Orchestrator chats cannot attach a workspace or enter plan mode.")
    chat_id = orchestrator_chat_id(user.id)
    try:
        store.get_chat(user, chat_id)
    except ChatNotFound:
        return chat_id
    raise CoderRefusal(409, "An orchestrator chat already exists.", str(chat_id))
