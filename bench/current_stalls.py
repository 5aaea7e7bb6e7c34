"""Stalls and memory of `serve --api current` at the sizes its limits admit: python bench/current_stalls.py

    python bench/current_stalls.py [--posts 200] [--clients 10]

Against a real `chats-mock serve --api current --clock instant` over loopback. While each heavy
request below runs, a small client asks for a chat every 5 ms; the slowest of those small GETs
is how long the server held every other client up (this machine's own noise included: the
slowest in the second before, alone, is printed too).

- **Posts at and past the limits**: one message of `--max-message-parts` parts holding
  `--max-message-bytes` of text (the largest admitted), then one of 125,000 parts (3.9 MB,
  refused with a 400 before a part is read).
- **A long transcript listed**: `--posts` posts of 256 KiB of text (each with its echo: about
  0.5 MB of transcript a post), then a page of 200 messages (the most a page admits) and the
  chat list, each read by curl in a process of its own.
- **Stream clients joining it**: one client, then `--clients` at once, open the chat's stream
  (in a process of their own) and read its snapshot to the end. Reported: the slowest small GET
  meanwhile and the server's peak RSS over its RSS before the join, for one and for all.

Over loopback the slowest small GET includes this machine's scheduling of three busy processes
(the server, the readers, the ticker). So the same work is measured again **in-process**: the
app on one event loop with a probe that sleeps 1 ms at a time and records how late it wakes (the
longest the loop was held), the stream clients as ASGI WebSockets that take every frame at once.

It prints a Markdown table. Bounded: every wait has a timeout, and it stops the server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procstat import ProcTree

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "alice00001-AliceDemoSessionSecret"
ALICE = {"Coder-Session-Token": TOKEN}
ORGANIZATION = "7c60d51f-b44e-4682-87d6-449835ea4de6"
MIB = 1024 * 1024
ROUNDS = 3  # each in-process measurement is repeated: the median and the worst of them are shown

# Reads the snapshot of a chat's stream on N sockets at once (argv: url, N); prints the bytes read.
_READER = """
import asyncio, sys, websockets
async def one(url):
    size = 0
    async with websockets.connect(url, additional_headers={"Coder-Session-Token": sys.argv[3]},
                                  max_size=None, open_timeout=120) as socket:
        while True:
            frame = await asyncio.wait_for(socket.recv(), 300)
            size += len(frame)
            if '"type":"status"' in frame:
                return size
async def main():
    sizes = await asyncio.gather(*(one(sys.argv[1]) for _ in range(int(sys.argv[2]))))
    print(sum(sizes))
asyncio.run(main())
"""


def _start(*argv: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--api", "current", "--port", "0", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    banner = process.stdout.readline() if process.stdout else ""
    if "http://" not in banner:
        process.kill()
        raise SystemExit(f"the mock did not start: {banner!r}")
    return process, banner.split("http://")[1].split("/")[0]


class Ticker:
    """A small GET every 5 ms; the slowest since the last `reset`."""

    def __init__(self, http: httpx.AsyncClient, path: str) -> None:
        self._http = http
        self._path = path
        self.times: list[float] = []
        self._running = True
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while self._running:
            started = time.perf_counter()
            await self._http.get(self._path)
            self.times.append(time.perf_counter() - started)
            await asyncio.sleep(0.005)

    def reset(self) -> None:
        self.times.clear()

    def slowest_ms(self) -> float:
        return max(self.times, default=0.0) * 1000

    async def stop(self) -> None:
        self._running = False
        await self._task


async def _during(ticker: Ticker, work: Callable[[], Awaitable[Any]]) -> tuple[Any, float, float, int]:
    """`work`'s result, its seconds, the slowest small GET meanwhile (ms) and how many ran."""
    ticker.reset()
    started = time.perf_counter()
    result = await work()
    took = time.perf_counter() - started
    await asyncio.sleep(0.02)  # the GET in flight when the work ended
    return result, took, ticker.slowest_ms(), len(ticker.times)


async def _curl(url: str) -> int:
    curl = await asyncio.create_subprocess_exec(
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        "-H",
        f"Coder-Session-Token: {TOKEN}",
        url,
        stdout=asyncio.subprocess.PIPE,
    )
    return int((await curl.communicate())[0])


async def _readers(url: str, count: int, tree: ProcTree) -> tuple[int, int]:
    """Bytes the readers got, and the server's peak RSS while they read."""
    reader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _READER, url, str(count), TOKEN, stdout=asyncio.subprocess.PIPE
    )
    peak = tree.rss_bytes()
    waiting = asyncio.ensure_future(reader.communicate())
    while not waiting.done():
        peak = max(peak, tree.rss_bytes())
        await asyncio.sleep(0.05)
    out = waiting.result()[0].decode().strip()
    return int(out or 0), peak


