"""The pauses a request waits out at 32 connections: python bench/pauses.py [--api v1|current]

Under wrk's 32 connections a request waits for the ~31 ahead of it and for whatever else holds
the event loop meanwhile: a garbage collection, the agent's deferred writes. This measures that
wait in-process, in the loop thread's CPU time (which load from other processes does not
inflate): `--connections` clients each send their next request as soon as the last is answered,
and a request that arrives goes to the back of the loop's queue, as under uvicorn. The app is
built as `serve` builds it (request validation on, response validation off), the collector set
as `serve` sets it once started (`--gc serve`: mockserver/server/collector.py; `--gc default`:
Python's; or thresholds to try, `--gc 700,10,1000`), the endpoints loaded in bench/run.py's
order, `--requests` calls each, on one store that grows as it does under the benchmark. Run it
as `serve` runs, on the C allocator:

    PYTHONMALLOC=malloc python bench/pauses.py --api current

Printed per endpoint: CPU µs per call, the latency's p50, p99 and max (ms of the loop's CPU;
the server's HTTP layer adds ~55 µs x 32 to each), and the garbage collections meanwhile
(gc.callbacks), by generation: how many, the longest and the total ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.endpoints import endpoints_of
from bench.request_profile import Call, _fixtures, endpoint_call
from mockserver.app.factory import Settings, create_app
from mockserver.server.collector import SERVE_THRESHOLDS

__all__ = ["main"]


class CollectionTimes:
    """Each garbage collection's CPU time, by generation, from gc.callbacks."""

    def __init__(self) -> None:
        self.by_generation: dict[int, list[float]] = defaultdict(list)
        self._started = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time_ns()
        else:
            self.by_generation[info["generation"]].append((time.process_time_ns() - self._started) / 1e6)

    def summary(self) -> str:
        parts = [
            f"gen{generation}: {len(times)} x, longest {max(times):.2f} ms, total {sum(times):.1f} ms"
            for generation, times in sorted(self.by_generation.items())
        ]
        return "; ".join(parts) or "none"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _latencies(call: Call, *, connections: int, requests: int) -> list[float]:
    """Each call's latency in the loop's CPU ms, `connections` clients each sending its next at once.

    As under uvicorn, a request that arrives goes to the back of the loop's queue: it waits
    for the requests ahead of it, the timers that fell due (an agent's deferred writes) and any
    collection, then is served in one go. The thread's CPU time from its arrival to its answer
    is that wait plus its own service, whatever else runs on the machine.
    """
    latencies: list[float] = []
    left = requests

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            arrived = time.thread_time_ns()
            await asyncio.sleep(0)  # to the back of the ready queue, as a new request's task
            status, body = await call()
            latencies.append((time.thread_time_ns() - arrived) / 1e6)
            if status >= 300:
                raise RuntimeError(f"unexpected status {status}: {body[:300]!r}")

    await asyncio.gather(*(client() for _ in range(connections)))
    return latencies


async def _run(args: argparse.Namespace) -> None:
    app = create_app(Settings(api=args.api, validate_responses=False))
    endpoints, create_body = endpoints_of(args.api)
    fixtures = await _fixtures(app, args.api, create_body)
    if args.gc != "default":
        gc.freeze()
        gc.set_threshold(*(SERVE_THRESHOLDS if args.gc == "serve" else map(int, args.gc.split(","))))
    times = CollectionTimes()
    gc.callbacks.append(times)
    for endpoint in endpoints:
        if args.only and endpoint.name not in args.only:
            continue
        call = endpoint_call(app, endpoint, fixtures)
        times.by_generation.clear()
        started = time.thread_time()
        latencies = await _latencies(call, connections=args.connections, requests=args.requests)
        per_call = (time.thread_time() - started) / args.requests * 1e6
        print(
            f"{args.api} {endpoint.name}: {per_call:.0f} µs CPU per call; latency at {args.connections} "
            f"connections (loop CPU ms) p50 {statistics.median(latencies):.2f}, p99 {_quantile(latencies, 0.99):.2f}, "
            f"max {max(latencies):.2f}; collections: {times.summary()}",
            flush=True,
        )
    gc.callbacks.remove(times)


def main(argv: list[str] | None = None) -> int:
    """Print each endpoint's per-call CPU distribution and the collections meanwhile."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="v1", choices=("v1", "current"))
    parser.add_argument("--requests", type=int, default=10_000, help="calls per endpoint")
    parser.add_argument("--connections", type=int, default=32, help="clients, each with one request out")
    parser.add_argument(
        "--gc",
        default="serve",
        help="serve (as serve sets it), default (Python's), or thresholds to try: 700,10,1000",
    )
    parser.add_argument("--only", action="append", default=[], help="endpoint name (repeatable)")
    args = parser.parse_args(argv)
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
