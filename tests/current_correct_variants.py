"""Correct servers of today's API that verify must pass although they differ from the mock where the contract allows.

- `unmodified_mock`: the current-API mock on a virtual clock each request pushes.
- `unknown_fields_everywhere`: the mock as a newer Coder would be, a field the document does not
  name added to every object it sends, bodies and stream frames (never inside `labels`, which
  is the client's data), an event of a type the document does not name in every stream frame,
  and a watch event of a kind it does not name before each one (both sets are `x-open-set`).
- `one_event_per_frame`: every stream event in a frame of its own (WIRE.md §7.1 allows any
  batching): a check must read on until the run's last event (`error` after the status).
- `slow_agent`: every action of every run a quarter second later than its scenario says, on a
  clock each request pushes a tenth of a second: a run spans dozens of verify's requests, so
  verify must wait for runs (and sees them busy) while the test takes a second of real time.
- `go_shaped_json`: the mock's bodies re-encoded as Go's encoder writes them (`<`, `>`, `&`
  escaped, a trailing newline) with every object's keys in reverse order: no check may depend
  on key order or on how a string is escaped.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.core.golang import encode_json
from mockserver.core.scheduler import Callback, ManualScheduler
from tests.current_planted_bugs import TOKENS, PushedByRequests, current_mock

__all__ = ["CORRECT_VARIANTS", "CorrectVariant"]

ASGIApp = Callable[..., Any]
# Values that are data, not objects: the client's labels, and the dashboard shell's maps (an
# entitlement per feature, SSH options, a workspace's tags). A newer server adds no field to them.
OPAQUE = frozenset({"labels", "features", "ssh_config_options", "tags"})


@dataclass(frozen=True, slots=True)
class CorrectVariant:
    """A server of today's API that honours the contract in its own way."""

    name: str
    build: Callable[[], ASGIApp]
    tokens: tuple[str, str] = TOKENS


def _is_map(value: dict[str, Any]) -> bool:
    """An object keyed by ids (by-workspace's workspace -> chat), of booleans only (authcheck's answer
    per check), or empty: a map, whose keys are data."""
    if value and all(isinstance(item, bool) for item in value.values()):
        return True
    try:
        return all(uuid.UUID(key) for key in value)
    except ValueError:
        return False


def _with_unknown_fields(value: Any) -> Any:
    if isinstance(value, list):
        return [_with_unknown_fields(item) for item in value]
    if not isinstance(value, dict) or _is_map(value):
        return value
    grown = {key: item if key in OPAQUE else _with_unknown_fields(item) for key, item in value.items()}
    grown["x_newer_field"] = {"since": "a newer Coder"}
    return grown


def _newer_frame(value: Any) -> Any:
    """Unknown fields everywhere; a stream frame (an array of events) also gains an event of an unknown type."""
    grown = _with_unknown_fields(value)
    if isinstance(value, list) and value and all(isinstance(e, dict) and "type" in e for e in value):
        grown.append({"type": "x_newer_event", "chat_id": value[0].get("chat_id")})
    return grown


def _newer_watch_kind(value: Any) -> list[Any]:
    """A watch event is preceded by one of a kind the document does not name (about the same chat)."""
    if isinstance(value, dict) and "kind" in value and isinstance(value.get("chat"), dict):
        return [{"kind": "x_newer_kind", "chat": value["chat"]}, value]
    return [value]


def _each_event_alone(value: Any) -> list[Any]:
    """A stream frame of n events becomes n frames of one event each."""
    if isinstance(value, list) and len(value) > 1:
        return [[event] for event in value]
    return [value]


def _keys_reversed(value: Any) -> Any:
    if isinstance(value, list):
        return [_keys_reversed(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: _keys_reversed(value[key]) for key in reversed(list(value))}


class _JSONReencoded:
    """Each JSON body (and stream frame) of `app` passed through `reencode`."""

    def __init__(
        self,
        app: ASGIApp,
        reencode: Callable[[Any], bytes],
        split: Callable[[Any], list[Any]] = lambda value: [value],
        reencode_frame: Callable[[Any], bytes] | None = None,
    ) -> None:
        self._app, self._reencode, self._split = app, reencode, split
        self._reencode_frame = reencode_frame or reencode

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def reencoded(message: Any) -> None:
            if message["type"] == "websocket.send" and message.get("text"):
                with contextlib.suppress(ValueError):  # a stream frame: one JSON array of events
                    frames = self._split(json.loads(message["text"]))
                    for frame in frames[:-1]:
                        await send({**message, "text": self._reencode_frame(frame).decode()})
                    message = {**message, "text": self._reencode_frame(frames[-1]).decode()}
            elif message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                with contextlib.suppress(ValueError):  # not JSON: passed as it is
                    body = self._reencode(json.loads(body)) if body else body
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self._app(scope, receive, reencoded)


class _LateScheduler(ManualScheduler):
    """A scheduler on which every action comes `lateness` seconds after its scenario's time."""

    def __init__(self, lateness: float) -> None:
        super().__init__()
        self._lateness = lateness

    def call_later(self, delay: float, callback: Callback) -> None:
        super().call_later(delay + self._lateness, callback)


def _slow_agent() -> PushedByRequests:
    return current_mock(step=0.1, scheduler=_LateScheduler(0.25))


CORRECT_VARIANTS: tuple[CorrectVariant, ...] = (
    CorrectVariant("unmodified_mock", current_mock),
    CorrectVariant(
        "unknown_fields_everywhere",
        lambda: _JSONReencoded(
            current_mock(),
            lambda value: json.dumps(_with_unknown_fields(value)).encode(),
            _newer_watch_kind,
            lambda value: json.dumps(_newer_frame(value)).encode(),
        ),
    ),
    CorrectVariant(
        "one_event_per_frame",
        lambda: _JSONReencoded(current_mock(), lambda value: json.dumps(value).encode(), _each_event_alone),
    ),
    CorrectVariant("slow_agent", _slow_agent),
    CorrectVariant(
        "go_shaped_json",
        lambda: _JSONReencoded(current_mock(), lambda value: encode_json(_keys_reversed(value))),
    ),
)
