"""Faults on purpose: latency, a Coder error, or a dropped connection, for matching requests.

A rule matches a method and a path pattern; it acts on the next `times` matches (or on every
match) with a `probability` drawn from a seeded generator, so a run can be repeated exactly.
Every rule that matches and fires adds its latency; the first with a status or a drop ends the
request there. Control-plane paths (/__mock) are never faulted.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.edge.coder_errors import error_body, send_error

from .paths import CONTROL_PREFIX, PathPattern

__all__ = [
    "FAULTS_APPLIED",
    "HTTP_METHODS",
    "MAX_LATENCY_MS",
    "MAX_RULES",
    "ConnectionDropped",
    "ConnectionDropper",
    "FaultMiddleware",
    "FaultRule",
    "Faults",
    "load_fault_rules",
]

# The scope extension under which the ids of the rules that acted on a request are left.
FAULTS_APPLIED = "mock.faults"

_RULE_FIELDS = {
    "method",
    "path",
    "latency_ms",
    "status",
    "message",
    "detail",
    "drop",
    "times",
    "probability",
}


# The longest latency a rule may add: one minute. A request held longer than any client waits
# is a rule that cannot be honoured, so it is refused when it is made.
MAX_LATENCY_MS = 60_000
# The methods a rule may name (RFC 9110 section 9, and PATCH, RFC 5789); `*` names them all.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
# The most rules in force at once: each request is checked against every one.
MAX_RULES = 100


class ConnectionDropped(Exception):
    """Raised inside the app to have the connection closed without an answer."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Which requests a fault hits, what it does to them, and how often."""

    method: str | None = None  # None: every method
    path: PathPattern | None = None  # None: every path (outside /__mock)
    latency_ms: int = 0  # added before the request is answered (or dropped)
    status: int | None = None  # answer this status with a Coder error body instead
    message: str | None = None  # the error body's message (default: the status's phrase)
    detail: str | None = None  # the error body's detail (default: which rule sent it)
    drop: bool = False  # close the connection without any answer instead
    times: int | None = None  # act on the next `times` matches only; None: on every match
    probability: float = 1.0  # act on a match with this chance (seeded)

    def __post_init__(self) -> None:
        if self.method is not None and self.method not in HTTP_METHODS:
            raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)} or *")
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an error status, 400 to 599")
        if self.status is not None and self.drop:
            raise ValueError("a rule either answers a status or drops the connection, not both")
        if not (self.latency_ms or self.status is not None or self.drop):
            raise ValueError("a rule needs an action: latency_ms, status or drop")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """A rule from its JSON form (control plane, start-up file); ValueError says why."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule is an object")
        unknown = set(data) - _RULE_FIELDS
        if unknown:
            raise ValueError(f"unknown fields in a fault rule: {', '.join(sorted(unknown))}")
        method = data.get("method")
        path = data.get("path")
        try:
            return cls(
                method=None if method in (None, "*") else str(method).upper(),
                path=None if path is None else PathPattern(str(path)),
                latency_ms=int(data.get("latency_ms", 0)),
                status=None if data.get("status") is None else int(data["status"]),
                message=data.get("message"),
                detail=data.get("detail"),
                drop=bool(data.get("drop", False)),
                times=None if data.get("times") is None else int(data["times"]),
                probability=float(data.get("probability", 1.0)),
            )
        except OverflowError:  # int(inf), from a start-up file's `.inf`
            raise ValueError("a fault rule's numbers must be finite") from None

    def to_json(self) -> dict[str, Any]:
        """The rule's JSON form."""
        return {
            "method": self.method or "*",
            "path": self.path.text if self.path else "**",
            "latency_ms": self.latency_ms,
            "status": self.status,
            "message": self.message,
            "detail": self.detail,
            "drop": self.drop,
            "times": self.times,
            "probability": self.probability,
        }

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one this rule is about (before `times` and `probability`)."""
        return (self.method is None or self.method == method) and (
            self.path is None or self.path.matches(path)
        )


class _Active:
    """A rule in force, with its id and its counts."""

    __slots__ = ("fired", "id", "matched", "rule")

    def __init__(self, rule_id: int, rule: FaultRule) -> None:
        self.id = rule_id
        self.rule = rule
        self.matched = 0  # requests the rule matched
        self.fired = 0  # of those, the ones it acted on

    @property
    def remaining(self) -> int | None:
        return None if self.rule.times is None else self.rule.times - self.fired

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.rule.to_json(),
            "matched": self.matched,
            "fired": self.fired,
            "remaining": self.remaining,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """What the faults do to one request."""

    latency_ms: int = 0
    status: tuple[int, dict[str, str]] | None = None  # the error answer, if any
    drop: bool = False
    applied: tuple[int, ...] = ()  # ids of the rules that acted


class Faults:
    """The rules in force, in the order added; the start-up rules come back on `reset`."""

    def __init__(self, startup: Iterable[FaultRule] = (), *, seed: int = 0) -> None:
        self._startup = tuple(startup)
        self._seed = seed
        self._rules: list[_Active] = []
        self._next_id = 1
        self._random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        """Back to the start-up rules, with fresh counts and the generator re-seeded."""
        self._rules.clear()
        self._next_id = 1
        self._random = random.Random(self._seed)
        for rule in self._startup:
            self.add(rule)

    def add(self, rule: FaultRule) -> dict[str, Any]:
        """Put a rule in force after the others; returns it as listed (ValueError past MAX_RULES)."""
        if len(self._rules) >= MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} fault rules are in force at once; remove some first")
        active = _Active(self._next_id, rule)
        self._next_id += 1
        self._rules.append(active)
        return active.to_json()

    def remove(self, rule_id: int) -> bool:
        """Take one rule out of force; False if there is no such rule."""
        for index, active in enumerate(self._rules):
            if active.id == rule_id:
                del self._rules[index]
                return True
        return False

    def clear(self) -> int:
        """Take every rule out of force; returns how many there were."""
        count = len(self._rules)
        self._rules.clear()
        return count

    def listing(self) -> list[dict[str, Any]]:
        """Every rule in force, with its counts (a spent rule stays listed with remaining 0)."""
        return [active.to_json() for active in self._rules]

    def decide(self, method: str, path: str) -> Decision:
        """Count the request against the rules and say what happens to it."""
        latency = 0
        applied: list[int] = []
        for active in self._rules:
            rule = active.rule
            if active.remaining == 0 or not rule.matches(method, path):
                continue
            active.matched += 1
            if rule.probability < 1.0 and self._random.random() >= rule.probability:
                continue
            active.fired += 1
            applied.append(active.id)
            latency += rule.latency_ms
            if rule.drop:
                return Decision(latency, drop=True, applied=tuple(applied))
            if rule.status is not None:
                message = rule.message or HTTPStatus(rule.status).phrase + "."
                detail = (
                    rule.detail
                    if rule.detail is not None
                    else f"Injected by the mock's fault rule {active.id}."
                )
                return Decision(
                    latency,
                    status=(rule.status, error_body(message, detail)),
                    applied=tuple(applied),
                )
        return Decision(latency, applied=tuple(applied))


def load_fault_rules(path: Path) -> tuple[FaultRule, ...]:
    """The rules of a start-up file: YAML or JSON, a list of rules or `{faults: [...]}`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, Mapping):
        data = data.get("faults")
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of fault rules (or an object with `faults:`)")
    rules = []
    for index, item in enumerate(data, start=1):
        try:
            rules.append(FaultRule.from_json(item))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}: rule {index}: {error}") from None
    return tuple(rules)


