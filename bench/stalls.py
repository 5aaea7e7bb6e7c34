"""Stalls and stops of a real `chats-mock serve`: python bench/stalls.py [--rows N] [--stalled N]

Two measurements, against the mock as `serve` runs it, over loopback:

- **A large transcript beside a small request.** A chat gets `--rows` posts of 250 kB (echo
  quotes each: ~0.5 MB of transcript per post), then one client lists it while another asks for
  a small chat every 5 ms. Reported: how long the list took, the slowest small GET meanwhile
  (the event loop's longest stall, as a client sees it), and the slowest in the second before,
  alone (what this machine's scheduling adds anyway). Before the list went out in pieces, a
  2 ms GET waited out the whole encoding.
  In-process, without sockets, the longest the event loop is held between two pieces of the
  same list (a piece is about 256 kB, or one row when a row is longer).
- **SIGTERM with work in flight.** `--stalled` uploads that sent 10 bytes of 100, as many
  watchers on watch-ws and as many requests held by a minute-long latency rule; then SIGTERM.
  Reported: the time from the signal to the process's exit, its exit code, the close codes the
  watchers got, the answers of the held and stalled requests, and whether the log has a traceback.

It prints a Markdown table. Bounded: every wait has a timeout, and it stops the server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "alice00001-AliceDemoSessionSecret"
ALICE = {"Coder-Session-Token": TOKEN}


def _start(*argv: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = process.stdout.readline() if process.stdout else ""
    if "http://" not in banner:
        process.kill()
        raise SystemExit(f"the mock did not start: {banner!r}")
    return process, banner.split("http://")[1].split("/")[0]


async def _large_beside_small(address: str, rows: int) -> dict[str, float]:
    base = f"http://{address}/api/v2"
    async with httpx.AsyncClient(base_url=base, headers=ALICE, timeout=120) as http:
        big = (await http.post("/chats", json={"provider": "p", "model": "m"})).json()["id"]
        small = (await http.post("/chats", json={"provider": "p", "model": "m"})).json()["id"]
        for _ in range(rows):
            await http.post(f"/chats/{big}/messages", json={"content": "x" * 250_000})
        await asyncio.sleep(0.5)  # the echo runs write their rows
        small_times: list[float] = []
        listing = True

        async def ticker() -> None:
            while listing:
                started = time.perf_counter()
                await http.get(f"/chats/{small}")
                small_times.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)

        ticking = asyncio.ensure_future(ticker())
        await asyncio.sleep(1.0)  # the small GETs alone first: this machine's own noise
        alone = max(small_times)
        small_times.clear()
        started = time.perf_counter()
        # By curl, in a process of its own: reading 30 MB here would hold up the ticker too.
        curl = await asyncio.create_subprocess_exec(
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            "-H",
            f"Coder-Session-Token: {TOKEN}",
            f"{base}/chats/{big}/messages",
            stdout=asyncio.subprocess.PIPE,
        )
        size = int((await curl.communicate())[0])
        took = time.perf_counter() - started
        listing = False
        await ticking
        return {
            "transcript_mb": size / 1e6,
            "list_s": took,
            "small_max_ms": max(small_times) * 1000,
            "alone_max_ms": alone * 1000,
            "small_count": len(small_times),
        }


async def _stop_with_work_in_flight(
    process: subprocess.Popen[str], address: str, count: int
) -> dict[str, Any]:
    host, port = address.rsplit(":", 1)
    base = f"http://{address}"
    async with httpx.AsyncClient(base_url=base, headers=ALICE, timeout=60) as http:
        chat = (await http.post("/api/v2/chats", json={"provider": "p", "model": "m"})).json()["id"]
        await http.post("/__mock/faults", json={"method": "GET", "path": "/chats/*", "latency_ms": 60_000})
        watchers = [
            await websockets.connect(
                f"ws://{address}/api/v2/chats/{chat}/messages/watch-ws", additional_headers=ALICE
            )
            for _ in range(count)
        ]
        for watcher in watchers:
            await watcher.recv()
        uploads = []
        for _ in range(count):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                b"POST /api/v2/chats HTTP/1.1\r\nhost: mock\r\ncoder-session-token: "
                + TOKEN.encode()
                + b"\r\ncontent-length: 100\r\n\r\n0123456789"
            )
            uploads.append((reader, writer))
        held = [asyncio.ensure_future(http.get(f"/api/v2/chats/{chat}")) for _ in range(count)]
        await asyncio.sleep(1.0)  # for the held requests to reach the server
        signalled = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
        took = time.perf_counter() - signalled

        async def close_code(watcher: Any) -> int | None:
            try:
                while True:
                    await asyncio.wait_for(watcher.recv(), 10)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

        codes = collections.Counter([await close_code(watcher) for watcher in watchers])
        answers: collections.Counter[object] = collections.Counter()
        for request in held:
            try:
                answers[(await request).status_code] += 1
            except httpx.HTTPError:
                answers["error"] += 1
        stalled: collections.Counter[str] = collections.Counter()
        for reader, writer in uploads:
            head = await asyncio.wait_for(reader.read(), 10)
            stalled[head.split(b" ", 2)[1].decode() if head else "closed"] += 1
            writer.close()
    log = process.stderr.read() if process.stderr else ""
    return {
        "exit_s": took,
        "code": code,
        "close_codes": dict(codes),
        "held": dict(answers),
        "stalled": dict(stalled),
        "traceback": "Traceback" in log,
    }


async def _longest_piece(rows: int) -> dict[str, float]:
    """In-process, no sockets: the longest the loop is held between two pieces of a listed transcript."""
    from mockserver import ImmediateScheduler, Settings, create_app

    app = create_app(Settings(validate_responses=False), scheduler=ImmediateScheduler())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=ALICE) as http:
        chat = (await http.post("/api/v2/chats", json={"provider": "p", "model": "m"})).json()["id"]
        for _ in range(rows):
            await http.post(f"/api/v2/chats/{chat}/messages", json={"content": "x" * 250_000})
    gaps: list[float] = []
    last = time.perf_counter()

    async def send(message: Any) -> None:
        nonlocal last
        now = time.perf_counter()
        if message["type"] == "http.response.body":
            gaps.append(now - last)
        last = now

    async def receive() -> Any:
        await asyncio.sleep(3600)  # the client never leaves

    path = f"/api/v2/chats/{chat}/messages"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"mock"), (b"coder-session-token", TOKEN.encode())],
        "server": ("mock", 80),
        "client": ("bench", 1),
    }
    await app(scope, receive, send)
    return {"pieces": len(gaps), "longest_ms": max(gaps) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40, help="250 kB posts in the large chat (default: 40)")
    parser.add_argument("--stalled", type=int, default=20, help="each of: uploads, watchers, held requests")
    args = parser.parse_args()

    piece = asyncio.run(_longest_piece(args.rows))
    process, address = _start()
    try:
        stall = asyncio.run(_large_beside_small(address, args.rows))
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    process, address = _start("--control")
    try:
        stop = asyncio.run(_stop_with_work_in_flight(process, address, args.stalled))
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)

    print("| measurement | figure |\n|---|---|")
    print(f"| list of a {stall['transcript_mb']:.1f} MB transcript | {stall['list_s']:.2f} s |")
    print(
        f"| longest hold of the event loop between two of its {piece['pieces']:.0f} pieces (in-process) "
        f"| {piece['longest_ms']:.1f} ms |"
    )
    print(f"| slowest of {stall['small_count']:.0f} small GETs meanwhile | {stall['small_max_ms']:.1f} ms |")
    print(f"| slowest small GET in the second before, alone | {stall['alone_max_ms']:.1f} ms |")
    print(
        f"| SIGTERM with {args.stalled} stalled uploads, {args.stalled} watchers, "
        f"{args.stalled} held requests: exit after | {stop['exit_s']:.2f} s, code {stop['code']} |"
    )
    print(f"| watchers' close codes | {stop['close_codes']} |")
    print(f"| held requests' answers | {stop['held']} |")
    print(f"| stalled uploads' answers | {stop['stalled']} |")
    print(f"| traceback in the log | {'yes' if stop['traceback'] else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
