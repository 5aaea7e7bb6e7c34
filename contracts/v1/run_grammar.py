"""The grammar of one agent run (WIRE.md §4), judged rule by rule on the rows a listing shows.

A run, in id order: `run_started`; for each step, its tool_call/tool_result pairs, the assistant
`message`, then a `usage` event with the step; then `run_finished` (on failure an `error` row
right before it). `judge_run` is a pure function of the listed rows: it reports every rule it
finds broken (a Finding per violation, with the offending rows) and every rule whose situation
arose, so that a rule never judged is never counted as passed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from contracts.v1.facts import FINISH_REASONS

__all__ = ["Finding", "RunJudgement", "describe_row", "judge_run", "rows_of_unknown_runs", "run_rows"]

# The rules every finished run exercises; the others need their situation (a tool, a failure).
ALWAYS = (
    "run_starts_once_first",
    "run_finishes_once_last",
    "run_finished_counts_steps",
    "run_rows_carry_its_run_id",
    "run_row_ids_increase",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule in one run: what was wrong and the rows that show it."""

    rule: str
    kind: str
    message: str
    rows: tuple[Any, ...] = ()


@dataclass(slots=True)
class RunJudgement:
    """What judging one run found, and which rules its rows exercised."""

    findings: list[Finding] = field(default_factory=list)
    exercised: set[str] = field(default_factory=set)

    def broke(self, rule: str, kind: str, message: str, *rows: Any) -> None:
        self.findings.append(Finding(rule, kind, message, rows))
        self.exercised.add(rule)


def _content(row: Any) -> dict[str, Any]:
    content = row.get("content") if isinstance(row, dict) else None
    return content if isinstance(content, dict) else {}


def run_rows(rows: Iterable[Any], run_id: str) -> list[dict[str, Any]]:
    """The rows the agent wrote for `run_id`: every row carrying it but the user's message."""
    return [
        row
        for row in rows
        if isinstance(row, dict) and _content(row).get("run_id") == run_id and row.get("role") != "user"
    ]


def _kind(row: dict[str, Any]) -> str:
    content = _content(row)
    kind = content.get("type")
    if kind == "stream_event":
        return str(content.get("event"))
    if kind == "message":
        return "message" if row.get("role") == "assistant" else f"message/{row.get('role')}"
    return str(kind)


def describe_row(row: Any) -> str:
    """One row as a line of evidence: id, role, type or event, and the fields the grammar reads."""
    if not isinstance(row, dict):
        return repr(row)
    content = _content(row)
    parts = [f"#{row.get('id')}", f"[{row.get('role')}]", _kind(row)]
    for name in ("step", "tool_call_id", "tool_name", "finish_reason", "steps", "code", "message"):
        if name in content and not (name == "message" and content.get("type") == "message"):
            parts.append(f"{name}={json.dumps(content[name])}")
    message = content.get("message") if content.get("type") == "message" else None
    if isinstance(message, dict):
        parts.append(f"content={json.dumps(message.get('content'))}")
        kinds = [p.get("type") for p in message.get("parts", []) if isinstance(p, dict)]
        parts.append(f"parts={','.join(str(k) for k in kinds)}")
    parts.append(f"run_id={content.get('run_id')}")
    return " ".join(parts)


def rows_of_unknown_runs(rows: Iterable[Any], known: Iterable[str]) -> list[Any]:
    """Rows that carry no run_id, or one no post returned (the system prompt carries none)."""
    runs = set(known)
    found = []
    for row in rows:
        content = _content(row)
        if content.get("type") == "system_prompt":
            continue
        if content.get("run_id") not in runs:
            found.append(row)
    return found


def judge_run(rows: Sequence[Any], run_id: str) -> RunJudgement:
    """Judge the run `run_id` in a chat's listed rows; the run must have written `run_finished`."""
    run = run_rows(rows, run_id)
    judged = RunJudgement(exercised=set(ALWAYS))
    kinds = [_kind(row) for row in run]
    _ids(judged, run)
    starts = [row for row, kind in zip(run, kinds, strict=True) if kind == "run_started"]
    if len(starts) != 1:
        judged.broke(
            "run_starts_once_first", "RunStartedCount", f"{len(starts)} run_started rows, expected 1", *starts
        )
    elif kinds[0] != "run_started":
        judged.broke(
            "run_starts_once_first", "RunStartedNotFirst", "the run's first row is not run_started", run[0]
        )
    finishes = [row for row, kind in zip(run, kinds, strict=True) if kind == "run_finished"]
    if len(finishes) != 1:
        judged.broke(
            "run_finishes_once_last",
            "RunFinishedCount",
            f"{len(finishes)} run_finished rows, expected 1",
            *finishes,
        )
    if kinds[-1] != "run_finished":
        judged.broke(
            "run_finishes_once_last", "RunFinishedNotLast", "rows follow run_finished", finishes[0], run[-1]
        )
    finished = finishes[-1]
    reason = _content(finished).get("finish_reason")
    if reason not in FINISH_REASONS:
        judged.broke(
            "run_finishes_once_last",
            "BadFinishReason",
            f"finish_reason {reason!r} is not one of {sorted(FINISH_REASONS)}",
            finished,
        )
    _error(judged, run, kinds, finished, reason)
    steps = _steps(judged, run, kinds, failed=reason == "error")
    counted = _content(finished).get("steps")
    if (steps and counted != steps) or (not steps and counted not in (None, 0)):
        judged.broke(
            "run_finished_counts_steps",
            "StepsMiscounted",
            f"run_finished says steps={counted!r}, the run has {steps} step(s)"
            + (" (omitted or 0 when none)" if not steps else ""),
            finished,
        )
    return judged