async def _run(address: str, tree: ProcTree, posts: int, clients: int) -> dict[str, Any]:
    base = f"http://{address}/api/v2"
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, headers=ALICE, timeout=300) as http:

        async def create(text: str) -> str:
            body = {"organization_id": ORGANIZATION, "content": [{"type": "text", "text": text}]}
            created = await http.post("/chats", json=body)
            assert created.status_code == 201, created.text
            return str(created.json()["id"])

        small = await create("small")
        big = await create("big")
        ticker = Ticker(http, f"/chats/{small}")
        await asyncio.sleep(1.0)
        out["alone_ms"] = ticker.slowest_ms()

        parts = [{"type": "text", "text": "x" * 262}] * 1000  # 1000 parts, 262,000 bytes: at the limits
        answer, took, slowest, _ = await _during(
            ticker, lambda: http.post(f"/chats/{small}/messages", json={"content": parts})
        )
        out["admitted_post"] = (answer.status_code, took, slowest)
        many = [{"type": "text", "text": "x"}] * 125_000
        answer, took, slowest, _ = await _during(
            ticker, lambda: http.post(f"/chats/{small}/messages", json={"content": many})
        )
        out["refused_post"] = (answer.status_code, took, slowest)

        text = "x" * 262_000
        for _ in range(posts):
            sent = await http.post(
                f"/chats/{big}/messages", json={"content": [{"type": "text", "text": text}]}
            )
            assert sent.status_code == 200, sent.text
        await asyncio.sleep(0.5)
        size, took, slowest, count = await _during(
            ticker, lambda: _curl(f"{base}/chats/{big}/messages?limit=200")
        )
        out["page"] = (size, took, slowest, count)
        for n in range(500):
            await create(f"chat {n}")
        size, took, slowest, count = await _during(ticker, lambda: _curl(f"{base}/chats"))
        out["chats"] = (size, took, slowest, count)

        await asyncio.sleep(1.0)
        url = f"ws://{address}/api/v2/chats/{big}/stream"
        for label, count in (("one", 1), ("all", clients)):
            before = tree.rss_bytes()
            (size, peak), took, slowest, _ = await _during(
                ticker, functools.partial(_readers, url, count, tree)
            )
            out[f"join_{label}"] = (size, took, slowest, before, peak)
            await asyncio.sleep(3.0)  # what the join freed, given back
        await ticker.stop()
    return out


