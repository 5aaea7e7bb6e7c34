"""The fake agent: after a message is posted, it plays a scenario into the transcript.

The rows follow coderd/chats/runner.go (WIRE.md section 4): `run_started`; per model step the
`tool_call`/`tool_result` pair of each call, the assistant message with its parts and the step's
`usage`; then `run_finished` (or `error` then `run_finished` with `finish_reason: error`). The
agent never answers a request; it only writes rows through the store, on the scheduler's time.

The seed's API has no way for a client to answer a tool call, nor a retry event, so two kinds of
step are played as that server would show them:
- a `client` tool call: its `tool_call` row is written, but no `tool_result`; its part in the
  assistant message stays in state `call`; once the step closes the run ends with `run_finished`
  `finish_reason: "tool-calls"` (the model still wants a tool), and the rest of the scenario is
  not played;
- a `retry`: invisible in the rows; the run waits the retry's delay, and what the failed attempt
  streamed (text and reasoning of the open step, sent only as live partials) is not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

from mockserver.core.errors import ChatNotFound
from mockserver.core.models import Chat, Role
from mockserver.core.scenarios import (
    TEXT_PLACEHOLDER,
    Delay,
    Fail,
    Finish,
    FinishReason,
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
from mockserver.v1.packed import PackedShape, Slot, pack_int, pack_str

__all__ = [
    "Burst",
    "Partial",
    "Row",
    "ScenarioAgent",
    "TextRunTemplate",
    "packed_user_message",
    "plan_run",
    "user_message_envelope",
]

# `type_id` of live partials, after the AI SDK data-stream codes (not verified against coderd).
TEXT_PART_TYPE = "0"
REASONING_PART_TYPE = "g"


def user_message_envelope(run_id: str, text: str) -> dict[str, Any]:
    """The envelope coderd stores for a posted user message (`run_id` as the rows spell it)."""
    return _user_message_shape(run_id, text)


def packed_user_message(run_id: str, text: str) -> bytes:
    """`user_message_envelope(run_id, text)` as the marshal stream a stored row keeps, packed
    from pieces packed once (see v1/packed.py), for ChatStore.append_packed_message."""
    return _PACKED_USER_MESSAGE.fill([pack_str(run_id), pack_str(text)])


def _user_message_shape(run_id: object, text: object) -> dict[str, Any]:
    """The envelope's shape around its two values (strings, or a packed shape's Slots)."""
    return {
        "type": "message",
        "run_id": run_id,
        "message": {
            "id": "",
            "content": "",
            "role": "user",
            "parts": [{"type": "text", "text": text}],
        },
    }


_PACKED_USER_MESSAGE = PackedShape(_user_message_shape(Slot(0), Slot(1)))  # a constant, packed once


# Rows, partials and bursts are named tuples: a run plans several per posted message, on the
# request path.


class Row(NamedTuple):
    """A transcript row the agent will write."""

    role: Role
    content: dict[str, Any]


class Partial(NamedTuple):
    """A live chunk sent to watchers only."""

    type_id: str
    part: Any


Action = Row | Partial


class Burst(NamedTuple):
    """The actions due at one instant, `delay` seconds after the previous burst, in their order;
    `rows`: its rows alone (what is left of it when no one watches, see ScenarioAgent._play)."""

    delay: float
    actions: list[Action]
    rows: list[Row]


# The roles of the rows a run writes (looked up once, not on each row).
_SYSTEM, _ASSISTANT = Role.SYSTEM, Role.ASSISTANT

# Rows and partials are made as tuple.__new__(Row, fields): what the named tuple's generated
# __new__ does, without its Python frame (~0.2 µs an action).
_new = tuple.__new__


class _Planner:
    """Walks a scenario's steps, accumulating the open model step's parts.

    A plain slotted class with its rows built inline: it runs once per posted message, on the
    request path, where each method call and keyword merge shows in the CPU per request.
    """

    __slots__ = (
        "awaits_client",
        "burst",
        "bursts",
        "calls",
        "hex",
        "parts",
        "run",
        "step",
        "text",
        "totals",
        "wait",
    )

    def __init__(self, run_id: UUID, text: str) -> None:
        self.text = text
        # run_id's hex digits, read once (UUID.hex and str() are Python code); tool call and
        # message ids take their heads, and the rows spell the run as str(run_id) would.
        self.hex = hex_ = run_id.hex
        self.run = f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"
        self.bursts: list[Burst] = []
        self.burst: Burst | None = None  # the last burst, which an action due at once joins
        self.wait = 0.0  # seconds owed before the next action
        self.step = 0  # the open model step
        self.parts: list[dict[str, Any]] = []
        self.calls = 0  # tool calls so far in the run, for their ids
        self.totals: tuple[int | None, int | None] = (None, None)
        self.awaits_client = False  # the open step called a tool the client runs

    def due(self) -> Burst:
        """The burst the next action joins: the last one, or a new one after the time owed."""
        burst = self.burst
        if burst is None or self.wait > 0:
            self.burst = burst = Burst(self.wait, [], [])
            self.bursts.append(burst)
            self.wait = 0.0
        return burst

    def row(self, role: Role, content: dict[str, Any]) -> None:
        row = _new(Row, (role, content))
        burst = self.due()
        burst.actions.append(row)
        burst.rows.append(row)

    def event(
        self, event: str, usage: tuple[int | None, int | None], extra: dict[str, Any] | None = None
    ) -> None:
        """A `stream_event` row: type, run_id, event, usage, then `extra`'s fields in their order."""
        content = {
            "type": "stream_event",
            "run_id": self.run,
            "event": event,
            "usage": {"promptTokens": usage[0], "completionTokens": usage[1]},
        }
        if extra:
            content.update(extra)
        self.row(_SYSTEM, content)

    def chunks(self, chunks: Sequence[str], every: float, type_id: str) -> str:
        """Each chunk (`{text}` filled) as a live partial, `every` seconds apart; returns them joined."""
        text = self.text
        filled = [chunk.replace(TEXT_PLACEHOLDER, text) for chunk in chunks]
        for chunk in filled:
            self.wait += every
            self.due().actions.append(_new(Partial, (type_id, chunk)))
        return "".join(filled)

    def tool_call(self, call: ToolCall) -> None:
        self.calls += 1
        call_id = call.id or f"toolu_{self.hex[:16]}_{self.calls}"
        args = fill_text(call.args, self.text)
        head = {
            "run_id": self.run,
            "step": self.step,
            "tool_call_id": call_id,
            "tool_name": call.name,
        }
        self.row(Role.TOOL_CALL, {"type": "tool_call", **head, "args": args})
        invocation = {
            "state": "result",
            "step": self.step,
            "toolCallId": call_id,
            "toolName": call.name,
        }
        if call.client:
            # No server runs it: no tool_result row, and the invocation stays a call.
            self.awaits_client = True
            invocation["state"] = "call"
            self.parts.append({"type": "tool-invocation", "toolInvocation": {**invocation, "args": args}})
            return
        self.wait += call.delay
        result = fill_text(call.result, self.text)
        outcome: dict[str, Any] = {"type": "tool_result", **head, "result": result}
        if call.error is not None:
            outcome["error"] = fill_text(call.error, self.text)
        duration = call.duration_ms if call.duration_ms is not None else round(call.delay * 1000)
        outcome["duration_ms"] = duration
        self.row(Role.TOOL_RESULT, outcome)
        shown = result if call.error is None else {"error": outcome["error"]}
        self.parts.append(
            {
                "type": "tool-invocation",
                "toolInvocation": {**invocation, "args": args, "result": shown},
            }
        )

    def close_step(self, usage: Usage | None) -> None:
        """Write the step's assistant message and its usage; the next step opens."""
        parts = self.parts
        texts: list[str] = []
        others = 0  # parts that are not text (reasoning, tool invocations)
        for part in parts:  # one pass for both (each comprehension is a call of its own)
            if part["type"] == "text":
                texts.append(part["text"])
            else:
                others += 1
        content = "".join(texts)
        message = {
            "id": f"msg-{self.hex[:20]}-{self.step}",
            "content": content,
            "role": "assistant",
            "parts": [{"type": "step-start"}, *parts],
        }
        self.row(_ASSISTANT, {"type": "message", "run_id": self.run, "message": message})
        figures = (
            (usage.prompt_tokens, usage.completion_tokens)
            if usage is not None
            else (
                len(self.text.split()) + 6,
                len(content.split()) + 8 * others,
            )
        )
        self.event("usage", figures, {"step": self.step})
        totals = self.totals
        self.totals = (_add(totals[0], figures[0]), _add(totals[1], figures[1]))
        self.step += 1
        self.parts = []

    def retry(self, retry: Retry) -> None:
        """The failed attempt's streamed text and reasoning are dropped; the retry waits its delay."""
        self.parts = [part for part in self.parts if part["type"] == "tool-invocation"]
        self.wait += retry.delay

    def finished(self, reason: FinishReason) -> None:
        extra: dict[str, Any] = {"finish_reason": reason.value}
        if self.step:
            extra["steps"] = self.step
        self.event("run_finished", self.totals, extra)