def _ids(judged: RunJudgement, run: list[dict[str, Any]]) -> None:
    for before, after in pairwise(run):
        first, second = before.get("id"), after.get("id")
        if not (isinstance(first, int) and isinstance(second, int) and second > first):
            judged.broke(
                "run_row_ids_increase",
                "RunRowIdsNotIncreasing",
                f"id {second!r} listed after id {first!r}",
                before,
                after,
            )
            return


def _error(
    judged: RunJudgement, run: list[dict[str, Any]], kinds: list[str], finished: Any, reason: Any
) -> None:
    errors = [index for index, kind in enumerate(kinds) if kind == "error"]
    if not errors and reason != "error":
        return
    rule = "failed_run_ends_with_error"
    judged.exercised.add(rule)
    if not errors:
        judged.broke(
            rule, "ErrorRowMissing", "finish_reason is error, but no error row precedes it", finished
        )
        return
    error = run[errors[-1]]
    if len(errors) > 1:
        judged.broke(rule, "ErrorRowTwice", f"{len(errors)} error rows", *(run[i] for i in errors))
    if reason != "error":
        judged.broke(rule, "ErrorNotFinishedAsError", f"an error row, then finish_reason {reason!r}", error)
    if errors[-1] + 1 >= len(run) or kinds[errors[-1] + 1] != "run_finished":
        after = run[errors[-1] + 1 : errors[-1] + 2]
        judged.broke(
            rule, "ErrorNotRightBeforeFinish", "the error row is not followed by run_finished", error, *after
        )
    content = _content(error)
    for name in ("code", "message"):
        if not isinstance(content.get(name), str) or not content[name]:
            judged.broke(rule, "ErrorWithout" + name.title(), f"the error row has no {name}", error)


@dataclass(slots=True)
class _Step:
    """The open step: its number and tool rows by call id."""

    number: int = 0
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def _steps(judged: RunJudgement, run: list[dict[str, Any]], kinds: list[str], *, failed: bool) -> int:
    """Walk the steps; returns how many closed (message then usage)."""
    step = _Step()
    seen_calls: set[str] = set()
    awaiting_usage: dict[str, Any] | None = None  # the step's message, until its usage comes
    for row, kind in zip(run, kinds, strict=True):
        if kind in ("run_started", "run_finished", "error"):
            continue
        content = _content(row)
        if awaiting_usage is not None and kind != "usage":
            judged.broke(
                "step_ends_with_message_then_usage",
                "UsageMissing",
                f"step {step.number}'s message is not followed by its usage event",
                awaiting_usage,
                row,
            )
            step = _Step(step.number + 1)
            awaiting_usage = None
        if kind == "tool_call":
            judged.exercised.update(("tool_result_follows_its_call", "steps_count_from_zero"))
            call_id = str(content.get("tool_call_id"))
            _step_number(judged, row, step.number)
            if call_id in seen_calls:
                judged.broke("tool_result_follows_its_call", "ToolCallTwice", f"call {call_id} again", row)
            seen_calls.add(call_id)
            open_calls = [call for earlier, call in step.calls.items() if earlier not in step.results]
            if open_calls:
                # WIRE.md §4 item 2: each tool call of a step is followed by its result, call by call.
                judged.broke(
                    "tool_result_follows_its_call",
                    "ToolCallBeforeEarlierResult",
                    f"call {call_id} comes before the result of the step's earlier call",
                    *open_calls,
                    row,
                )
            step.calls[call_id] = row
        elif kind == "tool_result":
            judged.exercised.add("tool_result_follows_its_call")
            _result(judged, step, row)
        elif kind == "message":
            judged.exercised.update(("step_ends_with_message_then_usage", "steps_count_from_zero"))
            missing = [call for call_id, call in step.calls.items() if call_id not in step.results]
            if missing:
                judged.broke(
                    "tool_result_follows_its_call",
                    "ToolCallWithoutResult",
                    f"step {step.number}'s message comes before the result of {len(missing)} call(s)",
                    *missing,
                    row,
                )
            _message(judged, step, row)
            awaiting_usage = row
        elif kind == "usage":
            judged.exercised.update(("step_ends_with_message_then_usage", "steps_count_from_zero"))
            if awaiting_usage is None:
                judged.broke(
                    "step_ends_with_message_then_usage",
                    "UsageWithoutMessage",
                    f"a usage event where step {step.number} has no assistant message before it",
                    row,
                )
                continue
            _step_number(judged, row, step.number)
            step = _Step(step.number + 1)
            awaiting_usage = None
    if awaiting_usage is not None:
        judged.broke(
            "step_ends_with_message_then_usage",
            "UsageMissing",
            f"step {step.number}'s message is the step's last row: no usage event follows",
            awaiting_usage,
        )
        return step.number + 1
    if step.calls and not failed:
        judged.broke(
            "step_ends_with_message_then_usage",
            "StepWithoutMessage",
            f"step {step.number} called tools but the run finished without its assistant message",
            *step.calls.values(),
        )
    return step.number


