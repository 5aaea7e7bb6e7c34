"""The markdown report of a benchmark run."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from bench.bars import judge
from bench.results import Row, Session

__all__ = ["render"]

MIB = 1024 * 1024


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cells) + " |" for cells in body]


def _results(rows: Sequence[Row]) -> list[str]:
    body = [
        [
            r.server,
            r.endpoint,
            f"{r.req_per_s:,.0f}",
            f"{r.req_per_s_min:,.0f}-{r.req_per_s_max:,.0f}",
            _ms(r.p50_s),
            _ms(r.p99_s),
            f"{r.cpu_us_per_request:,.0f}",
            f"{r.rss_bytes / MIB:.0f}",
            f"**{r.errors}** ⚠" if r.errors else "0",
        ]
        for r in rows
    ]
    header = [
        "server",
        "endpoint",
        "req/s (median)",
        "req/s range",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "RSS after load MiB",
        "errors",
    ]
    return ["## Results (medians over rounds)", "", *_table(header, body), ""]


def _spread(values: Sequence[float]) -> tuple[str, str]:
    return f"{statistics.median(values):.3f}", f"{min(values):.3f}-{max(values):.3f}"


def _servers(sessions: Sequence[Session], rows: Sequence[Row]) -> list[str]:
    body = []
    for name in dict.fromkeys(s.server for s in sessions):
        mine = [s for s in sessions if s.server == name]
        idle = statistics.median(s.rss_idle_bytes for s in mine)
        loaded = max((r.rss_bytes for r in rows if r.server == name), default=0)
        body.append(
            [
                name,
                *_spread([s.startup_s for s in mine]),
                *_spread([s.first_start_s for s in mine]),
                f"{idle / MIB:.0f}",
                f"{loaded / MIB:.0f}",
            ]
        )
    header = [
        "server",
        "start-up s (median)",
        "start-up range",
        "first start s (median)",
        "first start range",
        "RSS idle MiB",
        "RSS after load MiB (max)",
    ]
    by_round = [
        f"- {name}: "
        + ", ".join(f"{s.startup_s:.3f} (first {s.first_start_s:.3f})" for s in sessions if s.server == name)
        for name in dict.fromkeys(s.server for s in sessions)
    ]
    return [
        "## Start-up and memory",
        "",
        *_table(header, body),
        "",
        "Start-up is timed on the second of two starts in a row (the bar judges it); the first start",
        "of each round is timed too, unjudged: this machine's kernel pages out files nothing read for",
        "a minute, so the first start may read the server's files from disk.",
        "",
        "Start-up by round (s):",
        "",
        *by_round,
        "",
    ]


def _ratios(rows: Sequence[Row], candidate: str, baseline: str) -> list[str]:
    by_key = {(r.server, r.endpoint): r for r in rows}
    body = []
    for endpoint in dict.fromkeys(r.endpoint for r in rows):
        mine, theirs = by_key.get((candidate, endpoint)), by_key.get((baseline, endpoint))
        if mine is None or theirs is None:
            continue
        flag = " ⚠ errors" if mine.errors or theirs.errors else ""
        body.append(
            [
                endpoint,
                f"{mine.req_per_s / theirs.req_per_s:.2f}x{flag}",
                f"{mine.p99_s / theirs.p99_s:.2f}",
                f"{mine.cpu_us_per_request / theirs.cpu_us_per_request:.2f}",
            ]
        )
    if not body:
        return [f"## Ratio {candidate}/{baseline}", "", "Not measured: run both servers.", ""]
    header = ["endpoint", "req/s ratio", "p99 ratio", "CPU/req ratio"]
    return [f"## Ratio {candidate}/{baseline}", "", *_table(header, body), ""]


def _bars(rows: Sequence[Row], sessions: Sequence[Session]) -> list[str]:
    marks = {True: "pass", False: "**FAIL**", None: "n/a"}
    body = [[v.bar, v.measured, marks[v.holds]] for v in judge(rows, sessions)]
    return [
        "## Bars",
        "",
        *_table(["bar", "measured", "verdict"], body),
        "",
        "A bar is n/a when a server was not run or a run in it had errors.",
        "",
    ]


def _flags(sessions: Sequence[Session]) -> list[str]:
    flagged = [
        f"- round {m.round}, {m.server}, {m.endpoint}: {m.wrk.non_2xx_3xx} responses ≥ 400, "
        f"{m.wrk.socket_errors} socket errors out of {m.wrk.requests}"
        for s in sessions
        for m in s.measurements
        if m.wrk.errors
    ]
    text = flagged or ["None: every response of every run was 2xx/3xx."]
    return ["## Runs with errors", "", *text, ""]


def _rounds(sessions: Sequence[Session]) -> list[str]:
    body = [
        [
            str(m.round),
            m.server,
            m.endpoint,
            f"{m.wrk.req_per_s:,.0f}",
            _ms(m.wrk.p50_s),
            _ms(m.wrk.p99_s),
            f"{m.cpu_us_per_request:,.0f}",
            f"{m.settle_s:.1f}",
            str(m.wrk.errors),
        ]
        for s in sessions
        for m in s.measurements
    ]
    header = [
        "round",
        "server",
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "settle s",
        "errors",
    ]
    return ["## Every run, in the order run", "", *_table(header, body), ""]


def render(
    sessions: Sequence[Session],
    rows: Sequence[Row],
    facts: Mapping[str, str],
    candidate: str = "mock",
    baseline: str = "prism",
) -> str:
    """The whole report as markdown."""
    lines = ["# Benchmark: the mock against Prism", "", "## Setup", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    lines.append("")
    lines += _results(rows)
    lines += _servers(sessions, rows)
    lines += _ratios(rows, candidate, baseline)
    lines += _bars(rows, sessions)
    lines += _flags(sessions)
    lines += _rounds(sessions)
    return "\n".join(lines) + "\n"
