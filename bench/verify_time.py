"""How long a default `chats-mock verify` takes against the local mock (the issue's 60 s budget).

Serves the mock as `chats-mock serve` does (uvicorn, real-time agent, response validation on)
in a background thread on a free port, runs the default `verify` (both demo tokens, default
budget) a few times with different seeds, and prints the wall-clock figures. Run from the
repository root: `python bench/verify_time.py [--runs N] [--expect-agent S]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time

from mockserver import DEMO_TOKENS, AsyncioScheduler, create_app
from mockserver.command.cli import main as chats_mock
from tests.http_server import serving


def main() -> int:
    """Print one line per run and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--expect-agent", type=float, default=None)
    args = parser.parse_args()
    times = []
    for seed in range(args.runs):
        argv = ["verify", "--token", DEMO_TOKENS["alice"], "--token", DEMO_TOKENS["bob"], "--seed", str(seed)]
        if args.expect_agent is not None:
            argv += ["--expect-agent", str(args.expect_agent)]
        with serving(create_app(scheduler=AsyncioScheduler())) as url:
            out = io.StringIO()
            started = time.monotonic()
            with contextlib.redirect_stdout(out):
                code = chats_mock([*argv, "--base-url", url])
            elapsed = time.monotonic() - started
        times.append(elapsed)
        figures = next((line for line in out.getvalue().splitlines() if line.startswith("figures:")), "")
        print(f"seed {seed}: exit {code}, {elapsed:.1f} s wall; {figures}", flush=True)
    print(
        f"default verify against the local mock: median {statistics.median(times):.1f} s, max {max(times):.1f} s "
        f"over {len(times)} runs on {os.cpu_count()} cores (budget: 60 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
