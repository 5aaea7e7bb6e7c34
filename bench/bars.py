"""The project's performance bars, judged on one run's rows and sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.results import Row, Session

__all__ = ["Verdict", "judge"]

SPEEDUP_ENDPOINTS = ("GET chat", "POST chat", "POST message")
MIN_SPEEDUP = 1.5  # mock req/s over Prism (quiet logging) req/s, in the same run
MAX_P99_S = 0.020  # at the run's connection count (the bar is set at 32)
MAX_STARTUP_S = 0.5  # spawn to first answered request


@dataclass(frozen=True, slots=True)
class Verdict:
    """One bar, what was measured against it, and whether it holds."""

    bar: str
    measured: str
    holds: bool | None  # None: not measurable in this run (a server missing or errors seen)


def _speedup(candidate: Row | None, baseline: Row | None, endpoint: str) -> Verdict:
    bar = f"{endpoint}: mock ≥ {MIN_SPEEDUP}x Prism req/s"
    if candidate is None or baseline is None:
        return Verdict(bar, "not run", None)
    ratio = candidate.req_per_s / baseline.req_per_s
    holds = None if candidate.errors or baseline.errors else ratio >= MIN_SPEEDUP
    return Verdict(bar, f"{ratio:.2f}x", holds)


def _p99(row: Row) -> Verdict:
    bar = f"{row.endpoint}: mock p99 ≤ {MAX_P99_S * 1e3:.0f} ms"
    holds = None if row.errors else row.p99_s <= MAX_P99_S
    return Verdict(bar, f"{row.p99_s * 1e3:.2f} ms", holds)


def judge(
    rows: Sequence[Row],
    sessions: Sequence[Session],
    candidate: str = "mock",
    baseline: str = "prism",
) -> list[Verdict]:
    """The verdict on every bar for the candidate server."""
    by_key = {(r.server, r.endpoint): r for r in rows}
    verdicts = [_speedup(by_key.get((candidate, e)), by_key.get((baseline, e)), e) for e in SPEEDUP_ENDPOINTS]
    verdicts += [_p99(r) for r in rows if r.server == candidate]
    startups = [s.startup_s for s in sessions if s.server == candidate]
    bar = f"mock start-up ≤ {MAX_STARTUP_S} s"
    if startups:
        worst = max(startups)
        verdicts.append(Verdict(bar, f"{worst:.3f} s (worst of {len(startups)})", worst <= MAX_STARTUP_S))
    else:
        verdicts.append(Verdict(bar, "not run", None))
    return verdicts
