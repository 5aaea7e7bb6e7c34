"""What every scenario check uses: its context (probe, facts, tokens, sinks) and the assertions.

A check is named for the invariant it guards and raises ContractBroken named for the violation;
a check that judges many things (a run's grammar) records several violations through the
context instead, and says which rules its situations exercised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from contracts.rulebook import RuleBook
from contracts.target import Probe, Target
from contracts.violations import ContractBroken, Violation

__all__ = [
    "PostedRun",
    "Scenario",
    "ScenarioContext",
    "SideDocument",
    "Suite",
    "Tally",
    "expect_status",
    "json_list",
    "json_object",
    "json_object_or_none",
    "read_openapi",
    "snippet",
]


@dataclass(frozen=True, slots=True)
class PostedRun:
    """A run a 201 announced: the chat, the run_id, whose token posted it, and the text."""

    chat: str
    run_id: str
    token: str
    text: str


@dataclass(slots=True)
class Tally:
    """How many things the checks judged (runs, events, payloads), counted by checks that may run at once."""

    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + count


@dataclass(frozen=True, slots=True)
class ScenarioContext:
    """What a scenario needs: the probe, the facts, the tokens, the options and the sinks."""

    probe: Probe
    target: Target
    facts: Any  # the suite's facts from its document (V1: contracts.v1.facts.WireFacts)
    token: str
    other_token: str | None
    agent_timeout: float  # seconds a run may take to write run_finished
    new_uuid: Callable[[], str]  # seeded: the same --seed sends the same ids
    record: Callable[[Violation], None]  # a violation found without stopping the check
    exercise: Callable[..., None]  # rules whose situation arose
    runs: list[PostedRun] = field(default_factory=list)  # every run a post of a check started
    gave_up: set[str] = field(default_factory=set)  # run ids waited for in vain: not waited for again
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_every: float = 0.1  # seconds between two listings while waiting for runs
    read_slice: float = 0.02  # real seconds one stream read waits before the chat is polled over REST
    organization: str | None = None  # today's API: where chats are created (None: the suite finds it)
    memo: dict[str, Any] = field(default_factory=dict)  # what one check found for the next ones
    tally: Tally = field(default_factory=Tally)  # what was judged, shared by every check of the run

    def send(self, method: str, path: str, *, token: str | None = None, **body: Any) -> httpx.Response:
        """A request as the main user unless another token is given."""
        return self.probe.send(method, path, token=self.token if token is None else token, **body)

    def anonymous(self, method: str, path: str, **body: Any) -> httpx.Response:
        """A request without any token."""
        return self.probe.send(method, path, token=None, **body)

    def create_chat(self, body: Any, *, token: str | None = None) -> dict[str, Any]:
        """Create a chat; a refusal of a valid request is itself a violation."""
        response = self.send("POST", "/chats", json_body=body, token=token)
        expect_status(response, 201, "ValidChatRefused")
        return json_object(response, "ChatNotAnObject")

    def post(self, chat_id: str, text: str, *, token: str | None = None) -> dict[str, Any]:
        """Post a message; its run joins `runs`, to be judged when it ends."""
        response = self.send("POST", f"/chats/{chat_id}/messages", json_body={"content": text}, token=token)
        expect_status(response, 201, "ValidMessageRefused")
        answer = json_object(response, "PostAnswerNotAnObject")
        self.note_run(chat_id, answer, text, token=token)
        return answer

    def note_run(self, chat_id: str, answer: Any, text: str, *, token: str | None = None) -> None:
        """Remember the run a 201 announced."""
        if isinstance(answer, dict) and isinstance(answer.get("run_id"), str):
            self.runs.append(PostedRun(chat_id, answer["run_id"], token or self.token, text))


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named check: `rules` are exercised when it returns None; it may exercise others itself."""

    rules: tuple[str, ...]  # the first is the rule a ContractBroken without one is reported under
    run: Callable[[ScenarioContext], str | None]  # returns a note when it could not check fully
    marks: bool = True  # False: the check says itself which rules its situations exercised
    after_all: bool = False  # True: runs alone, once every check before it has ended (it reads their runs)


@dataclass(frozen=True, slots=True)
class SideDocument:
    """Another document of the same server (today's dashboard shell), fuzzed after the suite's
    when the server serves it: on a small budget, without a stateful phase."""

    name: str  # e.g. `dashboard.yaml`
    load: Callable[[], dict[str, Any]]
    served_at: str  # a GET path under the API prefix that answers 200 when the server serves it
    config: dict[str, Any]  # its Schemathesis configuration
    max_examples: int  # per operation and mode


@dataclass(frozen=True, slots=True)
class Suite:
    """One API generation: its rule book, its document and facts, and the checks that exercise it."""

    book: RuleBook
    scenarios: tuple[Scenario, ...]
    load_document: Callable[[Path | None], dict[str, Any]]  # the packaged document unless a path
    facts: Callable[[dict[str, Any]], Any]  # the facts the checks compare against, from the document
    response_checks: Callable[[Any], list[Callable[[Any, Any, Any], None]]]  # Schemathesis-phase checks
    # Schemathesis configuration the API needs, from what the scenario checks found (their memo).
    fuzz_config: Callable[[dict[str, Any]], dict[str, Any]] = lambda memo: {}
    # What every check (and the Schemathesis phase) shares, found once before them (the memo).
    prepare: Callable[[ScenarioContext], object] = lambda ctx: None
    # Why the server is not this generation's API (with a hint), or None: asked before any check.
    recognise: Callable[[Probe, str], str | None] = lambda probe, token: None
    # Other documents the server may serve beside the suite's, judged in the Schemathesis phase.
    side_documents: tuple[SideDocument, ...] = ()


def snippet(response: httpx.Response) -> str:
    """The start of a response body, for a message."""
    text = response.text
    return text if len(text) <= 300 else text[:300] + "..."


def expect_status(response: httpx.Response, status: int, kind: str) -> None:
    """Raise `kind` unless the response has this status."""
    if response.status_code != status:
        raise ContractBroken(
            kind, f"expected status {status}, got {response.status_code}: {snippet(response)}"
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return _NotJSON()


class _NotJSON:
    def __repr__(self) -> str:
        return "<not JSON>"


def json_object_or_none(response: httpx.Response) -> Any:
    """The response body decoded, or a stand-in that is no JSON value when it is not JSON."""
    return _json(response)


def json_object(response: httpx.Response, kind: str) -> dict[str, Any]:
    """The response body as a JSON object, or raise `kind`."""
    body = _json(response)
    if not isinstance(body, dict):
        raise ContractBroken(kind, f"expected a JSON object, got {snippet(response)}")
    return body


def json_list(response: httpx.Response, kind: str) -> list[Any]:
    """The response body as a JSON array, or raise `kind`."""
    body = _json(response)
    if not isinstance(body, list):
        raise ContractBroken(kind, f"expected a JSON array, got {snippet(response)}")
    return body


def read_openapi(path: Path) -> dict[str, Any]:
    """An OpenAPI document read from `path` (YAML or JSON); a document that is no mapping is refused."""
    # libyaml's loader when PyYAML has it: the same document, read ten times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    if not isinstance(document, dict):
        raise ValueError("the OpenAPI document is not a mapping")
    return document
