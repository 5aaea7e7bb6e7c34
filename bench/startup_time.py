"""Start-up to the first answer, as bench/run.py times it, repeated and interleaved across checkouts.

Each timed start is `taskset -c CPU <python> -m mockserver serve --api API` spawned from a
checkout, polled every 5 ms with `GET /api/v2/chats/<uuid>` until it answers a 2xx or 4xx (bench/client.py's
`wait_ready`), right after an untimed start of the same command (warm, as run.py judges it). For
each start it records the wall time to the first answer and the CPU the server had used by then
(every thread's run time from /proc/<pid>/task/*/schedstat, in ns: the re-exec keeps the pid).
On a machine other work loads, compare the CPU column first.

Each checkout keeps what `serve` caches between starts (prepared documents, compiled start-up
code) in a cache directory of its own for the run (`XDG_CACHE_HOME`), so that checkouts of
different versions do not overwrite each other's; the untimed start fills it. `--env` sets a
variable for the server: `--env PYTHONMALLOC=malloc` starts it on the C allocator without the
re-exec, `--env PYTHONMALLOC=pymalloc` without the C allocator (what the memory-return scheme
costs), `--env XDG_CACHE_HOME=none` with no cache at all (a relative path: ignored).

    python bench/startup_time.py --runs 10                               # this checkout, both generations
    python bench/startup_time.py --checkout . --checkout ../main --runs 10   # interleaved, before/after
    python bench/startup_time.py --env PYTHONMALLOC=pymalloc --runs 10     # without the C allocator
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import Client

__all__ = ["main", "time_start"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """The CPU time every thread of `pid` has run, from the scheduler's nanosecond counters."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def time_start(
    checkout: Path, python: str, api: str, cpu: int, extra: list[str], env: dict[str, str] | None = None
) -> tuple[float, float]:
    """One start of `serve` from `checkout`: (seconds to the first answer, CPU seconds by then)."""
    port = _free_port()
    argv = ["taskset", "-c", str(cpu), python, "-m", "mockserver", "serve", "--api", api]
    argv += ["--host", "127.0.0.1", "--port", str(port), *extra]
    client = Client(port=port, base_path="/api/v2", token="alice00001-AliceDemoSessionSecret")
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=checkout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    try:
        wall = client.wait_ready(started)
        cpu_s = _cpu_seconds(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    return wall, cpu_s


def _python_of(checkout: Path) -> str:
    venv = checkout / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f}  range {min(values):.3f}-{max(values):.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--checkout", action="append", type=Path, help="a checkout (repeatable; default: this one)"
    )
    parser.add_argument(
        "--api", default="v1,current", help="generations, comma-separated (default: v1,current)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed starts per checkout and generation")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU the server is pinned to (default: 0)")
    parser.add_argument("--mock-arg", action="append", default=[], help="an extra argument for serve")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable for the server (repeatable)",
    )
    args = parser.parse_args(argv)
    extra_env = dict(item.partition("=")[::2] for item in args.env)
    caches = tempfile.TemporaryDirectory(prefix="startup-time-")
    checkouts = [c.resolve() for c in (args.checkout or [Path(__file__).resolve().parent.parent])]
    apis = args.api.split(",")
    figures: dict[tuple[Path, str], list[tuple[float, float]]] = {(c, a): [] for c in checkouts for a in apis}
    environments = {
        checkout: {"XDG_CACHE_HOME": str(Path(caches.name) / str(index)), **extra_env}
        for index, checkout in enumerate(checkouts)
    }
    with caches:
        for _ in range(args.runs):
            for api in apis:
                for checkout in checkouts:
                    python, env = _python_of(checkout), environments[checkout]
                    time_start(checkout, python, api, args.cpu, args.mock_arg, env)  # warm: not timed
                    timed = time_start(checkout, python, api, args.cpu, args.mock_arg, env)
                    figures[checkout, api].append(timed)
    for (checkout, api), runs in figures.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{checkout.name:>20} {api:>8}: wall {_summary(walls)}  cpu {_summary(cpus)}  (n={len(runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