class LagProbe:
    """How late a 1 ms sleep on the event loop wakes, at worst, since the last `reset`."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - started - 0.001)

    def reset(self) -> None:
        self.worst = 0.0

    def stop(self) -> None:
        self._task.cancel()


async def _asgi_stream_client(app: Any, path: str) -> int:
    """An ASGI WebSocket client of the stream that reads the snapshot to its end; its characters."""
    done = asyncio.Event()
    read = 0
    connected = False

    async def receive() -> dict[str, Any]:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        await done.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        nonlocal read
        if message["type"] == "websocket.send":
            read += len(message["text"])
            if '"type":"status"' in message["text"]:
                done.set()

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"mock"), (b"coder-session-token", TOKEN.encode())],
        "server": ("mock", 80),
        "client": ("bench", 1),
        "scheme": "ws",
        "subprotocols": [],
    }
    await app(scope, receive, send)
    return read


async def _asgi_request(app: Any, method: str, path: str, raw: bytes = b"", query: bytes = b"") -> int:
    """A request straight to the ASGI app, its answer read and dropped; its status. (httpx's ASGI
    transport would add its own copying of a 3.9 MB body or a 50 MB answer to what the probe sees.)"""
    given = False
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.sleep(3600)  # the client never leaves
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [
            (b"host", b"mock"),
            (b"coder-session-token", TOKEN.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
        ],
        "server": ("mock", 80),
        "client": ("bench", 1),
    }
    await app(scope, receive, send)
    return statuses[0]


async def _in_process(posts: int, clients: int) -> dict[str, Any]:
    """The longest hold of the event loop (ms) during each heavy request, the app in-process."""
    from mockserver import ImmediateScheduler, Settings, create_app
    from mockserver.server.collector import settle_collector

    app = create_app(Settings(api="current", validate_responses=False), scheduler=ImmediateScheduler())
    out: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock/api/v2", headers=ALICE) as http:
        body = {"organization_id": ORGANIZATION, "content": [{"type": "text", "text": "big"}]}
        chat = (await http.post("/chats", json=body)).json()["id"]
        for _ in range(posts):
            await http.post(
                f"/chats/{chat}/messages", json={"content": [{"type": "text", "text": "x" * 262_000}]}
            )
        # As `serve` runs: what start-up and the store made frozen, full collections rarer.
        settle_collector()
        probe = LagProbe()
        await asyncio.sleep(0.2)
        idle = []
        for _ in range(ROUNDS):
            probe.reset()
            await asyncio.sleep(1.0)  # nothing to do: this machine's own noise
            idle.append(probe.worst * 1000)
        out["idle"] = idle
        for name, content in (
            ("admitted_post", [{"type": "text", "text": "x" * 262}] * 1000),
            ("refused_post", [{"type": "text", "text": "x"}] * 125_000),
        ):
            raw = json.dumps({"content": content}).encode()
            worst = []
            for _ in range(ROUNDS):
                probe.reset()
                status = await _asgi_request(app, "POST", f"/api/v2/chats/{chat}/messages", raw)
                await asyncio.sleep(0.01)
                worst.append(probe.worst * 1000)
            out[name] = (status, worst)
        worst = []
        for _ in range(ROUNDS):
            probe.reset()
            await _asgi_request(app, "GET", f"/api/v2/chats/{chat}/messages", query=b"limit=200")
            worst.append(probe.worst * 1000)
        page = await http.get(f"/chats/{chat}/messages", params={"limit": 200})
        out["page"] = (len(page.content), worst)
        path = f"/api/v2/chats/{chat}/stream"
        for label, count in (("join_one", 1), ("join_all", clients)):
            worst, took = [], []
            for _ in range(ROUNDS):
                probe.reset()
                started = time.perf_counter()
                sizes = await asyncio.gather(*(_asgi_stream_client(app, path) for _ in range(count)))
                took.append(time.perf_counter() - started)
                worst.append(probe.worst * 1000)
            out[label] = (sum(sizes), statistics.median(took), worst)
        probe.stop()
    return out


def _print_inside(inside: dict[str, Any], clients: int) -> None:
    def shown(worst: list[float]) -> str:
        return f"{statistics.median(worst):.1f} / {max(worst):.1f} ms"

    print(f"\n**In-process: the longest hold of the event loop, median / worst of {ROUNDS} rounds**\n")
    print("| request | longest hold |\n|---|---|")
    print(f"| none, for 1 s (this machine's noise) | {shown(inside['idle'])} |")
    status, worst = inside["admitted_post"]
    print(f"| post of 1,000 parts, 262,000 bytes ({status}) | {shown(worst)} |")
    status, worst = inside["refused_post"]
    print(f"| post of 125,000 parts, 3.9 MB ({status}) | {shown(worst)} |")
    size, worst = inside["page"]
    print(f"| page of 200 messages, {size / 1e6:.1f} MB | {shown(worst)} |")
    for label, key in (("1 stream client", "join_one"), (f"{clients} stream clients", "join_all")):
        size, took, worst = inside[key]
        print(f"| {label} reading the snapshot, {size / 1e6:.0f} MB in all, {took:.2f} s | {shown(worst)} |")


def main() -> int:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--posts", type=int, default=200, help="256 KiB posts in the long chat (default: 200)"
    )
    parser.add_argument(
        "--clients", type=int, default=10, help="stream clients joining at once (default: 10)"
    )
    parser.add_argument("--in-process-only", action="store_true", help="skip the loopback measurements")
    args = parser.parse_args()
    if args.in_process_only:
        _print_inside(asyncio.run(_in_process(args.posts, args.clients)), args.clients)
        return 0
    process, address = _start("--clock", "instant")
    try:
        tree = ProcTree(process.pid)
        result = asyncio.run(_run(address, tree, args.posts, args.clients))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    inside = asyncio.run(_in_process(args.posts, args.clients))
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f}\n")
    print("| measurement | figure | slowest small GET meanwhile |\n|---|---|---|")
    print(f"| small GETs alone, for a second | | {result['alone_ms']:.1f} ms |")
    status, took, slowest = result["admitted_post"]
    print(
        f"| post of 1,000 parts, 262,000 bytes of text (the most admitted) | {status} in {took:.2f} s | {slowest:.1f} ms |"
    )
    status, took, slowest = result["refused_post"]
    print(f"| post of 125,000 parts (3.9 MB) | {status} in {took:.2f} s | {slowest:.1f} ms |")
    size, took, slowest, count = result["page"]
    print(f"| page of 200 messages, {size / 1e6:.1f} MB | {took:.2f} s | {slowest:.1f} ms (of {count}) |")
    size, took, slowest, count = result["chats"]
    print(f"| chat list, 502 chats, {size / 1e6:.2f} MB | {took:.2f} s | {slowest:.1f} ms (of {count}) |")
    one = result["join_one"]
    every = result["join_all"]
    for label, (size, took, slowest, before, peak) in (
        ("1 stream client", one),
        (f"{args.clients} stream clients", every),
    ):
        print(
            f"| {label} joining, snapshot {size / 1e6 / (1 if label.startswith('1 ') else args.clients):.1f} MB each "
            f"| {took:.2f} s; RSS {before / MIB:.0f} -> peak {peak / MIB:.0f} MiB (+{(peak - before) / MIB:.0f}) "
            f"| {slowest:.1f} ms |"
        )
    growth_one = max(one[4] - one[3], 1)
    growth_all = every[4] - every[3]
    print(
        f"| peak RSS, {args.clients} clients over 1 | {every[4] / one[4]:.2f}x "
        f"(growth over the RSS before: {growth_all / growth_one:.2f}x) | |"
    )
    _print_inside(inside, args.clients)
    print(json.dumps({"outside": result, "inside": inside}, default=str), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