def _add(total: int | None, figure: int | None) -> int | None:
    if figure is None:
        return total
    return figure if total is None else total + figure


def plan_run(scenario: Scenario, run_id: UUID, text: str) -> tuple[Burst, ...]:
    """The timed actions of one run of `scenario` for the posted `text`, in order, by instant."""
    planner = _Planner(run_id, text)
    planner.event("run_started", (None, None))
    open_step = False
    for step in scenario.steps:
        match step:
            case Text(chunks=chunks, every=every):
                joined = planner.chunks(chunks, every, TEXT_PART_TYPE)
                planner.parts.append({"type": "text", "text": joined})
                open_step = True
            case Reasoning(chunks=chunks, every=every):
                joined = planner.chunks(chunks, every, REASONING_PART_TYPE)
                planner.parts.append({"type": "reasoning", "reasoning": joined})
                open_step = True
            case ToolCall():
                planner.tool_call(step)
                open_step = True
            case Usage():
                planner.close_step(step)
                open_step = False
                if planner.awaits_client:
                    break
            case Delay(seconds=seconds):
                planner.wait += seconds
            case Retry():
                planner.retry(step)
            case Fail(code=code, message=message, retryable=retryable):
                # The open step's parts were only streamed: a failed step stores no message.
                extra: dict[str, Any] = {"code": code.value, "message": fill_text(message, text)}
                if retryable is not None:
                    extra["retryable"] = retryable
                planner.event("error", planner.totals, extra)
                planner.finished(FinishReason.ERROR)
                return tuple(planner.bursts)
            case Finish(reason=reason):
                break
    else:
        reason = FinishReason.STOP
    if open_step:
        planner.close_step(None)
    if planner.awaits_client:
        reason = FinishReason.TOOL_CALLS  # the seed's client cannot answer: the run stops here
    planner.finished(reason)
    return tuple(planner.bursts)


