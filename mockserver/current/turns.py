"""A scenario played as one turn of today's Coder: assistant and tool messages made of parts.

Per model step of the scenario (openapi/current/WIRE.md section 6): the step's text and
reasoning stream live as chunks, then one `assistant` message holds the step's parts in order
(`reasoning`, `text`, `tool-call`) with the step's `usage`; when the step called tools, a `tool`
message with one `tool-result` part per call follows once the tools have run. A failing step
stores nothing of itself and ends the turn with a ChatError. The runner writes through the
store on the scheduler's time and never answers a request; an interrupted or replaced turn
stops where it is.

A step that called a tool the client runs (`client: true` in the scenario, or a tool the chat
declared in `unsafe_dynamic_tools`) pauses the turn once its messages are stored: the engine moves the chat to `requires_action`, and the turn goes on when the
client's results arrive (`resume`). A `retry` step drops what the failed attempt streamed of
the open step, publishes the retry and waits its backoff (WIRE.md section 6).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from itertools import islice
from typing import Any, NamedTuple
from uuid import UUID

from mockserver.core.clock import Clock, IdFactory
from mockserver.core.errors import ChatNotFound
from mockserver.core.golang import format_time
from mockserver.core.models import Chat, ChatMessage, Role
from mockserver.core.scenarios import (
    TEXT_PLACEHOLDER,
    Delay,
    ErrorCode,
    Fail,
    Finish,
    Reasoning,
    Retry,
    Scenario,
    ScenarioLibrary,
    Text,
    ToolCall,
    Usage,
    fill_text,
)
from mockserver.core.scheduler import Scheduler
from mockserver.core.store import ChatStore

__all__ = [
    "AwaitClient",
    "Chunk",
    "End",
    "NewAttempt",
    "RetryNotice",
    "StoreMessage",
    "TextTurnTemplate",
    "ToolOutcome",
    "TurnEnded",
    "TurnPaused",
    "TurnRunner",
    "plan_turn",
    "unanswered_calls",
]

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


class RetryNotice(NamedTuple):
    """The model call failed and is retried after `backoff` seconds (a `retry` stream event)."""

    delay: float
    attempt: int  # 1-indexed, within the open model step
    backoff: float
    error: str
    kind: str
    status_code: int | None


class NewAttempt(NamedTuple):
    """After a retry's backoff the model is called again: what was streamed before is void."""

    delay: float


class AwaitClient(NamedTuple):
    """The turn waits for the client's results of these `tool-call` parts (`requires_action`)."""

    delay: float
    calls: tuple[dict[str, Any], ...]


class ToolOutcome(NamedTuple):
    """What the client sent back for one tool call: any JSON value, and whether the tool failed."""

    tool_call_id: str
    output: Any
    is_error: bool


Action = Chunk | StoreMessage | RetryNotice | NewAttempt | AwaitClient | End
# Called when a turn ends by itself: the chat's id and its ChatError (None when it went well).
TurnEnded = Callable[[UUID, "dict[str, Any] | None"], None]
# Called when a turn starts waiting for the client: the chat's id and the pending tool-call parts.
TurnPaused = Callable[[UUID, tuple[dict[str, Any], ...]], None]


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
    client_calls: list[dict[str, Any]] = field(default_factory=list)  # its calls the client runs
    attempts: int = 0  # retries of the open step so far
    calls: int = 0  # tool calls so far in the turn, for their ids
    turn_key: str = ""
    client_tools: frozenset[str] = frozenset()  # tools the chat declared the client runs

    def add(self, action: Action) -> None:
        """Append `action`, due after the seconds owed so far (every action's first field is `delay`)."""
        if action.delay != self.wait:
            action = type(action)(self.wait, *action[1:])  # faster than _replace
        self.actions.append(action)
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
        part = {
            "type": "tool-call",
            "tool_call_id": call_id,
            "tool_name": call.name,
            "args": fill_text(call.args, self.text),
        }
        self.parts.append(part)
        if call.client or call.name in self.client_tools:
            self.client_calls.append(part)
            return
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
        words = reasoning = calls = 0  # the step's words of text and of reasoning, its tool calls
        for part in self.parts:
            kind = part["type"]
            if kind == "text":
                words += len(part.get("text", "").split())
            elif kind == "reasoning":
                reasoning += len(part.get("text", "").split())
            elif kind == "tool-call":
                calls += 1
        if usage is not None:
            figures = (usage.prompt_tokens, usage.completion_tokens)
        else:
            figures = (len(self.text.split()) + 6, words + reasoning + 8 * calls)
        usage_json = _usage(figures, reasoning, self.context_limit)
        self.add(StoreMessage(0.0, Role.ASSISTANT, tuple(self.parts), usage_json))
        if self.results:
            self.wait += self.tool_time
            self.add(StoreMessage(0.0, Role.TOOL, tuple(self.results), None))
        if self.client_calls:
            self.add(AwaitClient(0.0, tuple(self.client_calls)))
        self.parts, self.results, self.tool_time, self.client_calls = [], [], 0.0, []
        self.attempts = 0

    def retry(self, retry: Retry) -> None:
        """Drop the failed attempt's text and reasoning, announce the retry, wait its backoff."""
        self.parts = [part for part in self.parts if part["type"] == "tool-call"]
        self.attempts += 1
        message = fill_text(retry.message, self.text)
        self.add(RetryNotice(0.0, self.attempts, retry.delay, message, retry.kind, retry.status_code))
        self.wait += retry.delay
        self.add(NewAttempt(0.0))


