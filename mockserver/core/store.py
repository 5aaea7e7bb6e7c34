"""The in-memory store of chats and transcripts; it knows nothing of HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from mockserver.core.clock import Clock, IdFactory
from mockserver.core.errors import ChatNotFound
from mockserver.core.models import Chat, ChatMessage, LivePart, Role, User

__all__ = ["SYSTEM_PROMPT", "ChatStore", "Listener"]

# Called with each row appended to a watched chat, and with each live part of its runs.
Listener = Callable[[ChatMessage | LivePart], None]

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
        self._last_message_id = 0  # the global sequence; imports move it past their ids
        self._listeners: dict[UUID, list[Listener]] = {}

    def clear(self) -> int:
        """Forget every chat and its transcript; message ids restart at 1. Returns the chat count."""
        count = len(self._chats)
        self._chats.clear()
        self._transcripts.clear()
        self._last_message_id = 0
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
        self._last_message_id += 1
        message = ChatMessage(
            chat_id=chat_id,
            id=self._last_message_id,
            created_at=self._clock(),
            role=role,
            content=content,
        )
        transcript.append(message)
        self._notify(chat_id, message)
        return message

    # --- live transcript ------------------------------------------------------------------

    def subscribe(self, chat_id: UUID, listener: Listener) -> Callable[[], None]:
        """Call `listener` with each row appended to the chat from now on; returns the unsubscribe.

        Listeners run synchronously inside `append_message`, so that a caller who subscribes
        and then lists the transcript (with no await between) misses and repeats nothing.
        """
        listeners = self._listeners.setdefault(chat_id, [])
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return unsubscribe

    def publish_partial(self, chat_id: UUID, run_id: UUID, type_id: str, part: Any) -> None:
        """Send a live, unstored piece of a run to the chat's listeners."""
        if chat_id not in self._transcripts:
            raise ChatNotFound(str(chat_id))
        self._notify(chat_id, LivePart(chat_id=chat_id, run_id=run_id, type_id=type_id, part=part))

    def _notify(self, chat_id: UUID, event: ChatMessage | LivePart) -> None:
        for listener in tuple(self._listeners.get(chat_id, ())):
            listener(event)

    # --- fixtures -------------------------------------------------------------------------

    def restore_chat(self, chat: Chat, messages: Iterable[ChatMessage]) -> None:
        """Put back a chat and its transcript as they were, ids included (fixtures).

        The global message sequence continues after the highest id in the store. Raises
        ValueError for a chat id already taken, a message of another chat, or a message id
        already used or not rising.
        """
        if chat.id in self._chats:
            raise ValueError(f"chat {chat.id} already exists")
        rows = list(messages)
        taken = {m.id for transcript in self._transcripts.values() for m in transcript}
        previous = 0
        for message in rows:
            if message.chat_id != chat.id:
                raise ValueError(f"message {message.id} belongs to chat {message.chat_id}, not {chat.id}")
            if message.id <= previous or message.id in taken:
                raise ValueError(f"message id {message.id} is already used or not rising")
            previous = message.id
        self._chats[chat.id] = chat
        self._transcripts[chat.id] = rows
        self._last_message_id = max(self._last_message_id, previous)
