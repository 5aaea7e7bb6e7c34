"""The markdown report of a benchmark run."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.bars import judge
from bench.endpoints import GET_CHAT
from bench.results import Row, Session

__all__ = ["KEPT_SECTIONS", "kept_sections", "render"]

MIB = 1024 * 1024

# Sections of bench/REPORT.md that other commands write; bench/run.py keeps them as they are.
KEPT_SECTIONS = (
    "<!-- profile:",
    "<!-- stream-bars:",
    "<!-- fanout:",
    "<!-- stream-load:",
    "<!-- soak-current:",
)


def kept_sections(head: str, report: Path) -> str:
    """`head` (bench/run.py's report) followed by the sections other commands wrote into `report`."""
    text = report.read_text() if report.exists() else ""
    starts = [text.find(marker) for marker in KEPT_SECTIONS if marker in text]
    if not starts:
        return head
    return head.rstrip("\n") + "\n\n" + text[min(starts) :]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cells) + " |" for cells in body]


def _errors(row: Row | None) -> str:
    if row is None:
        return "-"
    return f"**{row.errors}** ⚠" if row.errors else "0"


def _comparison(rows: Sequence[Row], api: str) -> list[str]:
    by_key = {(r.server, r.endpoint): r for r in rows if r.api == api}
    body = []
    for endpoint in dict.fromkeys(r.endpoint for r in rows if r.api == api and r.server == "mock"):
        mock, prism = by_key[("mock", endpoint)], by_key.get(("prism", endpoint))
        body.append(
            [
                endpoint,
                f"{mock.req_per_s:,.0f}",
                f"{prism.req_per_s:,.0f}" if prism else "-",
                f"**{mock.req_per_s / prism.req_per_s:.2f}x**" if prism else "-",
                f"{_ms(mock.p50_s)} / {_ms(mock.p99_s)}",
                f"{_ms(prism.p50_s)} / {_ms(prism.p99_s)}" if prism else "-",
                f"{mock.cpu_us_per_request:,.0f}",
                f"{prism.cpu_us_per_request:,.0f}" if prism else "-",
                f"{_errors(mock)} / {_errors(prism)}",
                f"{mock.load_1m:.1f}",
            ]
        )
    header = [
        "endpoint",
        "mock req/s",
        "Prism req/s",
        "mock / Prism",
        "mock p50 / p99 ms",
        "Prism p50 / p99 ms",
        "mock CPU µs/req",
        "Prism CPU µs/req",
        "errors mock / Prism",
        "load (1 min)",
    ]
    title = "V1 (`openapi/chats.yaml`)" if api == "v1" else "today's API (`--api current`)"
    return [f"## {title}: the mock against Prism (medians over rounds)", "", *_table(header, body), ""]


def _ceiling(rows: Sequence[Row]) -> list[str]:
    by_key = {(r.api, r.server, r.endpoint): r for r in rows}
    body = []
    for api in dict.fromkeys(r.api for r in rows):
        ceiling = by_key.get((api, "ceiling", GET_CHAT))
        if ceiling is None:
            continue
        for endpoint in dict.fromkeys(r.endpoint for r in rows if r.api == api and r.server == "mock"):
            mock = by_key[(api, "mock", endpoint)]
            body.append(
                [
                    api,
                    endpoint,
                    f"{mock.req_per_s:,.0f}",
                    f"{mock.req_per_s / ceiling.req_per_s:.2f}x",
                    f"{mock.cpu_us_per_request:,.0f}",
                    f"{mock.cpu_us_per_request / ceiling.cpu_us_per_request:.2f}x",
                ]
            )
        body.append(
            [
                api,
                f"**ceiling** ({GET_CHAT})",
                f"{ceiling.req_per_s:,.0f}",
                "1.00x",
                f"{ceiling.cpu_us_per_request:,.0f}",
                "1.00x",
            ]
        )
    if not body:
        return []
    header = ["api", "endpoint", "req/s", "of the ceiling's req/s", "CPU µs/req", "of the ceiling's µs"]
    return [
        "## The ceiling: a bare Starlette app on the same server stack",
        "",
        "`bench/ceiling.py`: serve's uvicorn configuration, request-head limits and allocator, and",
        "one Starlette route answering GET chat with the bytes the mock answered it with in this",
        "run. Every endpoint of the mock is set against the ceiling's GET chat.",
        "",
        *_table(header, body),
        "",
    ]