# The rows of a streamed-text run, as a template lays them out (partials are numbered from 0).
_STARTED, _MESSAGE, _USAGE, _FINISHED = -1, -2, -3, -4
# Where each row stands in the list a run's rows are made in (the order they are written), for a
# run whose model step closes (message and usage written) and for one whose does not: the list
# is what an at-once run stores as it is, with no map by row to build for each post.
_ROW_PLACES = {_STARTED: 0, _MESSAGE: 1, _USAGE: 2, _FINISHED: 3}
_ROW_PLACES_UNCLOSED = {_STARTED: 0, _FINISHED: 1}


class TextRunTemplate:
    """One scenario's runs, compiled when it is loaded: what `plan_run` gives, laid out once.

    For a scenario that only streams text and reasoning in one model step (and waits, and may
    name its finish): the bursts, their delays, which action goes in which, the chunks and
    which of them hold `{text}` are worked out here; a post fills in only what changes, the
    run's id, the text where it is echoed and the usage figures counted from it. The same rows,
    partials and instants as `plan_run`, which plays every other shape.
    """

    __slots__ = (
        "_chunks",
        "_closes",
        "_completion",
        "_copies",
        "_fills",
        "_kinds",
        "_layout",
        "_own_parts",
        "_packed",
        "_parts",
        "_reason",
        "_reasonings",
        "scenario",
    )

    def __init__(
        self,
        scenario: Scenario,
        layout: tuple[tuple[float, tuple[int, ...]], ...],
        chunks: tuple[tuple[str, str], ...],
        parts: tuple[tuple[str, int, int], ...],
        closes: bool,
        reason: FinishReason,
    ) -> None:
        self.scenario = scenario
        self._layout = layout  # per burst: its delay, its actions (a partial's number, or a row)
        self._chunks = chunks  # (type_id, chunk) of each partial, in order
        self._fills = tuple(
            (chunk, TEXT_PLACEHOLDER in chunk) for _, chunk in chunks
        )  # and which hold `{text}`
        self._parts = parts  # per Text/Reasoning step: its part's type and its chunks' span
        self._reasonings = sum(1 for kind, _, _ in parts if kind != "text")
        self._closes = closes  # a model step is open at the end: its message and usage are written
        self._reason = reason.value
        self._copies, self._completion = _completion_words(
            [chunk for kind, start, stop in parts if kind == "text" for _, chunk in chunks[start:stop]]
        )
        self._kinds = tuple(kind for kind, _, _ in parts)
        # The rows' shapes packed once (see packed_rows). The message's content is shared with
        # its one text part (the same text, stored once), or joins several, or is "" for none;
        # each other part has a slot of its own.
        texts = [index for index, kind in enumerate(self._kinds) if kind == "text"]
        content = Slot(_CONTENT, shared=True)
        part_slots = [
            content if len(texts) == 1 and kind == "text" else Slot(_FIRST_PART + index)
            for index, kind in enumerate(self._kinds)
        ]
        self._own_parts = tuple(slot.index - _FIRST_PART for slot in part_slots if slot is not content)
        step: _StepValues | None = None
        if closes:
            step = (
                Slot(_MESSAGE_ID),
                content if texts else "",
                list(zip(self._kinds, part_slots, strict=True)),
                Slot(_PROMPT),
                Slot(_COMPLETION),
            )
        self._packed = tuple(
            (role, PackedShape(content)) for role, content in _text_run_rows(Slot(_RUN), self._reason, step)
        )

    @classmethod
    def compile(cls, scenario: Scenario) -> TextRunTemplate | None:
        """The template of `scenario`'s runs, or None when its steps are not of this shape."""
        layout: list[tuple[float, list[int]]] = []
        chunks: list[tuple[str, str]] = []
        parts: list[tuple[str, int, int]] = []
        wait = 0.0

        def add(action: int) -> None:  # as _Planner.due: a new burst once time is owed
            nonlocal wait
            if not layout or wait > 0:
                layout.append((wait, []))
                wait = 0.0
            layout[-1][1].append(action)

        add(_STARTED)
        closes = False
        reason = FinishReason.STOP
        for step in scenario.steps:
            match step:
                case Text(chunks=texts, every=every) | Reasoning(chunks=texts, every=every):
                    kind, type_id = (
                        ("text", TEXT_PART_TYPE) if type(step) is Text else ("reasoning", REASONING_PART_TYPE)
                    )
                    start = len(chunks)
                    for chunk in texts:
                        wait += every
                        add(len(chunks))
                        chunks.append((type_id, chunk))
                    parts.append((kind, start, len(chunks)))
                    closes = True
                case Delay(seconds=seconds):
                    wait += seconds
                case Finish(reason=reason):
                    break
                case _:
                    return None
        if closes:
            add(_MESSAGE)
            add(_USAGE)
        add(_FINISHED)
        return cls(
            scenario,
            tuple((delay, tuple(actions)) for delay, actions in layout),
            tuple(chunks),
            tuple(parts),
            closes,
            reason,
        )

    @property
    def at_once(self) -> bool:
        """Whether a run is one burst, due as soon as it starts (echo's): no wait between two actions."""
        return len(self._layout) == 1

    def plan(self, run_id: UUID, text: str, run: str | None = None) -> tuple[Burst, ...]:
        """The timed actions of one run for the posted `text`: `plan_run(self.scenario, ...)`
        (`run`: str(run_id), when the caller has it spelt)."""
        filled, rows = self._filled(run or str(run_id), text)
        place = _ROW_PLACES if self._closes else _ROW_PLACES_UNCLOSED
        chunks = self._chunks
        bursts: list[Burst] = []
        for delay, actions in self._layout:
            played: list[Action] = []
            written: list[Row] = []
            for action in actions:
                if action >= 0:
                    played.append(_new(Partial, (chunks[action][0], filled[action])))
                else:
                    row = rows[place[action]]
                    played.append(row)
                    written.append(row)
            bursts.append(_new(Burst, (delay, played, written)))
        return tuple(bursts)

    def packed_rows(self, run: str, text: str) -> list[tuple[Role, bytes]]:
        """The rows of one run in their order, without its partials and instants (what an
        `at_once` run stores when no one hears its partials, see _AtOnceRun), each content as
        the marshal stream a stored row keeps (see v1/packed.py): the rows' shapes were packed
        at compile time, a post packs only its values (`run`: the run id as str(UUID) spells it)."""
        values = [pack_str(run)]
        if self._closes:
            _, joined, content, prompt, completion = self._fill(text)
            values += (
                pack_str(_message_id(run)),
                pack_str(content, shared=True),
                pack_int(prompt),
                pack_int(completion),
            )
            if self._own_parts:  # the parts but the one the content shares (echo's: none)
                values += [b""] * len(self._kinds)  # slots _FIRST_PART + the part's number
                for index in self._own_parts:
                    values[_FIRST_PART + index] = pack_str(joined[index])
        return [(role, shape.fill(values)) for role, shape in self._packed]

    def _filled(self, run: str, text: str) -> tuple[list[str], list[Row]]:
        """The run's chunks with `{text}` filled in, and its rows in their order (see _ROW_PLACES);
        `run`: the run id as str(UUID) spells it."""
        if not self._closes:
            return [], _text_run_rows(run, self._reason)  # no Text or Reasoning step: no chunk
        filled, joined, content, prompt, completion = self._fill(text)
        parts = list(zip(self._kinds, joined, strict=True))
        step = (_message_id(run), content, parts, prompt, completion)
        return filled, _text_run_rows(run, self._reason, step)

    def _fill(self, text: str) -> tuple[list[str], list[str], str, int, int]:
        """The closed step's values for the posted `text`: the chunks with `{text}` filled in,
        each part's text, the message's content, the usage figures (prompt, completion)."""
        filled = [chunk.replace(TEXT_PLACEHOLDER, text) if fill else chunk for chunk, fill in self._fills]
        texts: list[str] = []
        joined: list[str] = []
        for kind, start, stop in self._parts:
            part = filled[start] if stop - start == 1 else "".join(filled[start:stop])
            if kind == "text":
                texts.append(part)
            joined.append(part)
        content = texts[0] if len(texts) == 1 else "".join(texts)
        words = len(text.split())  # the posted text is split once, for both figures
        prompt = words + 6
        # content's words (see _completion_words): the text's own, once per copy of it, and
        # the constant words (the template's, less those glued to the text's ends) for its ends.
        if not text:
            constant = self._completion[4]
        else:
            constant = self._completion[(not text[0].isspace()) * 2 + (not text[-1].isspace())]
        completion = self._copies * words + constant + 8 * self._reasonings
        return filled, joined, content, prompt, completion


