"""The control plane assembled: its middleware layers around the Coder API, and /__mock itself."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import coder_chats_openapi
from connexion import AsyncApp
from connexion.resolver import Resolver

from mockserver.core.clock import Clock
from mockserver.core.directory import Directory
from mockserver.core.stopping import Stopping
from mockserver.core.store import ChatStore, Eviction
from mockserver.edge.origins import CorsMiddleware, CorsPolicy, cors_options
from mockserver.edge.streams import OpenStreams

from .api import ControlApi, Steppable
from .faults import ConnectionDropper, FaultMiddleware, FaultRule, Faults
from .guard import ControlGuard
from .hosts import HostAllowlist
from .journal import Journal, JournalMiddleware, eviction_entry
from .paths import CONTROL_PREFIX

__all__ = ["ControlPlane", "SeedStore", "no_seed"]

SeedStore = Callable[[ChatStore], None]


def no_seed(store: ChatStore) -> None:
    """The start-up loader of a mock without fixtures: an empty store."""


class ControlPlane:
    """Journal, faults, guard and CORS around the Coder API, and the /__mock API when enabled.

    `reset()` is what `POST /__mock/reset` does: the store emptied and seeded again by the
    same loader that seeded it at start-up, the journal emptied, the start-up fault rules
    back in force with fresh counts.
    """

    def __init__(
        self,
        *,
        enabled: bool,
        token: str | None,
        cors: CorsPolicy,
        fault_rules: tuple[FaultRule, ...],
        fault_seed: int,
        journal_size: int,
        store: ChatStore,
        scheduler: Steppable,
        directory: Directory,
        clock: Clock,
        seed_store: SeedStore = no_seed,
        document: Path | None = None,
        stopping: Stopping | None = None,
        hosts: HostAllowlist | None = None,
        streams: OpenStreams | None = None,
    ) -> None:
        self.enabled = enabled
        self.journal = Journal(journal_size)
        self.faults = Faults(fault_rules, seed=fault_seed)
        self._fault_rules = fault_rules
        self._token = token
        self._cors = cors
        self._store = store
        self._scheduler = scheduler
        self._directory = directory
        self._clock = clock
        self._seed_store = seed_store
        self._document = document  # another copy of control.yaml; None is the packaged one
        self._stopping = stopping or Stopping()  # a fault's latency ends when the server stops
        self._hosts = hosts  # the Host names /__mock answers; None: any
        self._streams = streams or OpenStreams()  # the generation's chat streams, to close on demand
        if enabled:  # the journal's only reader is the control plane
            store.on_evict(self._record_eviction)

    def middlewares(self) -> list[Any]:
        """The layers outside Connexion's own, outermost first."""
        # Rules come from start-up or from the control plane: with neither, no request can meet
        # a fault, and the two fault layers are left out rather than consulted on every call.
        faulty = self.enabled or bool(self._fault_rules)
        layers: list[Any] = [ConnectionDropper] if faulty else []
        if self.enabled:  # the journal's only reader is the control plane
            layers.append(
                partial(
                    JournalMiddleware,
                    journal=self.journal,
                    directory=self._directory,
                    clock=self._clock,
                )
            )
        layers += [
            partial(
                ControlGuard, enabled=self.enabled, token=self._token, cors=self._cors, hosts=self._hosts
            ),
            # Outside the error handling, so that a Coder error body is readable cross-origin too.
            partial(CorsMiddleware, **cors_options(self._cors)),
        ]
        if faulty:
            layers.append(partial(FaultMiddleware, faults=self.faults, sleep=self._stopping.sleep))
        return layers

    def add_api(self, app: AsyncApp, **options: Any) -> None:
        """Serve /__mock from its own document when enabled (options as for `app.add_api`)."""
        if not self.enabled:
            return
        api = ControlApi(
            reset=self.reset,
            journal=self.journal,
            faults=self.faults,
            clock=self._scheduler,
            streams=self._streams,
        )
        app.add_api(
            self._document or Path(str(coder_chats_openapi.control_document())),
            base_path=CONTROL_PREFIX,
            resolver=Resolver(function_resolver=api.resolve),
            **options,
        )

    def _record_eviction(self, eviction: Eviction) -> None:
        owner = eviction.chat.owner_id
        user = next((u.username for u in self._directory.users if u.id == owner), None)
        self.journal.record(eviction_entry(self.journal, eviction, time=self._clock(), user=user))

    def reset(self) -> None:
        """Back to the start-up state (see the class docstring)."""
        self._store.clear()
        self._seed_store(self._store)
        self.journal.clear()
        self.faults.reset()
