"""The `{chat}` path parameter, resolved as coderd's httpmw.ExtractChatParam does: before the body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from connexion.middleware.abstract import RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.core.errors import InvalidUUIDParam
from mockserver.core.golang import parse_uuid
from mockserver.core.models import Chat, User
from mockserver.core.store import ChatStore
from mockserver.edge.auth import context_of
from mockserver.edge.routed import routed_middleware

__all__ = ["CHAT_CONTEXT_KEY", "ChatIds", "ResolveChat", "chat_param_middleware", "load_chat"]

# The handler argument `chat` receives the caller's Chat: Connexion applies the context after
# the path parameters, so the loaded chat takes the place of the raw `{chat}` string.
CHAT_CONTEXT_KEY = "chat"
_PARAM = "chat"
# `{chat}` spellings whose parse is remembered: the first ones parsed (a hot chat is read early and often).
_REMEMBERED_IDS = 4096


class ChatIds:
    """`{chat}` parsed as Go's uuid.Parse parses it, each spelling that parses parsed once.

    Parsing costs ~3 µs (most of it building the UUID) on every request that names a chat; the
    same spelling always parses to the same id, so a spelling seen before is a dictionary
    lookup. One that does not parse is parsed, and refused, every time.
    """

    __slots__ = ("_parsed", "_size")

    def __init__(self, size: int = _REMEMBERED_IDS) -> None:
        self._parsed: dict[str, UUID] = {}
        self._size = size

    def parse(self, raw: str) -> UUID:
        """The id `raw` names; ValueError (Go's message) if it does not parse."""
        chat_id = self._parsed.get(raw)
        if chat_id is None:
            chat_id = parse_uuid(raw)
            if len(self._parsed) < self._size:
                self._parsed[raw] = chat_id
        return chat_id


def load_chat(store: ChatStore, user: User, raw: str, parse: Callable[[str], UUID] = parse_uuid) -> Chat:
    """The caller's chat named by a raw `{chat}`: 400 `Invalid UUID` if it does not parse, else 404."""
    try:
        chat_id = parse(raw)
    except ValueError as error:
        raise InvalidUUIDParam(raw, str(error)) from None
    return store.get_chat(user, chat_id)


# Resolves a raw `{chat}` for its caller (a generation may know aliases, as today's `orchestrator`).
ResolveChat = Callable[[User, str], Chat]


def chat_param_middleware(
    store: ChatStore, resolve: ResolveChat | None = None
) -> type[RoutedMiddleware[Any]]:
    """Parse `{chat}` (400 `Invalid UUID`) and load the caller's chat (404) before the body is read."""
    ids = ChatIds()
    resolve_chat = resolve or (lambda user, raw: load_chat(store, user, raw, ids.parse))

    def make_step(operation: AbstractOperation, next_app: ASGIApp) -> ASGIApp:
        if not any(p.get("in") == "path" and p.get("name") == _PARAM for p in operation.parameters):
            return next_app

        def extract_chat(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
            # A plain function handing back the next step's awaitable: no coroutine of its own.
            context = context_of(scope)
            context[CHAT_CONTEXT_KEY] = resolve_chat(context["user"], scope["path_params"][_PARAM])
            return next_app(scope, receive, send)

        return extract_chat

    return routed_middleware(make_step)
