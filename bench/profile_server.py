"""Where `serve` spends a request's CPU: py-spy samples the running server under wrk's load.

python bench/profile_server.py [--api v1|current] [--endpoint "get chat"] [--checkout DIR]

Starts `chats-mock serve` from a checkout (this one, or `--checkout` for another, e.g. an older
commit to compare with), pinned to CPU 0, creates the bench's fixtures over HTTP, runs wrk on
CPU 1 against one endpoint and samples the server with py-spy (`pip install py-spy`) for
`--seconds`. Prints markdown: CPU µs per request over the sampled run, then the functions with
the most samples of their own and the frames with the most samples under them (Python frames
only; idle time is not sampled). The profile section of bench/REPORT.md is made of its output.
`--native` samples C frames too (libc's malloc and write, the collector's gc_collect_main; py-spy
then stops the server for each sample, so its CPU per request reads higher), `--save FILE` keeps
the raw samples (one stack a line, then its count) for a closer look.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import Client
from bench.endpoints import endpoints_of
from bench.procstat import ProcTree
from bench.servers import DEMO_TOKEN
from bench.wrk import lua_script, parse_output

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tables(raw: Path, top: int) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            under[frame] += samples
    share = 100 / max(total, 1)
    # Frames every request passes through above the app (the loop, uvicorn's runner) say nothing.
    request = max(
        (n for f, n in under.items() if f.startswith("RequestResponseCycle.run_asgi")), default=total
    )
    inner = [
        (f, n) for f, n in under.most_common() if n < request or f.startswith("RequestResponseCycle.run_asgi")
    ]
    return (
        total,
        [(f, n * share) for f, n in own.most_common(top)],
        [(f, n * share) for f, n in inner[:top]],
    )


def main(argv: list[str] | None = None) -> int:
    """Profile one endpoint of a running `serve` and print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="v1", choices=("v1", "current"))
    parser.add_argument("--endpoint", default="get chat")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose `serve` runs")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--native", action="store_true", help="sample C frames too (py-spy --native)")
    parser.add_argument("--save", type=Path, help="keep py-spy's raw samples in this file")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(args.python).parent / "py-spy")
    if not Path(py_spy).exists() or shutil.which("wrk") is None:
        print("needs py-spy (pip install py-spy) and wrk (apt-get install -y wrk)", file=sys.stderr)
        return 2
    endpoints, _ = endpoints_of(args.api)
    endpoint = next(e for e in endpoints if e.name == args.endpoint)
    port = _free_port()
    argv_serve = ["taskset", "-c", "0", args.python, "-m", "mockserver", "serve", "--api", args.api]
    proc = subprocess.Popen(
        [*argv_serve, "--port", str(port)],
        cwd=args.checkout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = Client(port=port, base_path="/api/v2", token=DEMO_TOKEN)
        client.wait_ready(time.monotonic())
        fixtures = client.fixtures(args.api)
        headers = {"Coder-Session-Token": DEMO_TOKEN, "Content-Type": "application/json"}
        rotate = (
            [f"/api/v2{endpoint.resolve(fixtures, i)}" for i in range(len(fixtures.write_chats))]
            if endpoint.rotates
            else []
        )
        with tempfile.TemporaryDirectory() as work:
            script = Path(work) / "load.lua"
            script.write_text(
                lua_script(
                    endpoint.method, "/api/v2" + endpoint.resolve(fixtures), headers, endpoint.body, rotate
                )
            )
            raw = Path(work) / "samples.txt"
            wrk = subprocess.Popen(
                [
                    "taskset",
                    "-c",
                    "1",
                    "wrk",
                    "-t2",
                    "-c32",
                    f"-d{round(args.seconds + 3)}s",
                    "--latency",
                    f"--script={script}",
                    f"http://127.0.0.1:{port}",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # warm
            tree = ProcTree(proc.pid)
            cpu_before = tree.cpu_seconds()
            subprocess.run(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(proc.pid),
                    "--duration",
                    str(round(args.seconds)),
                    "--rate",
                    str(args.rate),
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    # --native needs the process stopped while its stack is read (slower, ~exact).
                    *(["--native"] if args.native else ["--nonblocking"]),
                ],
                check=True,
                capture_output=True,
            )
            cpu_s = tree.cpu_seconds() - cpu_before
            out, _ = wrk.communicate()
            result = parse_output(out)
            total, own, under = _tables(raw, args.top)
            if args.save:
                shutil.copyfile(raw, args.save)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    # wrk ran about seconds + 3; the sampled window is `seconds` of it, at the run's rate.
    requests = result.req_per_s * args.seconds
    load = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"**{args.api} {endpoint.name}** (`{args.checkout}`): {result.req_per_s:,.0f} req/s, "
        f"{cpu_s / max(requests, 1) * 1e6:,.0f} µs CPU per request (sampled window), {total:,} samples, "
        f"load {load}\n"
    )
    print("| own samples | function |\n|---|---|")
    for frame, share in own:
        print(f"| {share:.1f} % | `{frame}` |")
    print("\n| samples under (the request's frames) | frame |\n|---|---|")
    for frame, share in under:
        print(f"| {share:.1f} % | `{frame}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
