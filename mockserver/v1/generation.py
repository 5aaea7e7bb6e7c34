"""The seed's generation assembled: its document, its four handlers, {chat} and watch-ws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import coder_chats_openapi

from mockserver.edge.chat_param import chat_param_middleware
from mockserver.edge.generation_parts import CoreParts, GenerationApp, prepare_document
from mockserver.v1.agent import ScenarioAgent
from mockserver.v1.api import ChatsApi
from mockserver.v1.watch import watch_middleware

__all__ = ["v1_generation"]


def v1_generation(parts: CoreParts, *, agent: Any, document: Path | None) -> GenerationApp:
    """V1 over `parts`; the agent defaults to the scenario agent writing V1 rows."""
    api = ChatsApi(
        store=parts.store,
        directory=parts.directory,
        agent=agent or ScenarioAgent(parts.store, parts.scheduler, parts.library),
        new_id=parts.new_id,
        max_message_bytes=parts.limits.max_message_bytes,
    )
    return GenerationApp(
        prepared=prepare_document(document or coder_chats_openapi.document(), parts.document_cache),
        resolve=api.resolve,
        outer_middlewares=(
            watch_middleware(
                parts.store,
                parts.directory,
                origins=parts.origins,
                queue_limit=parts.watch_queue,
                streams=parts.streams,
            ),
        ),
        operation_middlewares=(chat_param_middleware(parts.store),),
    )
