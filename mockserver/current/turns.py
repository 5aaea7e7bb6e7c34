"""A scenario played as one turn of today's Coder: assistant and tool messages made of parts.

Per model step of the scenario (openapi/current/WIRE.md section 6): the step's text and
reasoning stream live as chunks, then one `assistant` message holds the step's parts in order
(`reasoning`, `text`, `tool-call`) with the step's `usage`; when the step called tools, a `tool`
message with one `tool-result` part per call follows once the tools have run. A failing step
stores nothing of itself and ends the turn with a ChatError. The runner writes through the
store on the scheduler's time and never answers a request; an interrupted or replaced turn
stops where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from mockserver.core.clock import Clock, IdFactory
from mockserver.core.errors import ChatNotFound
from mockserver.core.golang import format_time
from mockserver.core.models import Chat, Role
from mockserver.core.scenarios import (
    Delay,
    ErrorCode,
    Fail,
    Finish,
    Reasoning,
    Scenario,
    ScenarioLibrary,
    Text,
    ToolCall,
    Usage,
    fill_text,
)
from mockserver.core.scheduler import Scheduler, play_in_order
from mockserver.core.store import ChatStore

__all__ = ["Chunk", "End", "StoreMessage", "TurnEnded", "TurnRunner", "plan_turn"]

# The ChatError kind a scenario's failure code becomes.
_ERROR_KINDS = {
    ErrorCode.LLM_INIT_FAILED: "config",
    ErrorCode.UPSTREAM_ERROR: "generic",
    ErrorCode.STREAM_ERROR: "generic",
}
# Parts that carry the instant they were made (`created_at`).
_STAMPED = frozenset({"reasoning", "tool-call", "tool-result"})


class Chunk(NamedTuple):
    """A piece of text or reasoning streamed live, `delay` seconds after the previous action."""

    delay: float
    kind: str  # "text" or "reasoning"
    text: str


class StoreMessage(NamedTuple):
    """A message the turn stores, `delay` seconds after the previous action."""

    delay: float
    role: Role
    parts: tuple[dict[str, Any], ...]
    usage: dict[str, int] | None


class End(NamedTuple):
    """The turn ends, `delay` seconds after the previous action: well, or with a ChatError."""

    delay: float
    error: dict[str, Any] | None


Action = Chunk | StoreMessage | End
# Called when a turn ends by itself: the chat's id and its ChatError (None when it went well).
TurnEnded = Callable[[UUID, "dict[str, Any] | None"], None]


@dataclass(slots=True)
class _Planner:
    """Walks a scenario's steps, accumulating the open model step."""

    text: str
    context_limit: int
    actions: list[Action] = field(default_factory=list)
    wait: float = 0.0  # seconds owed before the next action
    parts: list[dict[str, Any]] = field(default_factory=list)  # the open step's
    results: list[dict[str, Any]] = field(default_factory=list)  # its tool results
    tool_time: float = 0.0  # how long its tools run
    calls: int = 0  # tool calls so far in the turn, for their ids
    turn_key: str = ""

    def add(self, action: Action) -> None:
        """Append `action`, due after the seconds owed so far."""
        self.actions.append(action._replace(delay=self.wait))
        self.wait = 0.0

    def stream(self, kind: str, chunks: Sequence[str], every: float) -> None:
        filled = [fill_text(chunk, self.text) for chunk in chunks]
        for chunk in filled:
            self.wait += every
            self.add(Chunk(0.0, kind, chunk))
        if self.parts and self.parts[-1]["type"] == kind:
            self.parts[-1]["text"] += "".join(filled)
        else:
            self.parts.append({"type": kind, "text": "".join(filled)})

    def tool_call(self, call: ToolCall) -> None:
        self.calls += 1
        call_id = call.id or f"call_{self.turn_key}_{self.calls}"
        self.parts.append(
            {
                "type": "tool-call",
                "tool_call_id": call_id,
                "tool_name": call.name,
                "args": fill_text(call.args, self.text),
            }
        )
        result: dict[str, Any] = {"type": "tool-result", "tool_call_id": call_id, "tool_name": call.name}
        if call.error is None:
            result["result"] = fill_text(call.result, self.text)
        else:
            result["result"] = {"error": fill_text(call.error, self.text)}
            result["is_error"] = True
        self.results.append(result)
        self.tool_time += call.delay

    def close_step(self, usage: Usage | None) -> None:
        """Store the step's assistant message, then (after its tools ran) its tool message."""
        words = " ".join(p.get("text", "") for p in self.parts if p["type"] == "text").split()
        reasoning = " ".join(p.get("text", "") for p in self.parts if p["type"] == "reasoning").split()
        if usage is not None:
            figures = (usage.prompt_tokens, usage.completion_tokens)
        else:
            figures = (len(self.text.split()) + 6, len(words) + len(reasoning) + 8 * self.calls_in_step())
        usage_json = _usage(figures, reasoning, self.context_limit)
        self.add(StoreMessage(0.0, Role.ASSISTANT, tuple(self.parts), usage_json))
        if self.results:
            self.wait += self.tool_time
            self.add(StoreMessage(0.0, Role.TOOL, tuple(self.results), None))
        self.parts, self.results, self.tool_time = [], [], 0.0

    def calls_in_step(self) -> int:
        """How many tools the open step called."""
        return sum(p["type"] == "tool-call" for p in self.parts)


