"""The in-memory store of chats and transcripts; it knows nothing of HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from mockserver.clock import Clock, IdFactory
from mockserver.errors import ChatNotFound
from mockserver.models import Chat, ChatMessage, Role, User

__all__ = ["SYSTEM_PROMPT", "ChatStore"]

# The one message coderd stores when a chat is created.
SYSTEM_PROMPT = {"type": "system_prompt", "content": "You are a helpful assistant."}


class ChatStore:
    """Chats by id and their transcripts; get and append are O(1), a list is O(its length).

    Message ids come from one global sequence, as from the Postgres sequence behind them.
    """

    def __init__(self, *, clock: Clock, new_id: IdFactory) -> None:
        self._clock = clock
        self._new_id = new_id
        self._chats: dict[UUID, Chat] = {}
        self._transcripts: dict[UUID, list[ChatMessage]] = {}
        self._message_ids = itertools.count(1)

    def clear(self) -> int:
        """Forget every chat and its transcript; message ids restart at 1. Returns the chat count."""
        count = len(self._chats)
        self._chats.clear()
        self._transcripts.clear()
        self._message_ids = itertools.count(1)
        return count

    def create_chat(
        self,
        owner: User,
        *,
        workspace_id: UUID | None,
        title: str,
        provider: str,
        model: str,
        metadata: Any,
    ) -> Chat:
        """Store a new chat and its system-prompt message."""
        now = self._clock()
        chat = Chat(
            id=self._new_id(),
            created_at=now,
            updated_at=now,
            organization_id=owner.organization_id,
            owner_id=owner.id,
            workspace_id=workspace_id,
            title=title,
            provider=provider,
            model=model,
            metadata=metadata,
        )
        self._chats[chat.id] = chat
        self._transcripts[chat.id] = []
        self.append_message(chat.id, Role.SYSTEM, SYSTEM_PROMPT)
        return chat

    def get_chat(self, owner: User, chat_id: UUID) -> Chat:
        """The chat, if it exists and is the owner's; another user's chat is not found."""
        chat = self._chats.get(chat_id)
        if chat is None or chat.owner_id != owner.id:
            raise ChatNotFound(str(chat_id))
        return chat

    def list_messages(self, owner: User, chat_id: UUID) -> Sequence[ChatMessage]:
        """The owner's chat's transcript, by id ascending."""
        self.get_chat(owner, chat_id)
        return tuple(self._transcripts[chat_id])

    def append_message(self, chat_id: UUID, role: Role, content: Any) -> ChatMessage:
        """Append a row to a chat's transcript with the next id of the global sequence."""
        transcript = self._transcripts.get(chat_id)
        if transcript is None:
            raise ChatNotFound(str(chat_id))
        message = ChatMessage(
            chat_id=chat_id,
            id=next(self._message_ids),
            created_at=self._clock(),
            role=role,
            content=content,
        )
        transcript.append(message)
        return message
