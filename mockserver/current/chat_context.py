"""What a chat's menu does to its model context: compact, clear, reconcile, refresh, propose a title.

coderd runs these through its chat daemon (handlers `compactChat`, `clearChat`,
`reconcileInvalidChatState`, `refreshChatContext`, `proposeChatTitle`; openapi/current/WIRE.md
section 5). The mock has no model: a compaction or a clear moves the chat's context boundary to
its last message (so a second one has nothing to do), a proposed title comes from the chat's
first prompt, and a refresh has no workspace context to re-pin.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mockserver.core.models import Chat, ChatStatus, Role
from mockserver.core.store import ChatStore
from mockserver.current.engine import ChatEngine
from mockserver.current.responses import json_response
from mockserver.current.wire import chat_json, has_assistant_message, message_text
from mockserver.edge.coder_errors import CoderRefusal

__all__ = ["ChatContextApi"]

_MAX_TITLE_RUNES = 200
# The context boundary: messages up to this id are behind the last compaction or clear.
_BOUNDARY = "context_boundary"
# Where a compaction or a clear may start (coderd: "an idle or errored chat"); a clear also
# needs an empty queue. Mock choices in chatstate's terms (its matrix for these was not read).
_COMPACTABLE = (ChatStatus.WAITING, ChatStatus.ERROR)


class ChatContextApi:
    """Handlers of the context routes, by operationId."""

    def __init__(self, *, store: ChatStore, engine: ChatEngine) -> None:
        self._store = store
        self._engine = engine

    def _chat_json(self, chat: Chat) -> dict[str, Any]:
        messages = self._store.messages_of(chat.id)
        return chat_json(
            chat,
            self._engine.model_of(chat),
            has_unread=has_assistant_message(messages, chat.last_read_message_id),
        )

    def _move_boundary(
        self,
        chat: Chat,
        *,
        archived: str,
        nothing: tuple[str, str],
        busy: tuple[str, str],
        needs_empty_queue: bool,
    ) -> Chat:
        if chat.archived:
            raise CoderRefusal(400, archived)
        if chat.status not in _COMPACTABLE or (needs_empty_queue and self._store.queue_of(chat.id)):
            raise CoderRefusal(409, *busy)
        boundary = int(chat.metadata.get(_BOUNDARY, 0))
        conversation = [
            m
            for m in self._store.messages_of(chat.id)
            if m.id > boundary and m.role in (Role.USER, Role.ASSISTANT)
        ]
        if not conversation:
            raise CoderRefusal(409, *nothing)
        return self._store.update_chat(
            chat.id,
            metadata={**chat.metadata, _BOUNDARY: conversation[-1].id},
            status=ChatStatus.WAITING,
            last_error=None,
        )

    async def compact_chat(self, chat: Chat) -> Response:
        """POST /chats/{chat}/compact."""
        updated = self._move_boundary(
            chat,
            archived="Cannot compact an archived chat.",
            nothing=(
                "Nothing to compact.",
                "The chat has no conversation to summarize after the latest compaction.",
            ),
            busy=(
                "Cannot compact the chat in its current state.",
                "Compaction is not available while the chat is generating.",
            ),
            needs_empty_queue=False,
        )
        return json_response(200, self._chat_json(updated))

    async def clear_chat_context(self, chat: Chat) -> Response:
        """POST /chats/{chat}/clear."""
        updated = self._move_boundary(
            chat,
            archived="Cannot clear an archived chat.",
            nothing=(
                "Nothing to clear.",
                "The chat has no conversation to clear after the latest context boundary.",
            ),
            busy=(
                "Cannot clear the chat in its current state.",
                "Clearing is not available while the chat is generating or has queued messages.",
            ),
            needs_empty_queue=True,
        )
        return json_response(200, self._chat_json(updated))

    async def reconcile_invalid_chat_state(self, chat: Chat) -> Response:
        """POST /chats/{chat}/reconcile-invalid: the mock's chats are never in an invalid state."""
        state = self._engine.state(chat).value
        # chatstate's TransitionError sentence, as the other transitions' 409 details spell it.
        detail = f"chat state transition ReconcileInvalidState not allowed from state {state}"
        raise CoderRefusal(409, "Chat is not in an invalid state.", detail)

    async def refresh_chat_context(self, chat: Chat) -> Response:
        """PUT /chats/{chat}/context: no workspace context to re-pin; the chat as it is."""
        return json_response(200, self._chat_json(chat))

    async def propose_chat_title(self, chat: Chat) -> Response:
        """POST /chats/{chat}/title/propose: the chat's first prompt, on one line, cut to 200 runes."""
        first = next(
            (m for m in self._store.messages_of(chat.id) if m.role is Role.USER and message_text(m).strip()),
            None,
        )
        title = " ".join(message_text(first).split())[:_MAX_TITLE_RUNES] if first else chat.title
        return json_response(200, {"title": title})
