"""The `{chat}` path parameter, resolved as coderd's httpmw.ExtractChatParam does: before the body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.middleware.abstract import RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.core.errors import InvalidUUIDParam
from mockserver.core.golang import parse_uuid
from mockserver.core.models import Chat, User
from mockserver.core.store import ChatStore
from mockserver.edge.auth import context_of
from mockserver.edge.routed import routed_middleware

__all__ = ["CHAT_CONTEXT_KEY", "ResolveChat", "chat_param_middleware", "load_chat"]

# The handler argument `chat` receives the caller's Chat: Connexion applies the context after
# the path parameters, so the loaded chat takes the place of the raw `{chat}` string.
CHAT_CONTEXT_KEY = "chat"
_PARAM = "chat"


def load_chat(store: ChatStore, user: User, raw: str) -> Chat:
    """The caller's chat named by a raw `{chat}`: 400 `Invalid UUID` if it does not parse, else 404."""
    try:
        chat_id = parse_uuid(raw)
    except ValueError as error:
        raise InvalidUUIDParam(raw, str(error)) from None
    return store.get_chat(user, chat_id)


# Resolves a raw `{chat}` for its caller (a generation may know aliases, as today's `orchestrator`).
ResolveChat = Callable[[User, str], Chat]


def chat_param_middleware(
    store: ChatStore, resolve: ResolveChat | None = None
) -> type[RoutedMiddleware[Any]]:
    """Parse `{chat}` (400 `Invalid UUID`) and load the caller's chat (404) before the body is read."""
    resolve_chat = resolve or (lambda user, raw: load_chat(store, user, raw))

    def make_step(operation: AbstractOperation, next_app: ASGIApp) -> ASGIApp:
        if not any(p.get("in") == "path" and p.get("name") == _PARAM for p in operation.parameters):
            return next_app

        async def extract_chat(scope: Scope, receive: Receive, send: Send) -> None:
            context = context_of(scope)
            context[CHAT_CONTEXT_KEY] = resolve_chat(context["user"], scope["path_params"][_PARAM])
            await next_app(scope, receive, send)

        return extract_chat

    return routed_middleware(make_step)
