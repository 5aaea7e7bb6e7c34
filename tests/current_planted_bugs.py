"""Planted-bug variants of the current-API mock: each one small deviation, with the rule it breaks.

Each variant is the real mock (`--api current`) with one thing altered: a request or response
rewritten by a tiny ASGI wrapper, or the store subclassed. `rules` lists the rule names verify
may report for it; verify must fail naming at least one of them.

The mock runs on a virtual clock that every request pushes forward (`PUSH` seconds): a `slow`
run stays busy over a few of verify's requests and ends after some thirty, so the checks see
busy chats and finished runs without the test waiting on real time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver import DEMO_TOKENS, ManualScheduler, Settings, SteppingClock, create_app, seeded_uuids
from mockserver.core.store import ChatStore

__all__ = ["PUSH", "VARIANTS", "Variant", "current_mock"]

ASGIApp = Callable[..., Any]
Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]  # (method, route, status, body) -> (status, body)
# Virtual seconds each request moves the mock's clock.
PUSH = 0.25
TOKENS = (DEMO_TOKENS["alice"], DEMO_TOKENS["bob"])


@dataclass(frozen=True, slots=True)
class Variant:
    """A current-API mock with one planted bug."""

    name: str
    rules: tuple[str, ...]  # verify must name at least one of these
    build: Callable[[], ASGIApp]


class PushedByRequests:
    """The app, with a virtual clock that each HTTP request pushes forward by `step` seconds."""

    def __init__(self, app: ASGIApp, scheduler: ManualScheduler, step: float) -> None:
        self._app, self._scheduler, self._step = app, scheduler, step
        self.busy_answers = 0  # requests answered while a run still had something to write

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self._scheduler.advance(self._step)
            self.busy_answers += self._scheduler.pending > 0
        await self._app(scope, receive, send)


def current_mock(
    *, step: float = PUSH, store: Callable[..., ChatStore] = ChatStore, **settings: Any
) -> PushedByRequests:
    """The unmodified current-API mock on a virtual clock each request pushes `step` seconds."""
    clock, new_id, scheduler = SteppingClock(), seeded_uuids(11), ManualScheduler()
    app = create_app(
        Settings(api="current", validate_responses=False, swagger_ui=False, **settings),
        clock=clock,
        new_id=new_id,
        scheduler=scheduler,
        store=store(clock=clock, new_id=new_id),
    )
    return PushedByRequests(app, scheduler, step)


VARIANTS: tuple[Variant, ...] = ()
