"""Resident memory of `serve --api current` under a long tool-use run with the store capped.

    python bench/memory_soak.py [--seconds 600] [--clients 8] [--max-chats 20] [--max-messages 2000]
                                [--allocator default|malloc|pymalloc] [--every 10]

Starts `chats-mock serve --api current --speed 50 --max-chats N --max-messages M`, then
`--clients` loops each create a chat with `/tool-use` and post `/tool-use` into it again as soon
as its run ends (a tool-use run stores a user message, two assistant messages with tool calls,
two tool results and the answer), for `--seconds`. The store's caps evict the oldest chats, so
what is stored stays bounded: RSS should too. Every `--every` seconds it prints one line (time,
RSS, requests done, the machine's 1-minute load); at the end, the first sample after the warm-up
(the first minute, or a tenth of the run), the last, the peak and the growth from warm-up to
the end. `--allocator` picks what `serve` runs on: its default, or PYTHONMALLOC set.
Bounded: every request has a timeout, and it stops the server itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procstat import ProcTree

ROOT = Path(__file__).resolve().parent.parent
ALICE = {"Coder-Session-Token": "alice00001-AliceDemoSessionSecret"}
ORGANIZATION = "7c60d51f-b44e-4682-87d6-449835ea4de6"
MIB = 1024 * 1024


def _start(allocator: str, *argv: str) -> tuple[subprocess.Popen[str], str]:
    environment = dict(os.environ)
    environment.pop("PYTHONMALLOC", None)
    if allocator != "default":
        environment["PYTHONMALLOC"] = allocator
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--api", "current", "--port", "0", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    banner = process.stdout.readline() if process.stdout else ""
    if "http://" not in banner:
        process.kill()
        raise SystemExit(f"the mock did not start: {banner!r}")
    return process, banner.split("http://")[1].split("/")[0]


async def _drain(address: str, chat: str, frames: list[int]) -> None:
    """A UI's stream of the chat: every frame read until the client moves on."""
    url = f"ws://{address}/api/v2/chats/{chat}/stream"
    async with websockets.connect(url, additional_headers=ALICE, max_size=None) as socket:
        async for _ in socket:
            frames[0] += 1


async def _client(
    address: str, http: httpx.AsyncClient, deadline: float, done: list[int], message_bytes: int
) -> None:
    frames = [0]
    while time.monotonic() < deadline:
        created = await http.post(
            "/chats",
            json={"organization_id": ORGANIZATION, "content": [{"type": "text", "text": "/tool-use go"}]},
        )
        if created.status_code != 201:
            await asyncio.sleep(0.1)
            continue
        chat = created.json()["id"]
        done[0] += 1
        stream = asyncio.ensure_future(_drain(address, chat, frames))
        try:
            await _runs(http, chat, deadline, done, message_bytes)
        finally:
            stream.cancel()
            await asyncio.gather(stream, return_exceptions=True)


async def _runs(
    http: httpx.AsyncClient, chat: str, deadline: float, done: list[int], message_bytes: int
) -> None:
    """Five tool-use runs in one chat, each sent once the one before has ended."""
    for _ in range(5):
        while time.monotonic() < deadline:
            state = await http.get(f"/chats/{chat}")
            done[0] += 1
            if state.status_code != 200 or state.json()["status"] in ("waiting", "error"):
                break
            await asyncio.sleep(0.05)
        if time.monotonic() >= deadline:
            return
        sent = await http.post(
            f"/chats/{chat}/messages",
            json={"content": [{"type": "text", "text": "/tool-use again " + "x" * message_bytes}]},
        )
        done[0] += 1
        if sent.status_code != 200:
            return
        page = await http.get(f"/chats/{chat}/messages", params={"limit": 50})
        done[0] += 1
        if page.status_code != 200:
            return


async def _soak(
    address: str, tree: ProcTree, seconds: float, clients: int, every: float, message_bytes: int
) -> list[tuple[float, int]]:
    samples: list[tuple[float, int]] = []
    done = [0]
    started = time.monotonic()
    deadline = started + seconds
    async with httpx.AsyncClient(base_url=f"http://{address}/api/v2", headers=ALICE, timeout=30) as http:
        workers = [
            asyncio.ensure_future(_client(address, http, deadline, done, message_bytes))
            for _ in range(clients)
        ]
        while time.monotonic() < deadline:
            await asyncio.sleep(min(every, max(0.0, deadline - time.monotonic())))
            rss = tree.rss_bytes()
            elapsed = time.monotonic() - started
            samples.append((elapsed, rss))
            load = os.getloadavg()[0]
            print(
                f"{elapsed:7.0f} s  RSS {rss / MIB:7.1f} MiB  requests {done[0]:7d}  load {load:.1f}",
                flush=True,
            )
        await asyncio.gather(*workers, return_exceptions=True)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-chats", type=int, default=20)
    parser.add_argument("--max-messages", type=int, default=2000)
    parser.add_argument("--allocator", choices=("default", "malloc", "pymalloc"), default="default")
    parser.add_argument("--every", type=float, default=10)
    parser.add_argument("--clock", choices=("real", "instant"), default="real")
    parser.add_argument("--message-bytes", type=int, default=4000, help="text added to each post")
    args = parser.parse_args()
    process, address = _start(
        args.allocator,
        "--speed",
        "50",
        "--clock",
        args.clock,
        "--max-chats",
        str(args.max_chats),
        "--max-messages",
        str(args.max_messages),
    )
    try:
        tree = ProcTree(process.pid)
        print(f"idle RSS {tree.rss_bytes() / MIB:.1f} MiB, allocator {args.allocator}", flush=True)
        samples = asyncio.run(
            _soak(address, tree, args.seconds, args.clients, args.every, args.message_bytes)
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    warm = next((rss for at, rss in samples if at >= min(60.0, args.seconds / 10)), samples[0][1])
    last = samples[-1][1]
    peak = max(rss for _, rss in samples)
    print(
        f"after warm-up {warm / MIB:.1f} MiB, last {last / MIB:.1f} MiB, peak {peak / MIB:.1f} MiB, "
        f"growth {100 * (last - warm) / warm:+.1f} % (target: within 20 %)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