def _usage(
    figures: tuple[int | None, int | None], reasoning: list[str], context_limit: int
) -> dict[str, int]:
    prompt, completion = figures
    usage: dict[str, int] = {}
    if prompt is not None:
        usage["input_tokens"] = prompt
    if completion is not None:
        usage["output_tokens"] = completion
    if prompt is not None and completion is not None:
        usage["total_tokens"] = prompt + completion
    if reasoning:
        usage["reasoning_tokens"] = len(reasoning)
    usage["context_limit"] = context_limit
    return usage


def plan_turn(scenario: Scenario, text: str, *, context_limit: int, turn_key: str) -> tuple[Action, ...]:
    """The timed actions of one turn of `scenario` for the user's `text`, in order.

    `turn_key` makes the turn's tool call ids unique; `context_limit` is the model's.
    """
    planner = _Planner(text, context_limit, turn_key=turn_key)
    for step in scenario.steps:
        match step:
            case Text(chunks=chunks, every=every):
                planner.stream("text", chunks, every)
            case Reasoning(chunks=chunks, every=every):
                planner.stream("reasoning", chunks, every)
            case ToolCall():
                planner.tool_call(step)
            case Usage():
                planner.close_step(step)
            case Delay(seconds=seconds):
                planner.wait += seconds
            case Fail(code=code, message=message, retryable=retryable):
                error = {
                    "message": fill_text(message, text),
                    "kind": _ERROR_KINDS[code],
                    "retryable": bool(retryable),
                }
                planner.add(End(0.0, error))
                return tuple(planner.actions)
            case Finish():
                break
    if planner.parts:
        planner.close_step(None)
    planner.add(End(0.0, None))
    return tuple(planner.actions)


@dataclass(slots=True)
class _Turn:
    """The turn a chat runs now, and what it streamed of its open step."""

    run_id: UUID
    model_config_id: str
    open_parts: list[dict[str, Any]] = field(default_factory=list)


class TurnRunner:
    """Plays, for each turn a chat starts, the scenario its labels or its text select."""

    def __init__(
        self,
        store: ChatStore,
        scheduler: Scheduler,
        library: ScenarioLibrary,
        *,
        clock: Clock,
        new_id: IdFactory,
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._library = library
        self._clock = clock
        self._new_id = new_id
        self._turns: dict[UUID, _Turn] = {}

    def start(
        self, chat: Chat, text: str, *, model_config_id: str, context_limit: int, ended: TurnEnded
    ) -> None:
        """Begin the chat's turn for the user's `text` (replacing any turn it runs); returns at once."""
        scenario = self._library.select(text, chat.labels)
        turn = _Turn(self._new_id(), model_config_id)
        self._turns[chat.id] = turn
        actions = plan_turn(scenario, text, context_limit=context_limit, turn_key=turn.run_id.hex[:16])
        self._play(chat.id, turn, actions, ended)

    def running(self, chat_id: UUID) -> bool:
        """Whether the chat has a turn in progress."""
        return chat_id in self._turns

    def stop(self, chat_id: UUID) -> tuple[dict[str, Any], ...]:
        """End the chat's turn where it is; returns the parts it streamed of its open step."""
        turn = self._turns.pop(chat_id, None)
        return tuple(turn.open_parts) if turn is not None else ()

    def stamp(self, parts: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
        """The parts with `created_at` set to now where Coder records it."""
        now = format_time(self._clock())
        return tuple({**part, "created_at": now} if part["type"] in _STAMPED else part for part in parts)

    def _play(self, chat_id: UUID, turn: _Turn, actions: Sequence[Action], ended: TurnEnded) -> None:
        """Do the turn's actions on the scheduler's time, while it is the chat's turn."""

        def act(index: int) -> bool:
            if self._turns.get(chat_id) is not turn:
                return False  # interrupted, replaced by an edit, or the chat is gone
            try:
                self._act(chat_id, turn, actions[index], ended)
            except ChatNotFound:
                self._turns.pop(chat_id, None)
                return False  # the chat is gone (a reset): the turn ends with it
            return True

        play_in_order(self._scheduler, [action.delay for action in actions], act)

    def _act(self, chat_id: UUID, turn: _Turn, action: Action, ended: TurnEnded) -> None:
        match action:
            case Chunk(kind=kind, text=text):
                if turn.open_parts and turn.open_parts[-1]["type"] == kind:
                    turn.open_parts[-1] = {"type": kind, "text": turn.open_parts[-1]["text"] + text}
                else:
                    turn.open_parts.append({"type": kind, "text": text})
                self._store.publish_partial(chat_id, turn.run_id, kind, {"type": kind, "text": text})
            case StoreMessage(role=role, parts=parts, usage=usage):
                turn.open_parts.clear()
                content: dict[str, Any] = {"parts": list(self.stamp(parts))}
                if role is Role.ASSISTANT:
                    content["model_config_id"] = turn.model_config_id
                if usage is not None:
                    content["usage"] = usage
                self._store.append_message(chat_id, role, content)
            case End(error=error):
                self._turns.pop(chat_id, None)
                ended(chat_id, error)
