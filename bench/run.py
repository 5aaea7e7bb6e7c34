"""Benchmark the mock against Prism (both generations) and a bare Starlette ceiling: python bench/run.py [--rounds N] ..."""

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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import Client
from bench.endpoints import GENERATIONS, GET_CHAT, Endpoint, Fixtures, endpoints_of
from bench.procstat import ProcTree, cpu_busy_ticks
from bench.report import kept_sections, render
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


def load_1m() -> float:
    """The machine's load average over the last minute (what `uptime` shows first)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


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


@dataclass(frozen=True, slots=True)
class Running:
    """A started server: what it is, where it listens, and its fixtures."""

    spec: ServerSpec
    api: str
    port: int
    tree: ProcTree
    client: Client
    startup_s: float
    rss_idle_bytes: int
    fixtures: Fixtures


def _measure(settings: Settings, server: Running, endpoint: Endpoint, round_no: int) -> Measurement:
    spec, fixtures = server.spec, server.fixtures
    headers = {"Coder-Session-Token": spec.token}
    if endpoint.body is not None:
        headers["Content-Type"] = "application/json"
    slug = f"r{round_no}-{server.api}-{spec.name}-{endpoint.name.replace(' ', '-')}"
    script = settings.workdir / f"{slug}.lua"
    rotate = (
        [spec.base_path + endpoint.resolve(fixtures, i) for i in range(len(fixtures.write_chats))]
        if endpoint.rotates
        else []
    )
    script.write_text(
        lua_script(
            endpoint.method, spec.base_path + endpoint.resolve(fixtures), headers, endpoint.body, rotate
        )
    )
    url = f"http://127.0.0.1:{server.port}"
    if settings.warmup_s > 0:
        _wrk(settings, url, script, settings.warmup_s, settings.workdir / f"{slug}.warmup.txt")
        _settle(server.tree)
    load = load_1m()
    cpu_before = server.tree.cpu_seconds()
    result = parse_output(_wrk(settings, url, script, settings.duration_s, settings.workdir / f"{slug}.txt"))
    settle_s = _settle(server.tree)
    return Measurement(
        server=spec.name,
        endpoint=endpoint.name,
        round=round_no,
        wrk=result,
        cpu_s=server.tree.cpu_seconds() - cpu_before,
        settle_s=settle_s,
        rss_bytes=server.tree.rss_bytes(),
        api=server.api,
        load_1m=load,
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
    spec: ServerSpec, settings: Settings, log_name: str, **values: str
) -> Iterator[tuple[int, ProcTree, Client, float]]:
    """A server spawned on its CPU and answering: its port, process tree, client and start-up in s."""
    port = _free_port()
    argv = ["taskset", "-c", str(settings.server_cpu), *spec.command(port, **values)]
    client = Client(port=port, base_path=spec.base_path, token=spec.token)
    _quiet_cpu(settings.server_cpu)  # start-up is timed on a CPU nothing else is using
    environment = {**os.environ, **spec.environment}
    with (settings.workdir / log_name).open("wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=environment
        )
        try:
            startup_s = client.wait_ready(started)
            yield port, ProcTree(proc.pid), client, startup_s
        finally:
            _stop(proc)


def first_start(settings: Settings, spec: ServerSpec, log_name: str) -> float:
    """Start a server until it answers, then stop it; returns its start-up, which no bar judges."""
    with _started(spec, settings, log_name) as (_, _, _, startup_s):
        return startup_s


def _running(
    stack: ExitStack,
    settings: Settings,
    spec: ServerSpec,
    api: str,
    round_no: int,
    fixtures: Fixtures | None = None,
    **values: str,
) -> Running:
    """A server started for the rest of `stack`, with its fixtures (made over HTTP unless given)."""
    log_name = f"r{round_no}-{api}-{spec.name}.server.log"
    port, tree, client, startup_s = stack.enter_context(_started(spec, settings, log_name, **values))
    rss_idle = tree.rss_bytes()
    return Running(spec, api, port, tree, client, startup_s, rss_idle, fixtures or client.fixtures(api))


def run_generation(
    settings: Settings, specs: Mapping[str, ServerSpec], api: str, round_no: int, names: Sequence[str]
) -> list[Session]:
    """One round of one generation: its servers started side by side, every endpoint run on
    each in turn (in `names`' order), the ceiling right after the mock's GET chat."""
    endpoints, _ = endpoints_of(api)
    measured: dict[str, list[Measurement]] = {}
    first_starts: dict[str, float] = {}
    with ExitStack() as stack:
        servers: dict[str, Running] = {}
        for name in names:
            # Start-up is judged warm, like hyperfine's --warmup: this machine's kernel pages out
            # page cache that nothing read for a minute (DAMON), so without a start just before,
            # each round would time reading the server's files from disk, a figure of the VM.
            if name == "mock":  # the one start-up a bar judges
                first_starts[name] = first_start(
                    settings, specs[name], f"r{round_no}-{api}-{name}.first-start.log"
                )
            servers[name] = _running(stack, settings, specs[name], api, round_no)
        ceiling = None
        if "ceiling" in specs and "mock" in servers:
            status, body = servers["mock"].client.request(
                "GET", endpoints[0].resolve(servers["mock"].fixtures)
            )
            if status != 200:
                raise RuntimeError(f"the mock's GET chat answered {status}: {body[:300]!r}")
            stored = settings.workdir / f"ceiling-{api}.json"
            stored.write_bytes(body)
            # The ceiling answers any chat: the mock's ids do.
            ceiling = _running(
                stack, settings, specs["ceiling"], api, round_no, servers["mock"].fixtures, body=str(stored)
            )
        for endpoint in endpoints:
            for name in names:
                print(f"  {api} {name}: {endpoint.name}", file=sys.stderr, flush=True)
                measured.setdefault(name, []).append(_measure(settings, servers[name], endpoint, round_no))
                if name == "mock" and ceiling is not None and endpoint.name == GET_CHAT:
                    measured.setdefault("ceiling", []).append(_measure(settings, ceiling, endpoint, round_no))
        running = {**servers, **({"ceiling": ceiling} if ceiling is not None else {})}
        return [
            Session(
                name,
                round_no,
                server.startup_s,
                server.rss_idle_bytes,
                tuple(measured.get(name, ())),
                first_starts.get(name, float("nan")),
                api,
            )
            for name, server in running.items()
        ]


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


def facts(
    settings: Settings, specs: Mapping[str, ServerSpec], python: str, apis: Sequence[str]
) -> dict[str, str]:
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
        f"{settings.rounds} rounds of {', '.join(apis)}; in each round a generation's servers run "
        "side by side and take each endpoint in turn, the order swapped every round",
        "wrk": _version(["wrk", "-v"]),
    }
    for name, spec in specs.items():
        found[f"{name} command"] = "`" + " ".join(spec.argv) + "`"
        if name == "prism":
            found[f"{name} command"] += " (`--api current`: `openapi/current/chats.yaml`)"
            found["prism version"] = _version([spec.argv[0], "--version"])
            found["node"] = _version(["node", "--version"])
        if name == "mock":
            found["mock runtime"] = _version([python, "-c", probe])
    return found


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of unrecorded load per endpoint before each run (0: none)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--servers",
        default="mock,prism,ceiling",
        help="comma-separated: mock, prism, ceiling (the ceiling needs the mock)",
    )
    parser.add_argument(
        "--api", default=",".join(GENERATIONS), help="comma-separated generations (default: v1,current)"
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
    apis = [a.strip() for a in args.api.split(",") if a.strip()]
    if any(api not in GENERATIONS for api in apis):
        print(f"unknown generation in {apis}; known: {', '.join(GENERATIONS)}", file=sys.stderr)
        return 2
    known = server_specs(ROOT, args.python, args.mock_arg)
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown server(s) {unknown}; known: {sorted(known)}", file=sys.stderr)
        return 2
    problems = _problems([known[n] for n in names], args.python)
    if problems:
        print("cannot run the benchmark:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if "mock" in names:
        # Start-up is measured as a user meets it after installing: with bytecode on disk (an
        # editable install under PYTHONDONTWRITEBYTECODE would compile the project on every start).
        subprocess.run(
            [args.python, "-m", "compileall", "-q", "mockserver", "contracts", "openapi", "bench"],
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
    loaded = [n for n in names if n != "ceiling"]
    sessions = []
    loads = [load_1m()]
    for round_no in range(1, settings.rounds + 1):
        order = loaded if round_no % 2 else loaded[::-1]  # A, B then B, A: drift hits both
        for api in apis:
            print(f"round {round_no}/{settings.rounds}: {api}", file=sys.stderr, flush=True)
            specs = server_specs(ROOT, args.python, args.mock_arg, api)
            chosen = {n: specs[n] for n in names}
            sessions += run_generation(settings, chosen, api, round_no, order)
            loads.append(load_1m())
    found = facts(settings, {n: known[n] for n in names}, args.python, apis)
    found["load average (1 min) at the start, after each generation's round"] = ", ".join(
        f"{load:.2f}" for load in loads
    )
    found["raw wrk output and server logs"] = f"`{workdir.relative_to(ROOT)}` (not committed)"
    # The profile, fan-out and stream-load sections are other runs': kept as they were.
    report = render(sessions, rows(sessions), found)
    args.out.write_text(kept_sections(report, args.out))
    print(f"wrote {args.out} (raw output in {workdir})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