def _message_id(run: str) -> str:
    """The assistant message's id of a run's one model step: its id's first 20 hex digits."""
    return f"msg-{run[:8]}{run[9:13]}{run[14:18]}{run[19:23]}-0"


# The values a closed step's rows take: the assistant message's id and content, each part's
# (kind, text), the usage figures (prompt, completion).
_StepValues = tuple[Any, Any, list[tuple[str, Any]], Any, Any]


def _text_run_rows(run: Any, reason: str, step: _StepValues | None = None) -> list[Row]:
    """The rows of a streamed-text run, in their order (see _ROW_PLACES): `step` None when its
    model step does not close. Its values may be packed shapes' Slots (TextRunTemplate's
    packed rows are compiled from these very rows)."""
    started = {
        "type": "stream_event",
        "run_id": run,
        "event": "run_started",
        "usage": {"promptTokens": None, "completionTokens": None},
    }
    rows = [_new(Row, (_SYSTEM, started))]
    if step is None:
        figures: dict[str, Any] = {"promptTokens": None, "completionTokens": None}
    else:
        message_id, content, parts, prompt, completion = step
        message = {
            "type": "message",
            "run_id": run,
            "message": {
                "id": message_id,
                "content": content,
                "role": "assistant",
                "parts": [{"type": "step-start"}, *({"type": kind, kind: text} for kind, text in parts)],
            },
        }
        usage = {
            "type": "stream_event",
            "run_id": run,
            "event": "usage",
            "usage": {"promptTokens": prompt, "completionTokens": completion},
            "step": 0,
        }
        rows += (_new(Row, (_ASSISTANT, message)), _new(Row, (_SYSTEM, usage)))
        figures = {"promptTokens": prompt, "completionTokens": completion}
    finished = {
        "type": "stream_event",
        "run_id": run,
        "event": "run_finished",
        "usage": figures,
        "finish_reason": reason,
    }
    if step is not None:
        finished["steps"] = 1  # last, as plan_run writes it
    rows.append(_new(Row, (_SYSTEM, finished)))
    return rows