def _stored_at_once(actions: Sequence[Action], index: int) -> bool:
    """Whether the chunk at `index` is followed in the same instant by its step's message.

    Such a chunk joins the chat's live preview only for the message to close it before the
    event loop turns again: no one but a listener of the chat can see it.
    """
    for action in islice(actions, index + 1, None):
        if action.delay > 0:
            return False
        if type(action) is not Chunk:
            return type(action) is StoreMessage
    return False


def _usage(figures: tuple[int | None, int | None], reasoning: int, context_limit: int) -> dict[str, int]:
    """codersdk's usage of a step: `reasoning` is its words of reasoning (reasoning_tokens)."""
    prompt, completion = figures
    usage: dict[str, int] = {}
    if prompt is not None:
        usage["input_tokens"] = prompt
    if completion is not None:
        usage["output_tokens"] = completion
    if prompt is not None and completion is not None:
        usage["total_tokens"] = prompt + completion
    if reasoning:
        usage["reasoning_tokens"] = reasoning
    usage["context_limit"] = context_limit
    return usage


def unanswered_calls(messages: Sequence[ChatMessage]) -> tuple[dict[str, Any], ...]:
    """The `tool-call` parts of the last assistant message that no later `tool` message answers.

    What chatd reads as a chat's pending calls (WIRE.md section 5), for a chat that waits for
    the client with no turn of this mock paused (one loaded from a fixture).
    """
    answered: set[str] = set()
    for message in reversed(messages):
        parts = message.content.get("parts") or []
        if message.role is Role.TOOL:
            answered |= {p.get("tool_call_id", "") for p in parts if p.get("type") == "tool-result"}
        elif message.role is Role.ASSISTANT:
            return tuple(
                p for p in parts if p.get("type") == "tool-call" and p.get("tool_call_id") not in answered
            )
    return ()


def plan_turn(
    scenario: Scenario,
    text: str,
    *,
    context_limit: int,
    turn_key: str,
    client_tools: frozenset[str] = frozenset(),
) -> tuple[Action, ...]:
    """The timed actions of one turn of `scenario` for the user's `text`, in order.

    `turn_key` makes the turn's tool call ids unique; `context_limit` is the model's; a call of
    a tool named in `client_tools` (the chat's `unsafe_dynamic_tools`) is one the client runs.
    """
    planner = _Planner(text, context_limit, turn_key=turn_key, client_tools=client_tools)
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
            case Retry():
                planner.retry(step)
            case Fail(code=code, message=message, retryable=retryable, kind=kind, status_code=status):
                error: dict[str, Any] = {
                    "message": fill_text(message, text),
                    "kind": kind or _ERROR_KINDS[code],
                    "retryable": bool(retryable),
                }
                if status is not None:
                    error["status_code"] = status
                planner.add(End(0.0, error))
                return tuple(planner.actions)
            case Finish():
                break
    if planner.parts:
        planner.close_step(None)
    planner.add(End(0.0, None))
    return tuple(planner.actions)