def _step_number(judged: RunJudgement, row: dict[str, Any], expected: int) -> None:
    got = _content(row).get("step")
    if got != expected:
        judged.broke(
            "steps_count_from_zero",
            "StepNumberWrong",
            f"a {_kind(row)} row of step {expected} (counting from 0) carries step {got!r}",
            row,
        )


def _result(judged: RunJudgement, step: _Step, row: dict[str, Any]) -> None:
    content = _content(row)
    call_id = str(content.get("tool_call_id"))
    call = step.calls.get(call_id)
    rule = "tool_result_follows_its_call"
    if call is None:
        judged.broke(
            rule, "ToolResultWithoutCall", f"no tool_call {call_id} before this result in its step", row
        )
    elif call_id in step.results:
        judged.broke(
            rule, "ToolResultTwice", f"a second result for call {call_id}", step.results[call_id], row
        )
    else:
        called = _content(call)
        differ = [name for name in ("tool_name", "step") if called.get(name) != content.get(name)]
        if differ:
            judged.broke(
                rule, "ToolResultDiffersFromCall", f"{', '.join(differ)} differ from the call", call, row
            )
    step.results.setdefault(call_id, row)


def _message(judged: RunJudgement, step: _Step, row: dict[str, Any]) -> None:
    message = _content(row).get("message")
    message = message if isinstance(message, dict) else {}
    parts = [part for part in message.get("parts") or [] if isinstance(part, dict)]
    judged.exercised.add("assistant_content_is_its_text")
    joined = "".join(str(part.get("text", "")) for part in parts if part.get("type") == "text")
    content = message.get("content")
    if content != joined:
        kind = "AssistantContentEmpty" if joined and not content else "AssistantContentDiffers"
        judged.broke(
            "assistant_content_is_its_text",
            kind,
            f"content {content!r} is not its text parts joined {joined!r}",
            row,
        )
    invocations: dict[str, dict[str, Any]] = {}
    for part in parts:
        if part.get("type") == "tool-invocation" and isinstance(part.get("toolInvocation"), dict):
            invocations[str(part["toolInvocation"].get("toolCallId"))] = part["toolInvocation"]
    if not invocations and not step.calls:
        return
    rule = "tool_invocations_match_tool_rows"
    judged.exercised.add(rule)
    for call_id, call in step.calls.items():
        invocation = invocations.get(call_id)
        if invocation is None:
            judged.broke(
                rule, "ToolInvocationMissing", f"no tool-invocation part for call {call_id}", call, row
            )
            continue
        called = _content(call)
        differ = [
            name
            for name, field_name in (("toolName", "tool_name"), ("args", "args"))
            if invocation.get(name) != called.get(field_name)
        ]
        if "step" in invocation and invocation["step"] != called.get("step"):
            differ.append("step")
        result = step.results.get(call_id)
        outcome = _content(result) if result is not None else {}
        settled = invocation.get("state") == "result" and result is not None and "error" not in outcome
        if settled and invocation.get("result") != outcome.get("result"):
            differ.append("result")
        if differ:
            judged.broke(
                rule,
                "ToolInvocationDiffers",
                f"the tool-invocation part of call {call_id}: {', '.join(differ)} differ from its rows",
                call,
                row,
            )
    ordered = [call_id for call_id in invocations if call_id in step.calls]
    if ordered != [call_id for call_id in step.calls if call_id in invocations]:
        judged.broke(
            rule,
            "ToolInvocationsOutOfOrder",
            f"tool-invocation parts in the order {ordered}, the tool_call rows in {list(step.calls)}",
            *step.calls.values(),
            row,
        )
    for call_id in sorted(set(invocations) - set(step.calls)):
        judged.broke(
            rule,
            "ToolInvocationWithoutRow",
            f"a tool-invocation part for call {call_id} has no tool_call row",
            row,
        )