def _spread(values: Sequence[float]) -> tuple[str, str]:
    return f"{statistics.median(values):.3f}", f"{min(values):.3f}-{max(values):.3f}"


def _servers(sessions: Sequence[Session], rows: Sequence[Row]) -> list[str]:
    body = []
    keys = dict.fromkeys((s.api, s.server) for s in sessions)
    for api, name in keys:
        mine = [s for s in sessions if s.server == name and s.api == api]
        idle = statistics.median(s.rss_idle_bytes for s in mine)
        loaded = max((r.rss_bytes for r in rows if r.server == name and r.api == api), default=0)
        first = [s.first_start_s for s in mine if s.first_start_s == s.first_start_s]
        body.append(
            [
                api,
                name,
                *_spread([s.startup_s for s in mine]),
                _spread(first)[0] if first else "-",
                f"{idle / MIB:.0f}",
                f"{loaded / MIB:.0f}",
            ]
        )
    header = [
        "api",
        "server",
        "start-up s (median)",
        "start-up range",
        "first start s (median)",
        "RSS idle MiB",
        "RSS after load MiB (max)",
    ]
    by_round = [
        f"- {api} {name}: "
        + ", ".join(
            f"{s.startup_s:.3f}"
            + (f" (first {s.first_start_s:.3f})" if s.first_start_s == s.first_start_s else "")
            for s in sessions
            if s.server == name and s.api == api
        )
        for api, name in keys
    ]
    return [
        "## Start-up and memory",
        "",
        *_table(header, body),
        "",
        "Start-up by round (s):",
        "",
        *by_round,
        "",
        "The mock's start-up is timed on the second of two starts in a row (the bar judges it, warm);",
        "the first start is timed too, unjudged: this machine's kernel pages out files nothing read",
        "for a minute, so a first start may read the server's files from disk. Prism and the ceiling",
        "are started once.",
        "",
    ]


def _bars(rows: Sequence[Row], sessions: Sequence[Session]) -> list[str]:
    marks = {True: "pass", False: "**FAIL**", None: "n/a"}
    body = [[v.bar, v.measured, marks[v.holds]] for v in judge(rows, sessions)]
    return [
        "## Bars",
        "",
        *_table(["bar", "measured", "verdict"], body),
        "",
        "A bar against Prism or the ceiling is n/a when that server was not run or the mock had errors",
        "(Prism's errors are shown beside its ratio: on a loaded machine, answers slower than wrk's 2 s).",
        "",
    ]


def _flags(sessions: Sequence[Session]) -> list[str]:
    flagged = [
        f"- round {m.round}, {m.api} {m.server}, {m.endpoint}: {m.wrk.non_2xx_3xx} responses ≥ 400, "
        f"{m.wrk.socket_errors} socket errors out of {m.wrk.requests}"
        for s in sessions
        for m in s.measurements
        if m.wrk.errors
    ]
    text = flagged or ["None: every response of every run was 2xx/3xx."]
    return ["## Runs with errors", "", *text, ""]


def _rounds(sessions: Sequence[Session]) -> list[str]:
    measurements = sorted(
        (m for s in sessions for m in s.measurements), key=lambda m: (m.round, m.api == "current")
    )
    body = [
        [
            str(m.round),
            m.api,
            m.server,
            m.endpoint,
            f"{m.wrk.req_per_s:,.0f}",
            _ms(m.wrk.p50_s),
            _ms(m.wrk.p99_s),
            f"{m.cpu_us_per_request:,.0f}",
            f"{m.settle_s:.1f}",
            str(m.wrk.errors),
            f"{m.load_1m:.2f}",
        ]
        for m in measurements
    ]
    header = [
        "round",
        "api",
        "server",
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "settle s",
        "errors",
        "load (1 min)",
    ]
    return ["## Every run", "", *_table(header, body), ""]


def render(sessions: Sequence[Session], rows: Sequence[Row], facts: Mapping[str, str]) -> str:
    """The whole report as markdown."""
    lines = ["# Benchmark: the mock against Prism, and against a bare Starlette app", "", "## Setup", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    lines.append("")
    for api in dict.fromkeys(r.api for r in rows):
        lines += _comparison(rows, api)
    lines += _ceiling(rows)
    lines += _servers(sessions, rows)
    lines += _bars(rows, sessions)
    lines += _flags(sessions)
    lines += _rounds(sessions)
    return "\n".join(lines) + "\n"
