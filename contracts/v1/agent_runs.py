"""Agent runs (WIRE.md §4): every run verify's posts started, waited for and judged by its grammar,
and the transcript's history, which only ever grows.

Runs are judged at the end, all together, so that a slow agent costs its slowest run once. The
wait polls the transcript until each run wrote `run_finished` or the deadline passed; every
listing of a chat must extend the previous one (history is append-only).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from contracts.checking import PostedRun, ScenarioContext, expect_status, json_list, json_object
from contracts.v1.run_grammar import describe_row, judge_run, rows_of_unknown_runs, run_rows
from contracts.v1.shapes import row_view
from contracts.violations import ContractBroken, Violation

__all__ = [
    "PROVOKED_RUNS",
    "agent_runs_follow_their_grammar",
    "history_is_append_only",
    "post_leaves_the_chat_unchanged",
]

LIST = "GET /chats/{chat}/messages"
MAX_EVIDENCE = 14  # rows shown per violation
# Chats whose metadata asks a scripted agent (the mock's, or any that honours the convention)
# for a run that calls tools and for one that fails; an agent that ignores the hint runs as it
# likes, and the rules those runs exercise are then reported as not exercised.
PROVOKED_RUNS: tuple[tuple[dict[str, Any], str], ...] = (
    ({"scenario": "tool-use"}, "List the files, then read one."),
    ({"scenario": "parallel-tools"}, "Read two files at once."),
    ({"scenario": "upstream-error"}, "This run is expected to fail upstream."),
)


@dataclass(slots=True)
class _Listings:
    """The last listing verify saw of each chat, and the command that fetched it."""

    rows: dict[str, list[Any]] = field(default_factory=dict)
    curls: dict[str, str] = field(default_factory=dict)


def _finished(rows: Sequence[Any]) -> set[str]:
    done = set()
    for row in rows:
        content = row.get("content") if isinstance(row, dict) else None
        if isinstance(content, dict) and content.get("event") == "run_finished":
            done.add(str(content.get("run_id")))
    return done


def _list(ctx: ScenarioContext, listings: _Listings, chat: str, token: str) -> list[Any]:
    """List a chat; a listing that does not extend the chat's previous one breaks the history rule."""
    rows = json_list(ctx.send("GET", f"/chats/{chat}/messages", token=token), "TranscriptNotAList")
    before = listings.rows.get(chat)
    if before is not None:
        _check_prefix(ctx, chat, before, rows, ctx.probe.last_curl)
    listings.rows[chat] = rows
    listings.curls[chat] = ctx.probe.last_curl
    return rows


def _check_prefix(ctx: ScenarioContext, chat: str, before: list[Any], after: list[Any], curl: str) -> None:
    for index, row in enumerate(before):
        if index >= len(after):
            kind, message, shown = (
                "HistoryDropped",
                f"{len(before) - index} row(s) listed earlier are gone",
                [row],
            )
        elif row_view(after[index]) != row_view(row):
            kind, message = "HistoryRewritten", f"row {index} changed or moved between two listings"
            shown = [row, after[index]]
        else:
            continue
        ctx.record(
            Violation(
                "history_is_append_only",
                kind,
                LIST,
                message,
                curl,
                subject=f"chat {chat}",
                evidence=tuple(
                    f"{label}: {describe_row(r)}"
                    for label, r in zip(("before", "after"), shown, strict=False)
                ),
            )
        )
        return


def _wait(ctx: ScenarioContext, listings: _Listings, runs: Sequence[PostedRun]) -> dict[str, list[Any]]:
    """List each chat until its runs wrote run_finished or the deadline passed; the last rows of each."""
    pending: dict[str, set[str]] = {}
    tokens: dict[str, str] = {}
    for run in runs:
        pending.setdefault(run.chat, set())
        if run.run_id not in ctx.gave_up:
            pending[run.chat].add(run.run_id)
        tokens[run.chat] = run.token
    deadline = ctx.clock() + ctx.agent_timeout
    listed: set[str] = set()
    while True:
        for chat, waiting in pending.items():
            if waiting or chat not in listed:
                waiting -= _finished(_list(ctx, listings, chat, tokens[chat]))
                listed.add(chat)
        if not any(pending.values()):
            return {chat: listings.rows[chat] for chat in pending}
        if ctx.clock() >= deadline:
            ctx.gave_up.update(*pending.values())
            return {chat: listings.rows[chat] for chat in pending}
        ctx.sleep(ctx.poll_every)


def _runs_of(ctx: ScenarioContext, chat: str) -> list[PostedRun]:
    """The runs verify's posts started in `chat` (checks that run at once share `ctx.runs`)."""
    return [run for run in list(ctx.runs) if run.chat == chat]


