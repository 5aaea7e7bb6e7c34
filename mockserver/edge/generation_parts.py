"""What a generation is handed (CoreParts) and what it hands back (GenerationApp).

The core (store, directory, scheduler, clock, edge, control plane) is the same for every
generation; a generation brings its document, its handlers and the middleware that only its
routes need. Generations import these from here, below them; `mockserver.app.generations`
picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.core.clock import Clock, IdFactory
from mockserver.core.directory import Directory
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import Scheduler
from mockserver.core.store import ChatStore
from mockserver.edge.limits import Limits
from mockserver.edge.origins import CorsPolicy
from mockserver.edge.prepared_document import PreparedDocument, load_document, prepare_document
from mockserver.edge.streams import OpenStreams

__all__ = ["CoreParts", "GenerationApp", "PreparedDocument", "load_document", "prepare_document"]


@dataclass(frozen=True, slots=True)
class CoreParts:
    """The generation-neutral parts a generation's handlers work over."""

    store: ChatStore
    directory: Directory
    scheduler: Scheduler
    clock: Clock
    new_id: IdFactory
    limits: Limits  # serve's limits; a generation's handlers hold its fields to them
    library: ScenarioLibrary  # the scenarios runs play
    queue_limit: int  # messages a chat's queue holds (a generation with a queue reads it)
    # What a generation's WebSockets need (see Settings): which browser origins may open one,
    # and how many frames a watcher may fall behind.
    origins: CorsPolicy = field(default_factory=CorsPolicy)
    watch_queue: int = 1000
    # A generation's chat streams, for the control plane to close (`POST /__mock/chats/{chat_id}/streams/close`).
    streams: OpenStreams = field(default_factory=OpenStreams)
    # Today's generation: also answer what Coder's web UI asks around its Agents page
    # (mockserver/current/dashboard); off, those paths are the Chats API's 404.
    dashboard: bool = True
    # ... and the two model-picker routes the pinned server removed (dashboard/model_picker.py).
    ui_model_routes: bool = False
    # Where a generation keeps its document prepared for Connexion (mockserver/edge/prepared_document.py);
    # None: prepared afresh.
    document_cache: Path | None = None


@dataclass(frozen=True, slots=True)
class GenerationApp:
    """One generation's share of the app."""

    prepared: PreparedDocument  # the OpenAPI document, loaded and prepared for Connexion
    resolve: Callable[[str], Any]  # operationId -> handler
    # Before Connexion's routing: what the document cannot describe (the WebSockets).
    outer_middlewares: tuple[Any, ...]
    # After authentication, before the body is read: path parameters resolved as coderd does.
    operation_middlewares: tuple[Any, ...]
    # How requests find their operation, and how bodies and parameters are read before the
    # handler (Connexion's routing and the edge's Go-style validators unless a generation says).
    routing: Any = None
    validators: Mapping[str, Any] | None = None

    @property
    def document(self) -> Mapping[str, Any]:
        """The OpenAPI document, loaded."""
        return self.prepared.document
