"""Benchmark the mock against Prism: python bench/run.py [--rounds N] [--duration S] ..."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import Client
from bench.endpoints import ENDPOINTS, Endpoint, Fixtures
from bench.fanout import appended_section
from bench.procstat import ProcTree, cpu_busy_ticks
from bench.report import render
from bench.results import Measurement, Session, rows
from bench.servers import ServerSpec, server_specs
from bench.wrk import lua_script, parse_output, wrk_argv

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Settings:
    """What the command line chose."""

    rounds: int
    duration_s: float
    warmup_s: float
    connections: int
    threads: int
    server_cpu: int
    load_cpu: int
    workdir: Path  # logs, wrk scripts and raw wrk output of this run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _problems(specs: Sequence[ServerSpec], python: str) -> list[str]:
    problems = []
    if shutil.which("wrk") is None:
        problems.append("wrk is missing: apt-get install -y wrk")
    if shutil.which("taskset") is None:
        problems.append("taskset is missing: apt-get install -y util-linux")
    for spec in specs:
        if spec.name == "prism" and not Path(spec.argv[0]).exists():
            problems.append("Prism is missing: npm ci --prefix bench")
        if spec.name == "mock":
            probe = [
                python,
                "-c",
                "import importlib.util as u, sys; sys.exit(u.find_spec('mockserver.__main__') is None)",
            ]
            if subprocess.run(probe, cwd=ROOT, check=False).returncode != 0:
                problems.append(f"{python} cannot run `-m mockserver` from {ROOT}")
    return problems


def _settle(tree: ProcTree, window_s: float = 0.2, timeout_s: float = 10.0) -> float:
    """Wait until the server stops burning CPU (deferred work such as an agent loop)."""
    started = time.monotonic()
    before = tree.cpu_seconds()
    while time.monotonic() - started < timeout_s:
        time.sleep(window_s)
        after = tree.cpu_seconds()
        if after - before <= 0.01:  # at most one clock tick in the window
            break
        before = after
    return time.monotonic() - started


def _wrk(settings: Settings, url: str, script: Path, duration_s: float, log: Path) -> str:
    argv = [
        "taskset",
        "-c",
        str(settings.load_cpu),
        *wrk_argv(
            url,
            str(script),
            threads=settings.threads,
            connections=settings.connections,
            duration_s=duration_s,
        ),
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=duration_s + 60)
    log.write_text(out.stdout + out.stderr)
    return out.stdout


def _measure(
    settings: Settings,
    spec: ServerSpec,
    tree: ProcTree,
    port: int,
    endpoint: Endpoint,
    fixtures: Fixtures,
    round_no: int,
) -> Measurement:
    headers = {"Coder-Session-Token": spec.token}
    if endpoint.body is not None:
        headers["Content-Type"] = "application/json"
    slug = f"r{round_no}-{spec.name}-{endpoint.name.replace(' ', '-')}"
    script = settings.workdir / f"{slug}.lua"
    script.write_text(
        lua_script(endpoint.method, spec.base_path + endpoint.resolve(fixtures), headers, endpoint.body)
    )
    url = f"http://127.0.0.1:{port}"
    if settings.warmup_s > 0:
        _wrk(settings, url, script, settings.warmup_s, settings.workdir / f"{slug}.warmup.txt")
        _settle(tree)
    cpu_before = tree.cpu_seconds()
    result = parse_output(_wrk(settings, url, script, settings.duration_s, settings.workdir / f"{slug}.txt"))
    settle_s = _settle(tree)
    return Measurement(
        server=spec.name,
        endpoint=endpoint.name,
        round=round_no,
        wrk=result,
        cpu_s=tree.cpu_seconds() - cpu_before,
        settle_s=settle_s,
        rss_bytes=tree.rss_bytes(),
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The server leads its own session (start_new_session), so its group is ours alone.
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _quiet_cpu(cpu: int, window_s: float = 0.1, busy_max: float = 0.1, timeout_s: float = 5.0) -> None:
    """Wait until `cpu` is nearly idle: what the last server left (e.g. its exit) is done."""
    started = time.monotonic()
    busy, total = cpu_busy_ticks(cpu)
    while time.monotonic() - started < timeout_s:
        time.sleep(window_s)
        busy_now, total_now = cpu_busy_ticks(cpu)
        if total_now > total and (busy_now - busy) / (total_now - total) <= busy_max:
            return
        busy, total = busy_now, total_now


@contextmanager
def _started(
    spec: ServerSpec, settings: Settings, log_name: str
) -> Iterator[tuple[int, ProcTree, Client, float]]:
    """A server spawned on its CPU and answering: its port, process tree, client and start-up in s."""
    port = _free_port()
    argv = ["taskset", "-c", str(settings.server_cpu), *spec.command(port)]
    client = Client(port=port, base_path=spec.base_path, token=spec.token)
    _quiet_cpu(settings.server_cpu)  # start-up is timed on a CPU nothing else is using
    with (settings.workdir / log_name).open("wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            startup_s = client.wait_ready(started)
            yield port, ProcTree(proc.pid), client, startup_s
        finally:
            _stop(proc)


def first_start(settings: Settings, spec: ServerSpec, log_name: str) -> float:
    """Start a server until it answers, then stop it; returns its start-up, which no bar judges."""
    with _started(spec, settings, log_name) as (_, _, _, startup_s):
        return startup_s


def run_session(settings: Settings, spec: ServerSpec, round_no: int) -> Session:
    """Start one server twice (time both), load every endpoint, stop it."""
    # Start-up is judged warm, like hyperfine's --warmup: this machine's kernel pages out page
    # cache that nothing read for a minute (DAMON), so without a start just before, each round
    # would time reading the server's files from disk, a figure of the VM and not of the server.
    first_start_s = first_start(settings, spec, f"r{round_no}-{spec.name}.first-start.log")
    with _started(spec, settings, f"r{round_no}-{spec.name}.server.log") as (port, tree, client, startup_s):
        rss_idle = tree.rss_bytes()
        fixtures = client.fixtures()
        measurements = tuple(
            _measure(settings, spec, tree, port, endpoint, fixtures, round_no) for endpoint in ENDPOINTS
        )
    return Session(spec.name, round_no, startup_s, rss_idle, measurements, first_start_s)


def _version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def facts(settings: Settings, specs: Sequence[ServerSpec], python: str) -> dict[str, str]:
    """The machine, the versions and the settings, for the report's header."""
    packages = ["connexion", "uvicorn", "uvloop", "httptools", "starlette"]
    probe = (
        "import importlib.metadata as m, platform; print('Python', platform.python_version(),"
        + " ".join(f"'{p}', m.version('{p}')," for p in packages)
        + ")"
    )
    found = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{os.cpu_count()} CPUs ({_cpu_model()}), {platform.system()} {platform.release()}",
        "pinning": f"servers on CPU {settings.server_cpu}, wrk on CPU {settings.load_cpu} (taskset)",
        "load": f"wrk, {settings.threads} threads, {settings.connections} connections, "
        f"{settings.duration_s:g} s per run after {settings.warmup_s:g} s of warm-up, "
        f"{settings.rounds} rounds; each round starts every server afresh, in turn",
        "wrk": _version(["wrk", "-v"]),
    }
    for spec in specs:
        found[f"{spec.name} command"] = "`" + " ".join(spec.argv) + "`"
        if spec.name == "prism":
            found["prism version"] = _version([spec.argv[0], "--version"])
            found["node"] = _version(["node", "--version"])
        if spec.name == "mock":
            found["mock runtime"] = _version([python, "-c", probe])
    return found


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of unrecorded load per endpoint before each run (0: none)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--servers", default="mock,prism", help="comma-separated, run in this order each round"
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter for the mock")
    parser.add_argument(
        "--mock-arg",
        action="append",
        default=[],
        help="extra argument for `mockserver serve` (repeatable)",
    )
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "REPORT.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the report; the exit code is 2 when a tool is missing."""
    args = _arguments(argv)
    known = server_specs(ROOT, args.python, args.mock_arg)
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown server(s) {unknown}; known: {sorted(known)}", file=sys.stderr)
        return 2
    specs = [known[n] for n in names]
    problems = _problems(specs, args.python)
    if problems:
        print("cannot run the benchmark:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if "mock" in names:
        # Start-up is measured as a user meets it after installing: with bytecode on disk (an
        # editable install under PYTHONDONTWRITEBYTECODE would compile the project on every start).
        subprocess.run(
            [args.python, "-m", "compileall", "-q", "mockserver", "contracts", "openapi"],
            cwd=ROOT,
            check=True,
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = ROOT / "bench" / "results" / stamp
    workdir.mkdir(parents=True)
    settings = Settings(
        args.rounds,
        args.duration,
        args.warmup,
        args.connections,
        args.threads,
        args.server_cpu,
        args.load_cpu,
        workdir,
    )
    sessions = []
    for round_no in range(1, settings.rounds + 1):
        for spec in specs:
            print(f"round {round_no}/{settings.rounds}: {spec.name}", file=sys.stderr, flush=True)
            sessions.append(run_session(settings, spec, round_no))
    found = facts(settings, specs, args.python)
    found["raw wrk output and server logs"] = f"`{workdir.relative_to(ROOT)}` (not committed)"
    # The fan-out section (bench/fanout.py) is another run's: kept as it was.
    args.out.write_text(appended_section(render(sessions, rows(sessions), found), args.out))
    print(f"wrote {args.out} (raw output in {workdir})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
