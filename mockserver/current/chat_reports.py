"""What the chat page and its menu read about a chat: prompts, cost, diff, sharing, debug runs; chats by workspace.

Read from the pinned handlers (`getChatUserPrompts`, `getChatCost`, `getChatDiffContents`,
`getChatACL`/`patchChatACL`, `getChatDebugRuns`/`getChatDebugRun`, `chatsByWorkspace`;
openapi/current/WIRE.md section 5). The mock has no AI Gateway (cost is zero), no git provider
(no diff), no sharing (an empty ACL) and records no debug runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from mockserver.core.golang import parse_uuid, quote
from mockserver.core.models import Chat, Role, User
from mockserver.core.store import ChatStore
from mockserver.current.inputs import QueryParams
from mockserver.current.responses import json_response, no_content
from mockserver.current.wire import message_text
from mockserver.edge.coder_errors import RESOURCE_NOT_FOUND, CoderRefusal

__all__ = ["ChatReportsApi"]

_DEFAULT_PROMPTS = 500  # COALESCE(NULLIF(limit, 0), 500)
_MAX_PROMPTS = 2000
_MAX_WORKSPACE_IDS = 25


class ChatReportsApi:
    """Handlers of the read routes, by operationId."""

    def __init__(self, *, store: ChatStore) -> None:
        self._store = store

    async def list_chat_user_prompts(self, chat: Chat, query: dict[str, list[str]]) -> Response:
        """GET /chats/{chat}/prompts: the user's prompts, newest first, text parts concatenated."""
        params = QueryParams(query)
        limit = params.positive_int("limit", 0, 32)
        params.check()
        if limit > _MAX_PROMPTS:
            raise CoderRefusal(400, "Invalid limit parameter (0-2000).")
        prompts = [
            {"id": m.id, "text": message_text(m, separator="")}
            for m in reversed(self._store.messages_of(chat.id))
            if m.role is Role.USER and message_text(m)
        ]
        return json_response(200, {"prompts": prompts[: limit or _DEFAULT_PROMPTS]})

    async def get_chat_cost(self, chat: Chat) -> Response:
        """GET /chats/{chat}/cost: the AI Gateway's total for the chat tree; the mock spends nothing."""
        return json_response(
            200,
            {
                "chat_id": str(chat.id),
                "total_cost_micros": 0,
                "request_count": 0,
                "unpriced_request_count": 0,
            },
        )

    async def get_chat_diff_contents(self, chat: Chat) -> Response:
        """GET /chats/{chat}/diff: a chat with no diff status has only its id."""
        return json_response(200, {"chat_id": str(chat.id)})

    async def get_chat_acls(self, chat: Chat) -> Response:
        """GET /chats/{chat}/acl: nobody shares the mock's chats."""
        return json_response(200, {"users": [], "groups": []})

    async def update_chat_acl(self, user: User, chat: Chat, request_body: dict[str, Any]) -> Response:
        """PATCH /chats/{chat}/acl: the caller's own role is refused; the mock knows no one else to share with."""
        users: Mapping[str, Any] = request_body.get("user_roles") or {}
        groups: Mapping[str, Any] = request_body.get("group_roles") or {}
        for raw in users:
            try:
                if parse_uuid(raw) == user.id:
                    raise CoderRefusal(400, "Cannot change your own chat sharing role.")
            except ValueError:
                continue
        validations = [
            {"field": field, "detail": f"{kind} {quote(raw)} cannot be shared with in the mock"}
            for field, kind, entries in (("user_roles", "User", users), ("group_roles", "Group", groups))
            for raw in entries
        ]
        if validations:
            raise CoderRefusal(400, "Invalid request to update chat ACL.", validations=validations)
        return no_content()

    async def list_chat_debug_runs(self, chat: Chat) -> Response:
        """GET /chats/{chat}/debug/runs (experimental): the mock records no debug runs."""
        return json_response(200, [])

    async def get_chat_debug_run(self, chat: Chat, path: Mapping[str, str]) -> Response:
        """GET /chats/{chat}/debug/runs/{debugRun} (experimental)."""
        try:
            parse_uuid(path["debugRun"])
        except ValueError as error:
            raise CoderRefusal(400, "Invalid debug run ID.", str(error)) from None
        raise CoderRefusal(404, RESOURCE_NOT_FOUND)

    async def list_chats_by_workspace(self, user: User, query: dict[str, list[str]]) -> Response:
        """GET /chats/by-workspace: each workspace's latest unarchived chat the caller can read."""
        raw = (query.get("workspace_ids") or [""])[0]
        if not raw:
            return json_response(200, {})
        ids = raw.split(",")
        if len(ids) > _MAX_WORKSPACE_IDS:
            raise CoderRefusal(400, f"Too many workspace IDs, maximum is {_MAX_WORKSPACE_IDS}.")
        wanted = []
        for text in ids:
            try:
                wanted.append(parse_uuid(text.strip()))
            except ValueError as error:
                raise CoderRefusal(400, f"Invalid workspace ID {quote(text)}: {error}") from None
        latest: dict[str, str] = {}
        chats = sorted(self._store.chats_of(user), key=lambda c: c.updated_at, reverse=True)
        for chat in chats:
            if chat.workspace_id in wanted and not chat.archived:
                latest.setdefault(str(chat.workspace_id), str(chat.id))
        return json_response(200, latest)