@dataclass(frozen=True, slots=True)
class TextTurnTemplate:
    """A scenario of streamed text and reasoning alone (the built-in echo and slow), laid out once.

    `plan_turn` walks a scenario's steps for every send (its planner, a match per step, the
    parts' dicts, the usage's word counts); for a scenario of `text`, `reasoning`, `delay` and
    `finish` steps only, what it lays out does not depend on the message: the chunks with their
    delays, the parts they join into, the seconds owed before the message and the end. `plan`
    fills the message's text into that, and gives what `plan_turn` gives
    (tests/test_current_turn_templates.py holds the two equal).
    """

    chunks: tuple[tuple[float, str, str], ...]  # each chunk's delay, kind and text, `{text}` unfilled
    parts: tuple[tuple[str, tuple[int, ...]], ...]  # each part's kind and the chunks it joins
    wait: float  # seconds owed after the last chunk: the message's delay, or the end's without one

    @classmethod
    def compile(cls, scenario: Scenario) -> TextTurnTemplate | None:
        """The template of `scenario`'s turns, or None when its steps are not of this shape."""
        chunks: list[tuple[float, str, str]] = []
        parts: list[tuple[str, tuple[int, ...]]] = []
        wait = 0.0
        for step in scenario.steps:
            match step:
                case Text(chunks=texts, every=every) | Reasoning(chunks=texts, every=every):
                    kind = "text" if type(step) is Text else "reasoning"
                    joined: list[int] = []
                    for chunk in texts:
                        wait += every
                        chunks.append((wait, kind, chunk))
                        wait = 0.0
                        joined.append(len(chunks) - 1)
                    if parts and parts[-1][0] == kind:
                        parts[-1] = (kind, parts[-1][1] + tuple(joined))
                    else:
                        parts.append((kind, tuple(joined)))
                case Delay(seconds=seconds):
                    wait += seconds
                case Finish():
                    break
                case _:
                    return None
        return cls(tuple(chunks), tuple(parts), wait)

    @property
    def at_once(self) -> bool:
        """Whether a turn is due in full as soon as it starts (echo's): a message, and no wait at all."""
        return bool(self.parts) and self.wait == 0 and all(delay == 0 for delay, _, _ in self.chunks)

    def plan(self, text: str, *, context_limit: int) -> tuple[Action, ...]:
        """`plan_turn` of the scenario for the user's `text`: its chunks, its message, its end."""
        filled = [chunk.replace(TEXT_PLACEHOLDER, text) for _, _, chunk in self.chunks]
        actions: list[Action] = [
            Chunk(delay, kind, chunk) for (delay, kind, _), chunk in zip(self.chunks, filled, strict=True)
        ]
        if not self.parts:
            actions.append(End(self.wait, None))
            return tuple(actions)
        parts, usage = self._message(filled, text, context_limit)
        actions += (StoreMessage(self.wait, Role.ASSISTANT, tuple(parts), usage), _ENDED_WELL)
        return tuple(actions)

    def message(self, text: str, *, context_limit: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The parts and usage of the message `plan` stores for `text` (the template has parts):
        what an `at_once` turn stores when no one hears its chunks."""
        filled = [chunk.replace(TEXT_PLACEHOLDER, text) for _, _, chunk in self.chunks]
        return self._message(filled, text, context_limit)

    def _message(
        self, filled: list[str], text: str, context_limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        parts: list[dict[str, Any]] = []
        words = reasoning = 0
        for kind, joined in self.parts:
            part_text = filled[joined[0]] if len(joined) == 1 else "".join([filled[i] for i in joined])
            parts.append({"type": kind, "text": part_text})
            if kind == "text":
                words += len(part_text.split())
            else:
                reasoning += len(part_text.split())
        return parts, _usage((len(text.split()) + 6, words + reasoning), reasoning, context_limit)


# The end of a turn that went well, right after its message: the same for every turn.
_ENDED_WELL = End(0.0, None)


@dataclass(slots=True)
class _Turn:
    """The turn a chat runs now, what it streamed of its open step, and what it waits for."""

    run_id: UUID
    model_config_id: str
    provider: str
    actions: tuple[Action, ...]  # an at-once turn's: none until it is played, and heard
    ended: TurnEnded
    paused: TurnPaused
    open_parts: list[dict[str, Any]] = field(default_factory=list)
    pending: tuple[dict[str, Any], ...] = ()  # tool calls the client must answer
    resume_at: int = 0  # the action to play once they are answered
    retry_pending: bool = False  # a retry was published and no message stored since


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
        # By the chat id's int: a UUID's hash is Python code, and each action of a turn asks.
        self._turns: dict[int, _Turn] = {}
        # The library's scenarios of streamed text alone, laid out once, not planned per send.
        self._templates = {
            name: (self._library[name], template)
            for name in self._library.names
            if (template := TextTurnTemplate.compile(self._library[name])) is not None
        }
        # Those whose turn is due in full as it starts (echo, the default): see _play_at_once.
        self._at_once = {name: compiled for name, compiled in self._templates.items() if compiled[1].at_once}

    def start(
        self,
        chat: Chat,
        text: str,
        *,
        model_config_id: str,
        context_limit: int,
        ended: TurnEnded,
        paused: TurnPaused,
    ) -> None:
        """Begin the chat's turn for the user's `text` (replacing any turn it runs); returns at once.

        `ended` is called when the turn ends by itself, `paused` when it waits for the client.
        """
        scenario = self._library.select(text, chat.labels)
        run_id = self._new_id()
        at_once = self._at_once.get(scenario.name)
        if at_once is not None and at_once[0] is scenario:
            # Planned when it is played, not on the send's request path (see _play_at_once).
            turn = _Turn(run_id, model_config_id, chat.provider, (), ended, paused)
            self._turns[chat.id.int] = turn
            self._scheduler.call_later(
                0.0, partial(self._play_at_once, chat.id, turn, at_once[1], text, context_limit)
            )
            return
        compiled = self._templates.get(scenario.name)
        if compiled is not None and compiled[0] is scenario:
            actions = compiled[1].plan(text, context_limit=context_limit)
        else:  # tool calls, usage, retries, failures, or a scenario made for this send: step by step
            declared = chat.metadata.get("dynamic_tools", ()) if isinstance(chat.metadata, dict) else ()
            actions = plan_turn(
                scenario,
                text,
                context_limit=context_limit,
                turn_key=run_id.hex[:16],
                client_tools=frozenset(declared),
            )
        turn = _Turn(run_id, model_config_id, chat.provider, actions, ended, paused)
        self._turns[chat.id.int] = turn
        self._play(chat.id, turn, 0)

    def pending(self, chat_id: UUID) -> tuple[dict[str, Any], ...]:
        """The tool-call parts the chat's turn waits for the client to answer (none: it does not wait)."""
        turn = self._turns.get(chat_id.int)
        return turn.pending if turn is not None else ()

    def resume(self, chat_id: UUID) -> None:
        """Go on with the paused turn from the step after its pause (its calls answered)."""
        turn = self._turns.get(chat_id.int)
        if turn is None or not turn.pending:
            return
        turn.pending = ()
        self._play(chat_id, turn, turn.resume_at)

    def record_results(
        self, chat_id: UUID, calls: Sequence[dict[str, Any]], outcomes: Sequence[ToolOutcome]
    ) -> None:
        """Store one `tool` message per outcome, in order, named after the call it answers."""
        names = {call["tool_call_id"]: call["tool_name"] for call in calls}
        for outcome in outcomes:
            part: dict[str, Any] = {
                "type": "tool-result",
                "tool_call_id": outcome.tool_call_id,
                "tool_name": names.get(outcome.tool_call_id, ""),
                "result": outcome.output,
            }
            if outcome.is_error:
                part["is_error"] = True
            self._store.append_message(chat_id, Role.TOOL, {"parts": list(self.stamp([part]))})

    def running(self, chat_id: UUID) -> bool:
        """Whether the chat has a turn in progress."""
        return chat_id.int in self._turns

    def stop(self, chat_id: UUID) -> tuple[dict[str, Any], ...]:
        """End the chat's turn where it is; returns the parts it streamed of its open step."""
        turn = self._turns.pop(chat_id.int, None)
        if turn is None:
            return ()
        self._store.clear_retry(chat_id)
        return tuple(turn.open_parts)

    def stamp(self, parts: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
        """The parts with `created_at` set to now where Coder records it.

        The clock is read only for a part that records it: most steps stream text alone.
        """
        if not any(part["type"] in _STAMPED for part in parts):
            return tuple(parts)
        now = format_time(self._clock())
        return tuple({**part, "created_at": now} if part["type"] in _STAMPED else part for part in parts)

    def _stored_content(
        self, turn: _Turn, role: Role, parts: Sequence[dict[str, Any]], usage: dict[str, int] | None
    ) -> dict[str, Any]:
        """A message's stored content: its parts stamped, an assistant's model config, its usage."""
        content: dict[str, Any] = {"parts": list(self.stamp(parts))}
        if role is Role.ASSISTANT:
            content["model_config_id"] = turn.model_config_id
        if usage is not None:
            content["usage"] = usage
        return content

    def _play(self, chat_id: UUID, turn: _Turn, start: int) -> None:
        """Do the turn's actions from `start` on the scheduler's time, while it is the chat's turn.

        The actions due at the same instant (a delay of 0 after the previous) run in one
        callback, so the rows a turn writes "at once" are written by one turn of the event loop.
        """
        if start < len(turn.actions):
            self._scheduler.call_later(turn.actions[start].delay, partial(self._burst, chat_id, turn, start))

    def _play_at_once(
        self, chat_id: UUID, turn: _Turn, template: TextTurnTemplate, text: str, context_limit: int
    ) -> None:
        """Play a turn due in full as it starts (TextTurnTemplate.at_once), while it is the chat's turn.

        Its chunks would join the chat's live preview only for its message to close it in the
        same callback: when no one listens to the chat, its message alone is made and stored and
        the turn ends, with no chunks, actions or plan built for no one. Heard, it is planned
        and played as any turn.
        """
        if self._turns.get(chat_id.int) is not turn:
            return  # interrupted, replaced by an edit, or the chat is gone
        if self._store.listener_count(chat_id):
            turn.actions = template.plan(text, context_limit=context_limit)
            self._burst(chat_id, turn, 0)
            return
        parts, usage = template.message(text, context_limit=context_limit)
        try:
            self._store.append_message(
                chat_id, Role.ASSISTANT, self._stored_content(turn, Role.ASSISTANT, parts, usage)
            )
        except ChatNotFound:
            self._turns.pop(chat_id.int, None)
            return  # the chat is gone (a reset): the turn ends with it
        self._turns.pop(chat_id.int, None)
        turn.ended(chat_id, None)

    def _burst(self, chat_id: UUID, turn: _Turn, start: int) -> None:
        """Do the actions due now from `start` on, then schedule the next instant's."""
        actions = turn.actions
        index = start
        while True:
            if self._turns.get(chat_id.int) is not turn:
                return  # interrupted, replaced by an edit, or the chat is gone
            try:
                if not self._act(chat_id, turn, actions[index], index):
                    return
            except ChatNotFound:
                self._turns.pop(chat_id.int, None)
                return  # the chat is gone (a reset): the turn ends with it
            index += 1
            if index == len(actions) or actions[index].delay > 0:
                break
        self._play(chat_id, turn, index)

    def _act(self, chat_id: UUID, turn: _Turn, action: Action, index: int) -> bool:
        """Do one action; False when the turn stops playing (it ended, or waits for the client)."""
        match action:
            case Chunk(kind=kind, text=text):
                if not self._store.listener_count(chat_id) and _stored_at_once(turn.actions, index):
                    return True  # no one can see it: its message closes the preview it would join
                if turn.open_parts and turn.open_parts[-1]["type"] == kind:
                    turn.open_parts[-1] = {"type": kind, "text": turn.open_parts[-1]["text"] + text}
                else:
                    turn.open_parts.append({"type": kind, "text": text})
                self._store.publish_partial(chat_id, turn.run_id, kind, {"type": kind, "text": text})
            case StoreMessage(role=role, parts=parts, usage=usage):
                turn.open_parts.clear()
                turn.retry_pending = False  # the row closes the pending retry
                self._store.append_message(chat_id, role, self._stored_content(turn, role, parts, usage))
            case RetryNotice():
                turn.open_parts.clear()  # the failed attempt's output is not kept
                self._store.publish_retry(chat_id, self._retry_json(turn, action))
                turn.retry_pending = True
            case NewAttempt():
                turn.open_parts.clear()
                self._store.publish_reset(chat_id)
            case AwaitClient(calls=calls):
                turn.pending = calls
                turn.resume_at = index + 1
                turn.paused(chat_id, calls)
                return False
            case End(error=error):
                self._turns.pop(chat_id.int, None)
                if turn.retry_pending:
                    self._store.clear_retry(chat_id)  # chatd clears the retry state as the turn ends
                turn.ended(chat_id, error)
                return False
        return True

    def _retry_json(self, turn: _Turn, notice: RetryNotice) -> dict[str, Any]:
        """The retry as codersdk.ChatStreamRetry, in its field order; `retrying_at` is now + backoff."""
        retry: dict[str, Any] = {
            "attempt": notice.attempt,
            "delay_ms": round(notice.backoff * 1000),
            "error": notice.error,
            "kind": notice.kind,
            "provider": turn.provider,
        }
        if notice.status_code is not None:
            retry["status_code"] = notice.status_code
        retry["retrying_at"] = format_time(self._clock() + timedelta(seconds=notice.backoff))
        return retry
