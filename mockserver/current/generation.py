"""Today's generation assembled: its document, its handlers, chi-style routing, Go-style bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import coder_chats_openapi

from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from mockserver.core.errors import ChatNotFound
from mockserver.core.models import Chat, User
from mockserver.current.api import CurrentChatsApi
from mockserver.current.catalog import ORGANIZATION_NAME, ModelCatalog
from mockserver.current.chat_config import ChatConfigApi
from mockserver.current.chat_context import ChatContextApi
from mockserver.current.chat_files import ChatFilesApi
from mockserver.current.chat_models import ChatModelsApi
from mockserver.current.chat_reports import ChatReportsApi
from mockserver.current.chat_router import chat_router_middleware, experimental_only_paths
from mockserver.current.dashboard import dashboard_middleware, model_picker_middleware
from mockserver.current.dashboard.deployment import Deployment
from mockserver.current.decoding import current_validator_map
from mockserver.current.engine import ChatEngine
from mockserver.current.front import front_middleware
from mockserver.current.inputs import MessageLimits
from mockserver.current.legacy_providers import LegacyProvidersApi
from mockserver.current.orchestrator import resolve_chat as resolve_orchestrator_alias
from mockserver.current.routing import AnySegmentRoutingMiddleware
from mockserver.current.stream import stream_middleware
from mockserver.current.turns import TurnRunner
from mockserver.current.watch import watch_middleware
from mockserver.current.wire import chat_json, has_assistant_message
from mockserver.current.workspace_sockets import workspace_sockets_middleware
from mockserver.edge.chat_param import ChatIds, chat_param_middleware
from mockserver.edge.csrf import CsrfMiddleware
from mockserver.edge.generation_parts import CoreParts, GenerationApp, prepare_document

__all__ = ["EXPERIMENTAL_SOCKET_PATHS", "SOCKET_PATHS", "current_generation"]

# The WebSocket routes, which the AsyncAPI document describes rather than chats.yaml.
SOCKET_PATHS = (
    "/chats/{chat}/stream",
    "/chats/{chat}/stream/parts",
    "/chats/{chat}/stream/git",
    "/chats/watch",
)
# The experimental mount's own WebSocket (`watchChatDesktop`).
EXPERIMENTAL_SOCKET_PATHS = ("/chats/{chat}/stream/desktop",)


def _handler(handlers: tuple[Any, ...], operation_id: str) -> Any:
    """The handler of an operation, found by name (`list-chats` is `list_chats`) in its family."""
    name = operation_id.replace("-", "_")
    for family in handlers:
        if hasattr(family, name):
            return getattr(family, name)
    raise LookupError(f"no handler for operation {operation_id!r}")


def current_generation(parts: CoreParts, *, document: Path | None) -> GenerationApp:
    """Today's API over `parts`: turns play `parts.library` into assistant and tool messages."""
    catalog = ModelCatalog(DEFAULT_ORGANIZATION_ID)
    runner = TurnRunner(parts.store, parts.scheduler, parts.library, clock=parts.clock, new_id=parts.new_id)
    engine = ChatEngine(
        parts.store,
        runner,
        parts.scheduler,
        catalog,
        queue_limit=parts.queue_limit,
    )
    api = CurrentChatsApi(
        store=parts.store,
        engine=engine,
        directory=parts.directory,
        message_limits=MessageLimits(
            max_parts=parts.limits.max_message_parts, max_bytes=parts.limits.max_message_bytes
        ),
    )
    config = ChatConfigApi(catalog=engine.catalog)
    handlers = (
        api,
        ChatContextApi(store=parts.store, engine=engine),
        ChatReportsApi(store=parts.store),
        config,
        ChatModelsApi(
            catalog=engine.catalog,
            directory=parts.directory,
            clock=parts.clock,
            new_id=parts.new_id,
            personal_enabled=config.personal_model_overrides_enabled,
        ),
        ChatFilesApi(clock=parts.clock, new_id=parts.new_id),
        LegacyProvidersApi(),
    )

    chat_ids = ChatIds()

    def resolve_chat(user: User, raw: str) -> Chat:
        return resolve_orchestrator_alias(parts.store, user, raw, chat_ids.parse)

    def render(chat: Chat) -> dict[str, Any]:
        """A chat for the watch, as GET /chats/{chat} shows it (an evicted one has no messages)."""
        try:
            messages = parts.store.messages_of(chat.id)
        except ChatNotFound:
            messages = ()
        return chat_json(
            chat, engine.model_of(chat), has_unread=has_assistant_message(messages, chat.last_read_message_id)
        )

    deployment = Deployment(DEFAULT_ORGANIZATION_ID, ORGANIZATION_NAME)
    prepared = prepare_document(document or coder_chats_openapi.current_document(), parts.document_cache)
    loaded = prepared.document
    experimental_only = experimental_only_paths(loaded["paths"])
    return GenerationApp(
        prepared=prepared,
        resolve=lambda operation_id: _handler(handlers, operation_id),
        outer_middlewares=(
            # coderd's CSRF check, before authentication or any body (WIRE.md section 2).
            CsrfMiddleware,
            # Opt-in: the model picker of a UI older than the pinned server, whose paths the
            # chat router below reserves (dashboard/model_picker.py).
            *(
                [model_picker_middleware(parts.directory, catalog, deployment)]
                if parts.ui_model_routes
                else []
            ),
            # Both prefixes of the chat mount, and chi's answer where no route matches; then the
            # stream and watch WebSockets (WIRE.md section 7: not in the document) and what
            # Coder's web UI asks around its Agents page (openapi/current/dashboard.yaml): one
            # layer that decides by path (front.py).
            front_middleware(
                chats=chat_router_middleware(
                    parts.directory,
                    resolve_chat=resolve_chat,
                    owns_organization=engine.catalog.owns,
                    shared=[t for t in loaded["paths"] if t not in experimental_only] + list(SOCKET_PATHS),
                    experimental_only=experimental_only + EXPERIMENTAL_SOCKET_PATHS,
                    methods={
                        template: tuple(
                            m.upper() for m in item if m in ("get", "put", "post", "delete", "patch")
                        )
                        for template, item in loaded["paths"].items()
                    },
                ),
                stream=stream_middleware(
                    parts.store,
                    parts.directory,
                    origins=parts.origins,
                    queue_limit=parts.watch_queue,
                    streams=parts.streams,
                    resolve_chat=resolve_chat,
                ),
                workspace_sockets=workspace_sockets_middleware(parts.directory, resolve_chat=resolve_chat),
                watch=watch_middleware(
                    parts.store,
                    parts.directory,
                    origins=parts.origins,
                    queue_limit=parts.watch_queue,
                    render=render,
                ),
                dashboard=dashboard_middleware(parts.directory, catalog, deployment)
                if parts.dashboard
                else None,
            ),
        ),
        # {chat} is parsed and loaded as in V1 (the same httpmw.ExtractChatParam).
        operation_middlewares=(chat_param_middleware(parts.store, resolve_chat),),
        routing=AnySegmentRoutingMiddleware,
        validators=current_validator_map(
            max_json_depth=parts.limits.max_json_depth, max_message_parts=parts.limits.max_message_parts
        ),
    )