def _is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class FaultMiddleware:
    """Applies the faults to every HTTP request outside /__mock."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: Faults,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,  # exists to simplify testing
    ) -> None:
        self._app = app
        self._faults = faults
        self._sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_control(scope["path"]):
            await self._app(scope, receive, send)
            return
        decision = self._faults.decide(scope["method"], scope["path"])
        if decision.applied:
            scope.setdefault("extensions", {})[FAULTS_APPLIED] = decision.applied
        if decision.latency_ms:
            await self._sleep(decision.latency_ms / 1000)
        if decision.drop:
            raise ConnectionDropped(f"fault rules {decision.applied}")
        if decision.status is None:
            await self._app(scope, receive, send)
            return
        status, body = decision.status
        await send_error(send, status, body)


class ConnectionDropper:
    """The outermost layer: turns `ConnectionDropped` into a connection closed without an answer.

    ASGI has no message for this, so the server's transport is closed directly; uvicorn's `send`
    is a method of the object holding it. Under any other server the exception goes on (an
    in-process test client raises it; another server answers 500).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._app(scope, receive, send)
        except ConnectionDropped:
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is None:
                raise
            transport.close()
            # Wait for the server to see the connection gone, so it does not answer 500 itself.
            while (await receive())["type"] != "http.disconnect":
                pass
