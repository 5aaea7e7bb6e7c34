"""Today's generation assembled: its document, its handlers, chi-style routing, Go-style bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import coder_chats_openapi

from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from mockserver.core.errors import ChatNotFound
from mockserver.core.models import Chat
from mockserver.current.api import CurrentChatsApi
from mockserver.current.catalog import ORGANIZATION_NAME, ModelCatalog
from mockserver.current.dashboard import dashboard_middleware
from mockserver.current.dashboard.deployment import Deployment
from mockserver.current.decoding import current_validator_map
from mockserver.current.engine import ChatEngine
from mockserver.current.routing import AnySegmentRoutingMiddleware
from mockserver.current.stream import stream_middleware
from mockserver.current.turns import TurnRunner
from mockserver.current.watch import watch_middleware
from mockserver.current.wire import chat_json, has_assistant_message
from mockserver.edge.chat_param import chat_param_middleware
from mockserver.edge.generation_parts import CoreParts, GenerationApp, load_document

__all__ = ["current_generation"]


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
    api = CurrentChatsApi(store=parts.store, engine=engine, directory=parts.directory)

    def render(chat: Chat) -> dict[str, Any]:
        """A chat for the watch, as GET /chats/{chat} shows it (an evicted one has no messages)."""
        try:
            messages = parts.store.messages_of(chat.id)
        except ChatNotFound:
            messages = ()
        return chat_json(
            chat, engine.model_of(chat), has_unread=has_assistant_message(messages, chat.last_read_message_id)
        )

    loaded = load_document(document or coder_chats_openapi.current_document())
    return GenerationApp(
        document=loaded,
        resolve=api.resolve,
        # The stream and watch WebSockets (WIRE.md section 7): not in the document.
        outer_middlewares=(
            stream_middleware(
                parts.store,
                parts.directory,
                origins=parts.origins,
                queue_limit=parts.watch_queue,
                streams=parts.streams,
            ),
            watch_middleware(
                parts.store,
                parts.directory,
                origins=parts.origins,
                queue_limit=parts.watch_queue,
                render=render,
            ),
            # What Coder's web UI asks around its Agents page (openapi/current/dashboard.yaml).
            *(
                [
                    dashboard_middleware(
                        parts.directory,
                        catalog,
                        Deployment(DEFAULT_ORGANIZATION_ID, ORGANIZATION_NAME),
                        model_routes=parts.ui_model_routes,
                    )
                ]
                if parts.dashboard
                else []
            ),
        ),
        # {chat} is parsed and loaded as in V1 (the same httpmw.ExtractChatParam).
        operation_middlewares=(chat_param_middleware(parts.store),),
        routing=AnySegmentRoutingMiddleware,
        validators=current_validator_map(max_json_depth=parts.limits.max_json_depth),
    )
