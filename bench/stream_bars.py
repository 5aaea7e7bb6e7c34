"""The stream bars: many watchers of one chat, a post every quarter second, in both generations.

    python bench/stream_bars.py            # ~3 min: V1's 1,000 watchers, then today's 500 stream clients
    python bench/stream_bars.py --no-report

- V1: `--watchers` (1,000) watch-ws clients of one chat, `--posts` (100) echo posts one every
  `--interval` (0.25) s (bench/fanout.py's watchers run, on serve's default allocator). A post's
  latency: from sending it to the moment the last watcher got its `run_finished` row.
- Today's API: `--clients` (500) `GET /chats/{chat}/stream` clients of one chat, the same posts
  (bench/stream_load.py's posts run). A post's latency: from sending it to the moment the last
  client got the run's `waiting` status.

The bar, for both: p99 of the posts' latencies at most 0.25 s, every run complete at every client.
Server on CPU 0, clients on CPU 1 (`--server-cpu`, `--load-cpu`). Writes its section of
bench/REPORT.md (the other commands keep it) unless `--no-report`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import fanout, stream_load  # noqa: E402
from bench.report import KEPT_SECTIONS  # noqa: E402

SECTION_BEGIN = "<!-- stream-bars: written by bench/stream_bars.py -->"
MAX_P99_S = 0.25


def _verdict(p99: float, complete: bool) -> str:
    return "pass" if p99 <= MAX_P99_S and complete else "**FAIL**"


def render(watchers: dict[str, Any], clients: dict[str, Any], command: str, loads: list[str]) -> str:
    """The section: one table, a row per generation."""
    v1_complete = watchers["complete_runs"] == watchers["posts"] and watchers["out_of_order"] == 0
    current_complete = clients["complete"] == clients["clients"]
    rows = [
        (
            f"V1: {watchers['watchers']:,} watch-ws clients, {watchers['posts']} posts every "
            f"{watchers['interval_s']:g} s → last watcher's `run_finished`",
            watchers,
            f"{watchers['complete_runs']} / {watchers['posts']} runs complete at every watcher, "
            f"{watchers['out_of_order']} out of order",
            f"{watchers['cpu_us_per_frame']:.1f} µs a frame",
            v1_complete,
        ),
        (
            f"today's API: {clients['clients']:,} stream clients, {clients['posts']} posts every "
            f"{clients['interval_s']:g} s → last client's `waiting`",
            clients,
            f"{clients['complete']} / {clients['clients']} clients got every event, in order, "
            f"the same sequence; {len(clients['stored_messages_of_the_runs_missing'])} stored "
            "messages missing",
            f"{clients['cpu_us_per_event']:.1f} µs an event",
            current_complete,
        ),
    ]
    lines = [
        SECTION_BEGIN,
        "",
        "## The stream bars: a post every 0.25 s to one chat many clients follow (`bench/stream_bars.py`)",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}`",
        f"- machine: {fanout._machine()}; load average (1 min) before each run: {', '.join(loads)}",
        "",
        "| run | post → last receipt p50 / p99 / max | complete | server CPU | tracebacks | bar: p99 ≤ 0.25 s |",
        "|---|---|---|---|---|---|",
    ]
    for title, figures, complete, cpu, ok in rows:
        lines.append(
            f"| {title} | {figures['latency_p50_s']:.3f} / **{figures['latency_p99_s']:.3f}** / "
            f"{figures['latency_max_s']:.3f} s | {complete} | {cpu} | {figures['tracebacks']} | "
            f"{_verdict(figures['latency_p99_s'], ok)} |"
        )
    return "\n".join([*lines, ""])


def write_section(report: Path, section: str) -> None:
    """Put the section in place of its last version, or before the other commands' sections."""
    text = report.read_text() if report.exists() else ""
    others = [m for m in KEPT_SECTIONS if not SECTION_BEGIN.startswith(m)]
    if SECTION_BEGIN in text:
        head, _, rest = text.partition(SECTION_BEGIN)
        later = min((rest.index(m) for m in others if m in rest), default=len(rest))
        tail = rest[later:]
    else:
        later = min((text.index(m) for m in others if m in text), default=len(text))
        head, tail = text[:later], text[later:]
    report.write_text(head.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n\n" + tail.lstrip("\n"))


def main(argv: list[str] | None = None) -> int:
    """Run both, print the figures, write the section."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs -m mockserver")
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--workers", type=int, default=2, help="processes the clients are split over")
    parser.add_argument("--server-cpu", type=int, default=0, help="the server's CPU (-1: any)")
    parser.add_argument("--load-cpu", type=int, default=1, help="the clients' CPU (-1: any)")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT.md")
    parser.add_argument("--no-report", action="store_true", help="print the figures only")
    parser.add_argument(
        "--only", choices=("v1", "current"), help="run one generation only (prints, writes no report)"
    )
    args = parser.parse_args(argv)
    fanout._raise_fd_limit()
    fanout.PINNING["server"] = None if args.server_cpu < 0 else args.server_cpu
    fanout.PINNING["load"] = None if args.load_cpu < 0 else args.load_cpu
    if fanout.PINNING["load"] is not None:
        os.sched_setaffinity(0, {fanout.PINNING["load"]})
    out = ROOT / "bench" / "results" / f"stream-bars-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out.mkdir(parents=True, exist_ok=True)
    loads = [Path("/proc/loadavg").read_text().split()[0]]
    if args.only != "current":
        watchers = fanout.bench_watchers(args, out)
        print(json.dumps(watchers, indent=1), flush=True)
    loads.append(Path("/proc/loadavg").read_text().split()[0])
    if args.only != "v1":
        clients = stream_load.bench_posts(args, out)
        print(json.dumps(clients, indent=1), flush=True)
    if args.only is not None:
        return 0
    (out / "results.json").write_text(json.dumps({"watchers": watchers, "stream": clients}, indent=1))
    if not args.no_report:
        command = "python bench/stream_bars.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section(args.report, render(watchers, clients, command.strip(), loads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
