"""The four Chats operations: thin handlers over the store, the directory and the agent."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from starlette.responses import Response

from mockserver.core.clock import IdFactory
from mockserver.core.directory import Directory
from mockserver.core.errors import ContentTooLong
from mockserver.core.golang import encode_json_array, parse_uuid
from mockserver.core.models import Chat, Role, User
from mockserver.core.store import ChatStore
from mockserver.edge.coder_errors import CONTENT_TYPE
from mockserver.edge.sliced_body import PIECE_BYTES, sliced_json
from mockserver.v1.agent import packed_user_message
from mockserver.v1.wire import chat_answer, message_json, posted_message_answer

__all__ = ["Agent", "ChatsApi"]


class Agent(Protocol):
    """What runs after a message is posted."""

    def start_run(self, chat: Chat, run_id: UUID, text: str, run: str | None = None) -> None:
        """Begin the run in the background and return at once (`run`: str(run_id), spelt once)."""


_CONTENT_TYPE_HEADER = (b"content-type", CONTENT_TYPE.encode("latin-1"))


class _JSONAnswer(Response):
    """Starlette's Response with what its __init__ works out per request set directly: the
    headers it would send (Content-Length, then Content-Type), no background task."""

    media_type = CONTENT_TYPE

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _CONTENT_TYPE_HEADER]


class ChatsApi:
    """Handlers by operationId; Connexion has already authenticated and validated the request."""

    def __init__(
        self,
        *,
        store: ChatStore,
        directory: Directory,
        agent: Agent,
        new_id: IdFactory,
        max_message_bytes: int,
    ) -> None:
        self._store = store
        self._directory = directory
        self._agent = agent
        self._new_id = new_id
        self._max_message_bytes = max_message_bytes
        # The directory's user and organization ids (by UUID.int) as every chat sent spells them.
        self._spelt = {i.int: str(i) for user in directory.users for i in (user.id, user.organization_id)}

    def resolve(self, operation_id: str) -> Any:
        """The handler of an operation: `create-chat` is `create_chat`."""
        return getattr(self, operation_id.replace("-", "_"))

    async def create_chat(self, user: User, request_body: dict[str, Any]) -> Response:
        """POST /chats."""
        raw_workspace = request_body.get("workspace_id")
        workspace_id = None if raw_workspace is None else parse_uuid(raw_workspace)
        if workspace_id is not None:
            self._directory.check_workspace(user, workspace_id)
        chat = self._store.create_chat(
            user,
            workspace_id=workspace_id,
            title=request_body.get("title") or "",
            provider=request_body["provider"],
            model=request_body["model"],
            metadata=request_body.get("metadata", {}),
        )
        return _JSONAnswer(201, chat_answer(chat, self._spelt))

    # `chat` is the caller's Chat named by {chat}, loaded by chat_param before the body is read.

    async def get_chat(self, chat: Chat) -> Response:
        """GET /chats/{chat}."""
        return _JSONAnswer(200, chat_answer(chat, self._spelt))

    async def list_chat_messages(self, chat: Chat) -> Response:
        """GET /chats/{chat}/messages: a long transcript goes out in pieces, encoded as they are sent."""
        messages = self._store.messages_of(chat.id)  # chat_param loaded it for `user`
        return sliced_json(encode_json_array(map(message_json, messages), chunk_bytes=PIECE_BYTES))

    async def create_chat_message(self, chat: Chat, request_body: dict[str, Any]) -> Response:
        """POST /chats/{chat}/messages: store the user message, answer, let the agent run."""
        text = request_body["content"]
        self._check_content(text)
        run_id = self._new_id()
        run = str(run_id)
        message = self._store.append_packed_message(chat.id, Role.USER, packed_user_message(run, text))
        self._agent.start_run(chat, run_id, text, run)
        return _JSONAnswer(201, posted_message_answer(run, message, text))

    def _check_content(self, text: str) -> None:
        """A message over serve's --max-message-bytes (UTF-8, as Go's len counts) is refused."""
        limit = self._max_message_bytes
        if len(text) * 4 <= limit:
            return  # cannot be over, however wide its characters: no need to encode it
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise ContentTooLong(
                f"content is {size} bytes; the mock takes at most {limit} (--max-message-bytes)."
            )
