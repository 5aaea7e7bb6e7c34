"""Where a request's CPU goes: python bench/request_profile.py [--api v1|current] [--top N]

Builds the app as `serve` does (request validation on, response validation off, no control
plane, and once it is built the collector settled as `serve` settles it: start-up frozen, serve's
thresholds), calls it in-process with direct ASGI messages (no socket, no HTTP parser: what the app
itself costs), and prints for each endpoint the CPU µs per call (median of batches) and the
top of a cProfile of one batch, by own time and by cumulative time. Load from other processes
inflates wall-clock figures but not much the process's own CPU time, which is what this reads.
`--uvloop` runs it on serve's event loop; `--grow N` first posts N messages (with their agent
runs), as a 12 s wrk run of send message leaves the store (~30k posts).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import json
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import READ_CHAT_POSTS
from bench.endpoints import CURRENT_SEND_BODY, SEND_MESSAGE, WRITE_CHATS, Endpoint, Fixtures, endpoints_of
from mockserver.app.factory import Settings, create_app
from mockserver.core.directory import DEMO_TOKENS
from mockserver.server.collector import settle_collector

__all__ = ["asgi_call", "main"]

TOKEN = DEMO_TOKENS["alice"].encode()
Call = Callable[[], Awaitable[tuple[int, bytes]]]


def asgi_call(app: Any, method: str, path: str, body: bytes) -> Call:
    """One request, sent again and again straight into the ASGI app; returns its status and body."""
    target, _, query = path.partition("?")
    headers = [(b"host", b"bench"), (b"coder-session-token", TOKEN)]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def call() -> tuple[int, bytes]:
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(dict(scope), receive, send)
        return status, b"".join(chunks)

    return call


async def _create(app: Any, create_body: str) -> str:
    status, body = await asgi_call(app, "POST", "/api/v2/chats", create_body.encode())()
    if status != 201:
        raise RuntimeError(f"POST /chats answered {status}: {body[:300]!r}")
    await asyncio.sleep(0.01)  # its run finishes
    chat_id: str = json.loads(body)["id"]
    return chat_id


async def _fixtures(app: Any, api: str, create_body: str) -> Fixtures:
    """The fixtures bench/run.py makes over HTTP (Client.fixtures), made in-process."""
    read_chat = await _create(app, create_body)
    if api != "current":
        return Fixtures(read_chat=read_chat, write_chat=await _create(app, create_body))
    post = asgi_call(app, "POST", f"/api/v2/chats/{read_chat}/messages", CURRENT_SEND_BODY.encode())
    for _ in range(READ_CHAT_POSTS):
        await post()
        await asyncio.sleep(0.01)
    writes = tuple([await _create(app, create_body) for _ in range(WRITE_CHATS)])
    return Fixtures(read_chat=read_chat, write_chat=writes[0], write_chats=writes)


async def _grow(app: Any, api: str, fixtures: Fixtures, posts: int) -> None:
    """Post `posts` messages (each with its agent run) first, as a wrk run leaves the store."""
    send = next(e for e in endpoints_of(api)[0] if e.name == SEND_MESSAGE)
    calls = [
        asgi_call(app, send.method, "/api/v2" + send.resolve(fixtures, i), (send.body or "").encode())
        for i in range(len(fixtures.write_chats) if send.rotates else 1)
    ]
    call = _in_turn(calls)
    for done in range(posts):
        await call()
        if done % 64 == 63:
            await asyncio.sleep(0.002)  # the runs under way finish
    await asyncio.sleep(0.05)


def endpoint_call(app: Any, endpoint: Endpoint, fixtures: Fixtures) -> Call:
    """One call of `endpoint` against the fixtures (a rotating one's chats taken in turn)."""
    calls = [
        asgi_call(
            app, endpoint.method, "/api/v2" + endpoint.resolve(fixtures, i), (endpoint.body or "").encode()
        )
        for i in range(len(fixtures.write_chats) if endpoint.rotates else 1)
    ]
    return _in_turn(calls)


def _in_turn(calls: list[Call]) -> Call:
    """One call that makes each of `calls` in turn."""
    turn = itertools.count()

    async def call() -> tuple[int, bytes]:
        return await calls[next(turn) % len(calls)]()

    return call


async def _batch_us(call: Call, iterations: int) -> float:
    start = time.process_time()
    for _ in range(iterations):
        status, body = await call()
        if status >= 300:
            raise RuntimeError(f"unexpected status {status}: {body[:300]!r}")
        await asyncio.sleep(0)  # deferred work (an agent run) runs, and is charged to its request
    return (time.process_time() - start) / iterations * 1e6


def _top(profile: cProfile.Profile, key: str, count: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(key).print_stats(count)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(lines[start:])


async def _run(args: argparse.Namespace) -> None:
    app = create_app(Settings(api=args.api, validate_responses=args.validate_responses))
    endpoints, create_body = endpoints_of(args.api)
    fixtures = await _fixtures(app, args.api, create_body)
    settle_collector()  # as serve does once it has started: else full collections no server makes
    if args.grow:
        await _grow(app, args.api, fixtures, args.grow)
    for endpoint in endpoints:
        if args.only and endpoint.name not in args.only:
            continue
        call = endpoint_call(app, endpoint, fixtures)

        for _ in range(args.iterations // 4):  # warm-up
            await call()
            await asyncio.sleep(0)
        samples = [await _batch_us(call, args.iterations) for _ in range(args.batches)]
        print(
            f"\n== {args.api} {endpoint.name}: {statistics.median(samples):.0f} µs CPU per call "
            f"(batches: {', '.join(f'{s:.0f}' for s in samples)})"
        )
        if args.top:
            profile = cProfile.Profile()
            profile.enable()
            await _batch_us(call, args.iterations)
            profile.disable()
            for key in args.sort:
                print(f"-- top {args.top} by {key}")
                print(_top(profile, key, args.top))


def main(argv: list[str] | None = None) -> int:
    """Print each endpoint's in-process CPU cost and its profile."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="v1", choices=("v1", "current"))
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--top", type=int, default=0, help="print the top N functions of a profile (0: none)")
    parser.add_argument("--sort", action="append", default=None, help="pstats key: tottime, cumulative")
    parser.add_argument("--only", action="append", default=[], help="endpoint name (repeatable)")
    parser.add_argument("--validate-responses", action="store_true")
    parser.add_argument(
        "--grow", type=int, default=0, help="posts (with their runs) made first, as a load leaves the store"
    )
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop, as serve does")
    args = parser.parse_args(argv)
    args.sort = args.sort or ["tottime"]
    if args.uvloop:
        import uvloop

        uvloop.run(_run(args))
    else:
        asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