# The slots of a template's packed rows (see TextRunTemplate.packed_rows), then one per part.
_RUN, _MESSAGE_ID, _CONTENT, _PROMPT, _COMPLETION, _FIRST_PART = range(6)


def _completion_words(chunks: list[str]) -> tuple[int, tuple[int, ...]]:
    """How many words (by str.split) the text chunks joined hold, as a function of the posted
    text: (copies, constants) with the count `copies * len(text.split()) + constants[i]`, where i
    is 4 for an empty text, else 2 * (text starts with a word) + (text ends with a word).

    A nonempty text adds its own words to each copy; what it does to the words around a copy
    depends on its ends alone: an end that is not whitespace glues the copy to a word next to
    it (one word less), one that is keeps them apart; an empty text is no copy at all. So each
    constant is counted here once, with a text of those ends and one word or none.
    """
    copies = sum(chunk.count(TEXT_PLACEHOLDER) for chunk in chunks)

    def words(text: str) -> int:
        return len("".join(chunk.replace(TEXT_PLACEHOLDER, text) for chunk in chunks).split())

    # A text of each kind of ends, indexed as above: ends (neither, last, first, both), empty.
    samples = (" ", " w", "w ", "w", "")
    return copies, tuple(words(sample) - copies * len(sample.split()) for sample in samples)


