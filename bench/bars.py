"""The project's performance bars, judged on one run's rows and sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.endpoints import GET_CHAT, SEND_MESSAGE
from bench.results import Row, Session

__all__ = [
    "MAX_CEILING_CPU",
    "MAX_P99_S",
    "MAX_STARTUP_S",
    "MIN_CEILING_SHARE",
    "MIN_SPEEDUP",
    "Verdict",
    "judge",
]

MIN_SPEEDUP = 3.0  # mock req/s over Prism (quiet logging) req/s, every endpoint, in the same run
MAX_P99_S = 0.010  # at the run's connection count (the bar is set at 32)
MAX_STARTUP_S = 0.4  # spawn to first answered request, warm, the worst start of the run
MIN_CEILING_SHARE = 0.5  # the mock's GET chat req/s over the ceiling's
# The mock's CPU per request over the ceiling's GET chat: GET chat, and a post with its agent run.
MAX_CEILING_CPU = {GET_CHAT: 2.0, SEND_MESSAGE: 4.0}


@dataclass(frozen=True, slots=True)
class Verdict:
    """One bar, what was measured against it, and whether it holds."""

    bar: str
    measured: str
    holds: bool | None  # None: not measurable in this run (a server missing or its errors)


def _speedup(api: str, candidate: Row, baseline: Row | None) -> Verdict:
    # Prism's errors are its own (on a loaded machine: answers slower than wrk's 2 s timeout,
    # which its req/s does not count): they are shown, and the ratio is judged all the same.
    bar = f"{api} {candidate.endpoint}: mock ≥ {MIN_SPEEDUP:g}x Prism req/s"
    if baseline is None:
        return Verdict(bar, "Prism not run", None)
    ratio = candidate.req_per_s / baseline.req_per_s
    shown = f"{ratio:.2f}x" + (f" (Prism: {baseline.errors} errors)" if baseline.errors else "")
    holds = None if candidate.errors else ratio >= MIN_SPEEDUP
    return Verdict(bar, shown, holds)


def _p99(row: Row) -> Verdict:
    bar = f"{row.api} {row.endpoint}: mock p99 ≤ {MAX_P99_S * 1e3:.0f} ms, no errors"
    shown = f"{row.p99_s * 1e3:.2f} ms" + (f", {row.errors} errors" if row.errors else "")
    return Verdict(bar, shown, row.p99_s <= MAX_P99_S and not row.errors)


def _against_ceiling(api: str, by_key: dict[tuple[str, str, str], Row]) -> list[Verdict]:
    ceiling = by_key.get((api, "ceiling", GET_CHAT))
    mock_get = by_key.get((api, "mock", GET_CHAT))
    if ceiling is None or mock_get is None:
        return [Verdict(f"{api}: against the ceiling", "ceiling not run", None)]
    share = mock_get.req_per_s / ceiling.req_per_s
    verdicts = [
        Verdict(
            f"{api} {GET_CHAT}: mock ≥ {MIN_CEILING_SHARE:g}x the ceiling's req/s",
            f"{share:.2f}x",
            None if ceiling.errors else share >= MIN_CEILING_SHARE,
        )
    ]
    for endpoint, most in MAX_CEILING_CPU.items():
        row = by_key.get((api, "mock", endpoint))
        if row is None:
            continue
        ratio = row.cpu_us_per_request / ceiling.cpu_us_per_request
        verdicts.append(
            Verdict(
                f"{api} {endpoint}: mock CPU/request ≤ {most:g}x the ceiling's GET chat",
                f"{row.cpu_us_per_request:,.0f} / {ceiling.cpu_us_per_request:,.0f} µs = {ratio:.2f}x",
                ratio <= most,
            )
        )
    return verdicts


def judge(rows: Sequence[Row], sessions: Sequence[Session]) -> list[Verdict]:
    """The verdict on every bar for the mock."""
    by_key = {(r.api, r.server, r.endpoint): r for r in rows}
    verdicts = []
    for api in dict.fromkeys(r.api for r in rows):
        mine = [r for r in rows if r.api == api and r.server == "mock"]
        verdicts += [_speedup(api, r, by_key.get((api, "prism", r.endpoint))) for r in mine]
        verdicts += [_p99(r) for r in mine]
        verdicts += _against_ceiling(api, by_key)
    startups = [s.startup_s for s in sessions if s.server == "mock"]
    bar = f"mock start-up ≤ {MAX_STARTUP_S} s (warm)"
    if startups:
        worst = max(startups)
        verdicts.append(Verdict(bar, f"{worst:.3f} s (worst of {len(startups)})", worst <= MAX_STARTUP_S))
    else:
        verdicts.append(Verdict(bar, "not run", None))
    return verdicts
