"""The records a benchmark run produces, and the medians the report is made of."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.wrk import WrkResult

__all__ = ["Measurement", "Row", "Session", "rows"]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One wrk run of one endpoint against one server in one round."""

    server: str
    endpoint: str
    round: int
    wrk: WrkResult
    cpu_s: float  # server CPU over the run and the settle after it
    settle_s: float  # how long the server kept burning CPU after wrk stopped
    rss_bytes: int  # after the run
    api: str = "v1"  # the generation served (`serve --api`)
    load_1m: float = float("nan")  # the machine's 1-minute load average as the run began

    @property
    def cpu_us_per_request(self) -> float:
        """Server CPU time per completed request, in microseconds."""
        return self.cpu_s / max(1, self.wrk.requests) * 1e6


@dataclass(frozen=True, slots=True)
class Session:
    """One start of one server in one round, and what was measured while it lived."""

    server: str
    round: int
    startup_s: float  # warm: right after an unrecorded start, so the server's files are in the page cache
    rss_idle_bytes: int
    measurements: tuple[Measurement, ...]
    first_start_s: float = float("nan")  # that unrecorded start: the files may have to come from disk
    api: str = "v1"


@dataclass(frozen=True, slots=True)
class Row:
    """Medians over rounds for one server and one endpoint."""

    api: str
    server: str
    endpoint: str
    req_per_s: float
    req_per_s_min: float
    req_per_s_max: float
    p50_s: float
    p99_s: float
    cpu_us_per_request: float
    rss_bytes: int  # the largest seen after a run
    errors: int  # summed over rounds: status >= 400 and socket errors
    rounds: int
    load_1m: float  # median of the runs' load averages


def _row(measurements: Sequence[Measurement]) -> Row:
    rates = [m.wrk.req_per_s for m in measurements]
    return Row(
        api=measurements[0].api,
        server=measurements[0].server,
        endpoint=measurements[0].endpoint,
        req_per_s=statistics.median(rates),
        req_per_s_min=min(rates),
        req_per_s_max=max(rates),
        p50_s=statistics.median(m.wrk.p50_s for m in measurements),
        p99_s=statistics.median(m.wrk.p99_s for m in measurements),
        cpu_us_per_request=statistics.median(m.cpu_us_per_request for m in measurements),
        rss_bytes=max(m.rss_bytes for m in measurements),
        errors=sum(m.wrk.errors for m in measurements),
        rounds=len(measurements),
        load_1m=statistics.median(m.load_1m for m in measurements),
    )


def rows(sessions: Sequence[Session]) -> list[Row]:
    """One row per generation, server and endpoint, in the order first measured."""
    groups: dict[tuple[str, str, str], list[Measurement]] = {}
    for session in sessions:
        for m in session.measurements:
            groups.setdefault((m.api, m.server, m.endpoint), []).append(m)
    return [_row(group) for group in groups.values()]