def history_is_append_only(ctx: ScenarioContext) -> str | None:
    """A transcript listed before a second and a concurrent third post is a prefix of the one after."""
    chat = str(ctx.create_chat({"provider": "p", "model": "m", "title": "history"})["id"])
    listings = _Listings()
    ctx.post(chat, "The first message.")
    first = _runs_of(ctx, chat)
    _wait(ctx, listings, first)
    if any(run.run_id in ctx.gave_up for run in first):
        return "the first run never finished (see run_finishes_once_last): history was not judged"
    before = list(listings.rows[chat])
    # When a second and a third message are posted at once
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda text: ctx.post(chat, text), ("The second.", "The third, at once.")))
    later = [run for run in ctx.runs if run.chat == chat and run.run_id in {a.get("run_id") for a in answers}]
    # Then both runs finish and the first listing is a prefix of the last
    after = _wait(ctx, listings, later)[chat]
    _check_prefix(ctx, chat, before, after, listings.curls[chat])
    unfinished = {run.run_id for run in later} - _finished(after)
    if unfinished:
        ctx.record(
            Violation(
                "history_is_append_only",
                "CloseRunsNotBothFinished",
                LIST,
                f"of two runs posted at once, {len(unfinished)} wrote no run_finished within {ctx.agent_timeout:g} s",
                listings.curls[chat],
                subject=f"runs {', '.join(sorted(unfinished))} of chat {chat}",
                evidence=tuple(describe_row(row) for row in after[-MAX_EVIDENCE:]),
            )
        )
    return None


def post_leaves_the_chat_unchanged(ctx: ScenarioContext) -> str | None:
    """WIRE.md §1: nothing after the create updates a chat; a post and its run leave every field as it was."""
    if ctx.gave_up:
        return (
            "a run never finished (see run_finishes_once_last): an agent that stalls is not waited for again"
        )
    created = ctx.create_chat(
        {"provider": "p", "model": "m", "title": "left alone", "metadata": {"kept": ["as", "sent"]}}
    )
    chat = str(created["id"])
    listings = _Listings()
    ctx.post(chat, "A message that changes nothing of the chat.")
    posted = _runs_of(ctx, chat)
    _wait(ctx, listings, posted)
    if any(run.run_id in ctx.gave_up for run in posted):
        return "the run never finished (see run_finishes_once_last): the chat after it was not judged"
    response = ctx.send("GET", f"/chats/{chat}")
    expect_status(response, 200, "ChatUnreadable")
    after = json_object(response, "ChatNotAnObject")
    changed = sorted(name for name, value in created.items() if after.get(name) != value)
    if changed:
        raise ContractBroken(
            "PostChangedTheChat",
            f"after a post and its run, {', '.join(changed)} differ from the create's answer",
            subject=f"chat {chat}",
            evidence=tuple(f"{name}: {created.get(name)!r} -> {after.get(name)!r}" for name in changed),
        )
    return None


def agent_runs_follow_their_grammar(ctx: ScenarioContext) -> str | None:
    """Every run verify started (and a tool-using and a failing one it asks for) is judged rule by rule."""
    for metadata, text in PROVOKED_RUNS:
        chat = str(ctx.create_chat({"provider": "p", "model": "m", "metadata": metadata})["id"])
        ctx.post(chat, text)
    if not ctx.runs:
        return "no post was accepted: no run to judge"
    listings = _Listings()
    final = _wait(ctx, listings, ctx.runs)
    by_chat: dict[str, list[PostedRun]] = {}
    for run in ctx.runs:
        by_chat.setdefault(run.chat, []).append(run)
    for chat, runs in by_chat.items():
        rows = final[chat]
        curl = listings.curls[chat]
        done = _finished(rows)
        for run in runs:
            subject = f"run {run.run_id} of chat {chat}"
            if run.run_id not in done:
                _never_finished(ctx, run, rows, curl, subject)
                continue
            judged = judge_run(rows, run.run_id)
            ctx.exercise(*judged.exercised)
            for finding in judged.findings:
                ctx.record(
                    Violation(
                        finding.rule,
                        finding.kind,
                        LIST,
                        finding.message,
                        curl,
                        subject=subject,
                        evidence=tuple(describe_row(row) for row in finding.rows[:MAX_EVIDENCE]),
                    )
                )
        strangers = rows_of_unknown_runs(rows, [run.run_id for run in runs])
        if strangers:
            ctx.record(
                Violation(
                    "run_rows_carry_its_run_id",
                    "RowsOfUnknownRun",
                    LIST,
                    f"{len(strangers)} row(s) carry a run_id none of verify's posts was answered with "
                    f"({', '.join(run.run_id for run in runs)})",
                    curl,
                    subject=f"chat {chat}",
                    evidence=tuple(describe_row(row) for row in strangers[:MAX_EVIDENCE]),
                )
            )
    return None


def _never_finished(ctx: ScenarioContext, run: PostedRun, rows: list[Any], curl: str, subject: str) -> None:
    own = run_rows(rows, run.run_id)
    last = describe_row(own[-1]) if own else "none"
    ctx.record(
        Violation(
            "run_finishes_once_last",
            "RunNeverFinished",
            LIST,
            f"no run_finished within {ctx.agent_timeout:g} s (--expect-agent); {len(own)} row(s) of the run "
            f"listed, the last: {last}",
            curl,
            subject=subject,
            evidence=tuple(describe_row(row) for row in (own or rows)[-MAX_EVIDENCE:]),
        )
    )