class ScenarioAgent:
    """Plays the scenario the library selects for each posted message."""

    def __init__(
        self, store: ChatStore, scheduler: Scheduler, library: ScenarioLibrary | None = None
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._library = library or ScenarioLibrary.builtin()
        # The library's scenarios of streamed text alone, compiled once when the agent is made:
        # their runs are filled in per post, not planned step by step.
        self._templates = {
            name: template
            for name in self._library.names
            if (template := TextRunTemplate.compile(self._library[name])) is not None
        }

    @property
    def library(self) -> ScenarioLibrary:
        """The scenarios this agent chooses from."""
        return self._library

    def start_run(self, chat: Chat, run_id: UUID, text: str, run: str | None = None) -> None:
        """Begin writing the run's rows; returns at once (`run`: str(run_id), if the caller has it)."""
        scenario = self._library.select(text, chat.metadata)
        template = self._templates.get(scenario.name)
        if template is None or template.scenario is not scenario:
            # Its steps are not streamed text alone, or it was made for this post (a `scenario`
            # metadata naming none): planned as it comes.
            bursts = plan_run(scenario, run_id, text)
        elif template.at_once:  # one burst due at once (echo, the default): see _AtOnceRun
            spelt = run or str(run_id)
            played = _AtOnceRun(self._store, self._scheduler, chat.id, run_id, spelt, template, text)
            self._scheduler.call_later(0.0, played.write)
            return
        else:
            bursts = template.plan(run_id, text)
        self._play(chat.id, run_id, bursts)

    def _play(self, chat_id: UUID, run_id: UUID, bursts: Sequence[Burst]) -> None:
        """Write the run's bursts on the scheduler's time; the run ends if the chat goes."""
        if bursts:
            run = _Run(self._store, self._scheduler, chat_id, run_id, bursts)
            self._scheduler.call_later(bursts[0].delay, run.write_due)


class _Run:
    """A run being played: its bursts, each written when due, the next one scheduled after it.

    A burst's actions are written in one turn of the loop, so what a partial adds to the chat's
    live preview, a row after it in the same burst closes before anyone else runs: when no
    listener follows the chat, a burst that ends with a row is its rows alone, in one store
    write. Otherwise each action in turn, each heard by the listeners.

    One slotted object whose bound method is the scheduler's callback, where a general player
    (core/scheduler.play_in_order) takes a closure, a list of delays, a player and a partial per
    burst: a run is planned and played once per posted message. It holds no reference to
    itself, so what it held is freed as soon as it ends, not by the garbage collector later.
    """

    __slots__ = ("_bursts", "_chat_id", "_next", "_run_id", "_scheduler", "_store")

    def __init__(
        self, store: ChatStore, scheduler: Scheduler, chat_id: UUID, run_id: UUID, bursts: Sequence[Burst]
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._chat_id = chat_id
        self._run_id = run_id
        self._bursts = bursts
        self._next = 0  # the burst due next

    def write_due(self) -> None:
        """Write the burst due now (and any due at once after it), then schedule the next one."""
        bursts = self._bursts
        index = self._next
        while True:
            if not self._write(bursts[index]):
                return  # the chat is gone (a reset): the run ends with it
            index += 1
            if index == len(bursts):
                return
            if bursts[index].delay > 0:
                break
        self._next = index
        self._scheduler.call_later(bursts[index].delay, self.write_due)

    def _write(self, burst: Burst) -> bool:
        store, chat_id = self._store, self._chat_id
        try:
            if type(burst.actions[-1]) is Row and not store.listener_count(chat_id):
                store.append_messages(chat_id, burst.rows)
                return True
            for action in burst.actions:
                if isinstance(action, Row):
                    store.append_message(chat_id, action.role, action.content)
                else:
                    store.publish_partial(chat_id, self._run_id, action.type_id, action.part)
        except ChatNotFound:
            return False
        return True


class _AtOnceRun:
    """A run of one burst due at once (a compiled template's, see TextRunTemplate.at_once),
    planned when it is written rather than on the post's request path. When no one listens to
    the chat then, its rows alone are made, packed as stored rows keep them
    (TextRunTemplate.packed_rows), and stored in one write: no partials, bursts, lists of
    actions or dicts built for no one. Otherwise it is played as any run (_Run)."""

    __slots__ = ("_chat_id", "_run", "_run_id", "_scheduler", "_store", "_template", "_text")

    def __init__(
        self,
        store: ChatStore,
        scheduler: Scheduler,
        chat_id: UUID,
        run_id: UUID,
        run: str,
        template: TextRunTemplate,
        text: str,
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._chat_id = chat_id
        self._run_id = run_id
        self._run = run  # str(run_id), as the post spelt it
        self._template = template
        self._text = text

    def write(self) -> None:
        """Write the run (a chat gone meanwhile, by a reset, ends it unwritten)."""
        store, chat_id = self._store, self._chat_id
        if store.listener_count(chat_id):
            bursts = self._template.plan(self._run_id, self._text, self._run)
            _Run(store, self._scheduler, chat_id, self._run_id, bursts).write_due()
            return
        try:
            store.append_packed_messages(chat_id, self._template.packed_rows(self._run, self._text))
        except ChatNotFound:
            return  # the chat is gone (a reset): the run ends with it
