"""The app factory: a Connexion app built from the document, over injected parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from connexion import AsyncApp
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.resolver import Resolver
from starlette.types import ASGIApp

from mockserver.app.generations import API_GENERATIONS, build_generation
from mockserver.control import ControlPlane, CorsPolicy, FaultRule, SeedStore, no_seed
from mockserver.control.hosts import HostAllowlist
from mockserver.core.clock import Clock, IdFactory, random_uuids, system_clock
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import AsyncioScheduler, Scheduler
from mockserver.core.stopping import Stopping
from mockserver.core.store import ChatStore
from mockserver.edge.auth import authentication_middleware
from mockserver.edge.coder_errors import CoderErrorMiddleware, install_error_handlers
from mockserver.edge.generation_parts import CoreParts
from mockserver.edge.handlers import handler_middleware
from mockserver.edge.limits import Limits, LimitsMiddleware
from mockserver.edge.methods import MethodIndex
from mockserver.edge.next_layer import direct_call
from mockserver.edge.prepared_document import add_prepared_api
from mockserver.edge.remembered_routes import remembered_routes
from mockserver.edge.streams import OpenStreams
from mockserver.edge.swagger_ui import SwaggerUIOnItsPaths
from mockserver.edge.validation import GoRequestValidationMiddleware, validator_map

__all__ = ["Settings", "create_app"]


@dataclass(frozen=True, slots=True)
class Settings:
    """How the app behaves, apart from its parts."""

    api: str = API_GENERATIONS[0]  # which generation of the Chats API to serve (API_GENERATIONS)
    validate_responses: bool = True  # every answer checked against the document (a 500 if it strays)
    swagger_ui: bool = True  # the document browsable at /api/v2/ui/
    document: Path | None = None  # another copy of the generation's document; None: the packaged one
    # The control plane and its comforts (mockserver/control, docs/control.md):
    control: bool = False  # serve /__mock (reset, journal, faults, clock); off: /__mock is 404
    control_token: str | None = None  # then /__mock needs it in X-Mock-Control-Token
    control_document: Path | None = None  # another copy of control.yaml; None is the packaged one
    cors: CorsPolicy = field(default_factory=CorsPolicy)  # default: localhost, 127.0.0.1, any port
    faults: tuple[FaultRule, ...] = ()  # fault rules in force from start-up (and after a reset)
    fault_seed: int = 0  # seeds the draws of rules with a probability
    journal_size: int = 1000  # requests the journal keeps
    limits: Limits = field(default_factory=Limits)  # what one request may ask (serve's limit options)
    # Current API: messages a chat's queue holds before a send is a 429. Coder's cap
    # (`MessageQueueFullError.Max`) was not found in the source read (WIRE.md); this is the mock's.
    queue_limit: int = 20
    # Under load and over long runs (README, "Many watchers, slow watchers"):
    watch_queue: int = 1000  # frames a watch-ws client may fall behind before it is closed (1008)
    control_hosts: HostAllowlist | None = None  # Host names /__mock answers (serve: loopback + --host)
    # `--api current`: also the dashboard shell Coder's web UI boots in (users/me, entitlements,
    # ...; mockserver/current/dashboard). serve --no-dashboard turns it off.
    dashboard: bool = True
    # With it, the model list a Coder UI older than the pinned server reads (serve --ui-model-routes;
    # the pinned coderd answers 404 there): mockserver/current/dashboard/model_picker.py.
    ui_model_routes: bool = False
    # Where the document is kept prepared for Connexion between starts (serve: the user's cache
    # directory; mockserver/edge/prepared_document.py). None: prepared afresh, nothing written.
    document_cache: Path | None = None


def create_app(
    settings: Settings | None = None,
    *,
    directory: Directory | None = None,
    clock: Clock = system_clock,
    new_id: IdFactory | None = None,
    scheduler: Scheduler | None = None,
    store: ChatStore | None = None,
    agent: Any = None,
    library: ScenarioLibrary | None = None,
    seed_store: SeedStore = no_seed,
    stopping: Stopping | None = None,
) -> AsyncApp:
    """Build the mock Coder server: an ASGI app serving the Chats API under /api/v2.

    Every part is injected and nothing is shared between two apps:
    - `directory`: the users and their tokens (default: the demo users of DEMO_TOKENS);
    - `clock` and `new_id`: timestamps and UUIDs (default: random_uuids(); pass a SteppingClock
      and seeded_uuids in tests);
    - `scheduler`: when the agent writes its rows (default: real time on the event loop;
      ImmediateScheduler or ManualScheduler in tests);
    - `store` and `agent`: the transcripts and what writes runs into them (built from the above
      when not given; the default agent plays the built-in scenario library into the rows of
      the generation `settings.api` names);
    - `library`: the scenarios runs play (default: the built-in library; a V1 `agent` given
      here brings its own);
    - `seed_store`: fills the store at start-up, and again on `POST /__mock/reset`;
    - `stopping`: set by the server when it begins to stop; what waits on a client or a timer
      (a body, a fault's latency, a WebSocket) lets go then (mockserver.server.serving).

    `settings.api` names the generation: "v1" (the default, `openapi/chats.yaml`) or "current"
    (today's Coder, `openapi/current/chats.yaml`).
    """
    settings = settings or Settings()
    new_id = new_id or random_uuids()
    stopping = stopping or Stopping()
    directory = directory or Directory.from_tokens(DEMO_TOKENS)
    store = store or ChatStore(clock=clock, new_id=new_id)
    scheduler = scheduler or AsyncioScheduler()
    seed_store(store)
    streams = OpenStreams()
    control = ControlPlane(
        enabled=settings.control or settings.control_token is not None,
        token=settings.control_token,
        cors=settings.cors,
        fault_rules=settings.faults,
        fault_seed=settings.fault_seed,
        journal_size=settings.journal_size,
        store=store,
        scheduler=scheduler,
        directory=directory,
        clock=clock,
        seed_store=seed_store,
        document=settings.control_document,
        stopping=stopping,
        hosts=settings.control_hosts,
        streams=streams,
    )
    generation = build_generation(
        settings.api,
        CoreParts(
            store=store,
            directory=directory,
            scheduler=scheduler,
            clock=clock,
            new_id=new_id,
            limits=settings.limits,
            library=library or ScenarioLibrary.builtin(),
            queue_limit=settings.queue_limit,
            origins=settings.cors,
            watch_queue=settings.watch_queue,
            streams=streams,
            dashboard=settings.dashboard,
            ui_model_routes=settings.ui_model_routes,
            document_cache=settings.document_cache,
        ),
        agent=agent,
        document=settings.document,
    )
    document = generation.document

    app = AsyncApp(
        __name__,
        middlewares=[
            # Outermost: a request past a limit is answered before anything else looks at it.
            partial(_limits_layer, limits=settings.limits, stopping=stopping),
            *control.middlewares(),
            *generation.outer_middlewares,  # e.g. the live transcript WebSocket (not in the document)
            CoderErrorMiddleware,  # Connexion's ServerError and Exception layers, in one
            SwaggerUIOnItsPaths,
            remembered_routes(generation.routing or RoutingMiddleware),
            authentication_middleware(directory),
            *generation.operation_middlewares,  # e.g. {chat}, loaded before the body is read
            # Lifespan events only (HTTP passes through): here, outside the layers whose steps
            # are chained operation by operation (edge/routed.py), it is never on their way.
            LifespanMiddleware,
            GoRequestValidationMiddleware,
            # Off (serve's default), the layer would only pass every request through.
            *([ResponseValidationMiddleware] if settings.validate_responses else []),
            handler_middleware(),  # the Chats handlers answer here, from the context
            ContextMiddleware,  # the control plane's handlers go on through Connexion's own path
        ],
    )
    add_prepared_api(
        app,
        generation.prepared,
        resolver=Resolver(function_resolver=generation.resolve),
        validate_responses=settings.validate_responses,
        validator_map=dict(
            generation.validators or validator_map(max_json_depth=settings.limits.max_json_depth)
        ),
        swagger_ui_options=_swagger_ui(settings.swagger_ui),
    )
    control.add_api(
        app,
        validate_responses=settings.validate_responses,
        swagger_ui_options=_swagger_ui(settings.swagger_ui),
    )
    install_error_handlers(app, MethodIndex(document["paths"], base_path=document["servers"][0]["url"]))
    return app


def _limits_layer(app: ASGIApp, *, limits: Limits, stopping: Stopping) -> ASGIApp:
    """The outermost layer over `app`, as the call Connexion makes of it on every request: its
    bound `__call__` (the object itself would be called through its type's call slot)."""
    return direct_call(LimitsMiddleware(app, limits=limits, stopping=stopping))


def _swagger_ui(enabled: bool) -> object:
    from connexion.options import SwaggerUIOptions

    return SwaggerUIOptions(swagger_ui=enabled, swagger_ui_path="/ui")
