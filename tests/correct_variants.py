"""Correct servers verify must pass although they differ from the mock where the contract allows.

- `unknown_fields_everywhere`: the mock as a newer Coder would be, a field the document does not
  name added to every object it sends (bodies and watch-ws frames; never inside metadata, tool
  args or results, which are data and come back as sent).
- `slow_agent`: every run is the `slow` scenario (11 rows over 5.5 s) on a virtual clock that
  each transcript listing pushes 0.1 s: rows arrive over several of the agent's seconds while
  the test takes well under one.
- `go_shaped_json`: the independent server (tests/independent_server.py) with its JSON bytes
  written as Go's encoder writes them: `<`, `>`, `&` escaped, a trailing newline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver import DEMO_TOKENS, ChatStore, ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.golang import encode_json
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.v1.agent import ScenarioAgent
from tests.app_settings import app_settings
from tests.independent_server import TOKENS as INDEPENDENT_TOKENS
from tests.independent_server import build_app as build_independent_app
from tests.planted_bugs import correct_mock

__all__ = ["CORRECT_VARIANTS", "CorrectVariant"]

ASGIApp = Callable[..., Any]
# Values that are the client's or a tool's data: a newer server returns them as they were.
OPAQUE = frozenset({"metadata", "args", "result"})


@dataclass(frozen=True, slots=True)
class CorrectVariant:
    """A server that honours the contract in its own way, and the two tokens of its users."""

    name: str
    build: Callable[[], ASGIApp]
    tokens: tuple[str, str]


def _with_unknown_fields(value: Any) -> Any:
    if isinstance(value, list):
        return [_with_unknown_fields(item) for item in value]
    if not isinstance(value, dict):
        return value
    grown = {key: item if key in OPAQUE else _with_unknown_fields(item) for key, item in value.items()}
    grown["x_newer_field"] = {"since": "a newer Coder"}
    return grown


class _JSONReencoded:
    """Each JSON body (and watch-ws text frame) of `app` passed through `reencode`."""

    def __init__(self, app: ASGIApp, reencode: Callable[[Any], bytes]) -> None:
        self._app, self._reencode = app, reencode

    def _text(self, raw: bytes) -> bytes:
        try:
            value = json.loads(raw)
        except ValueError:
            return raw
        return self._reencode(value)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def reencoded(message: Any) -> None:
            if message["type"] == "websocket.send" and message.get("text"):
                message = {**message, "text": self._text(message["text"].encode()).decode().rstrip("\n")}
            elif message["type"] == "http.response.start":
                start.update(message)
                return
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = self._text(b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self._app(scope, receive, reencoded)


def _unknown_fields_everywhere() -> ASGIApp:
    return _JSONReencoded(correct_mock(), lambda value: json.dumps(_with_unknown_fields(value)).encode())


class _PushedByListings:
    """The app, with a virtual clock that each transcript listing pushes forward by `step` seconds."""

    def __init__(self, app: ASGIApp, scheduler: ManualScheduler, step: float) -> None:
        self._app, self._scheduler, self._step = app, scheduler, step
        self.listed_mid_run = 0  # listings answered while a run still had rows to write

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].endswith("/messages"):
            self._scheduler.advance(self._step)
            self.listed_mid_run += self._scheduler.pending > 0
        await self._app(scope, receive, send)


def _slow_agent() -> ASGIApp:
    clock, new_id, scheduler = SteppingClock(), seeded_uuids(7), ManualScheduler()
    store = ChatStore(clock=clock, new_id=new_id)
    builtin = ScenarioLibrary.builtin()
    library = ScenarioLibrary([builtin[name] for name in builtin.names], default="slow")
    app = create_app(
        app_settings(validate_responses=False, swagger_ui=False),
        clock=clock,
        new_id=new_id,
        scheduler=scheduler,
        store=store,
        agent=ScenarioAgent(store, scheduler, library),
    )
    return _PushedByListings(app, scheduler, 0.1)


def _go_shaped_json() -> ASGIApp:
    return _JSONReencoded(build_independent_app(), encode_json)


_DEMO = (DEMO_TOKENS["alice"], DEMO_TOKENS["bob"])
_INDEPENDENT = (INDEPENDENT_TOKENS["carol"], INDEPENDENT_TOKENS["dave"])

CORRECT_VARIANTS: tuple[CorrectVariant, ...] = (
    CorrectVariant("unmodified_mock", correct_mock, _DEMO),
    CorrectVariant("independent_server", build_independent_app, _INDEPENDENT),
    CorrectVariant("unknown_fields_everywhere", _unknown_fields_everywhere, _DEMO),
    CorrectVariant("slow_agent", _slow_agent, _DEMO),
    CorrectVariant("go_shaped_json", _go_shaped_json, _INDEPENDENT),
)
