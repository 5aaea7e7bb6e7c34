"""The store at scale: python bench/scale.py [--api v1|current] [--chats N] [--messages N] [--iterations N]

Fills a ChatStore through its own API (no HTTP, for speed) with `--chats` chats and
`--messages` transcript rows shaped like real ones (V1: each chat's system prompt, then posted
user messages each followed by the echo agent's four rows; today's API, `--api current`: user
messages each followed by the echo turn's assistant message, copies of the rows a real
`POST /chats` stores), and reports:

- RSS: the process's VmRSS before and after filling (gc collected), and per stored message;
- GC: the objects the collector tracks and the pause of one full collection at that size;
- per-request cost of GET chat and POST message against an empty store and against the full
  one: the app is called in-process with direct ASGI calls (request validation on, response
  validation off as in `serve`), CPU time per call, median of `--batches` batches.

The bars: 1M messages in at most `--max-rss-mib` (512) MiB of RSS, and the full store's cost
within 1.1x of the empty one's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver.app.factory import Settings, create_app
from mockserver.core.clock import system_clock
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.models import ChatStatus, Role
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.core.store import ChatStore
from mockserver.server.collector import SERVE_THRESHOLDS
from mockserver.v1.agent import ScenarioAgent, plan_run, user_message_envelope

TOKEN = DEMO_TOKENS["alice"].encode()
Call = Callable[[], Coroutine[Any, Any, int]]
MAX_RATIO = 1.1  # the full store's cost over the empty one's
_CURRENT_CREATE = b'{"organization_id":"7c60d51f-b44e-4682-87d6-449835ea4de6","content":[{"type":"text","text":"hello there"}]}'
_CURRENT_SEND = b'{"content":[{"type":"text","text":"please summarise the build log"}]}'


def vm_rss_mib() -> float:
    """This process's resident set size, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def fill(store: ChatStore, directory: Directory, chats: int, messages: int) -> None:
    """`chats` chats round-robin over the users, then posts (user row + 4 agent rows) until `messages` rows."""
    users = directory.users
    ids = [
        store.create_chat(
            users[i % len(users)],
            workspace_id=None,
            title=f"chat {i}",
            provider="openai",
            model="gpt-4o",
            metadata={},
        ).id
        for i in range(chats)
    ]
    rows = chats  # each chat's system prompt
    echo = ScenarioLibrary.builtin().select("", {})  # the default scenario's rows, as a run writes them
    for chat_id in itertools.cycle(ids):
        if rows + 5 > messages:
            break
        run_id = uuid.uuid4()
        text = "please summarise the build log"
        store.append_message(chat_id, Role.USER, user_message_envelope(str(run_id), text))
        for burst in plan_run(echo, run_id, text):
            store.append_messages(chat_id, burst.rows)
        rows += 5


def current_turn_rows(directory: Directory) -> list[tuple[Role, Any]]:
    """The rows a real `POST /chats` of today's API stores: the user's message and the echo turn."""
    store = ChatStore(clock=system_clock, new_id=uuid.uuid4)
    app = create_app(
        Settings(api="current", validate_responses=False),
        directory=directory,
        store=store,
        scheduler=ImmediateScheduler(),
    )
    status = asyncio.run(_asgi_call(app, "POST", "/api/v2/chats", _CURRENT_CREATE)())
    if status != 201:
        raise RuntimeError(f"POST /chats answered {status}")
    (chat,) = store.chats_of(directory.users[0])
    return [(m.role, m.content) for m in store.messages_of(chat.id)]


def fill_current(store: ChatStore, directory: Directory, chats: int, messages: int) -> None:
    """`chats` chats of today's API round-robin over the users, then copies of a real turn's rows
    (each a fresh object, as each stored message is) until `messages` rows."""
    users = directory.users
    template = json.dumps([(role.value, content) for role, content in current_turn_rows(directory)])
    ids = [
        store.create_chat(
            users[i % len(users)],
            workspace_id=None,
            title=f"chat {i}",
            provider="anthropic",
            model="claude-sonnet-4-5",
            metadata={"client_type": "api"},
            labels={},
            system_prompt=None,
            status=ChatStatus.WAITING,
        ).id
        for i in range(chats)
    ]
    rows = 0
    per_turn = len(json.loads(template))
    for chat_id in itertools.cycle(ids):
        if rows + per_turn > messages:
            break
        for role, content in json.loads(template):
            store.append_message(chat_id, Role(role), content)
        rows += per_turn


def _asgi_call(app: Any, method: str, path: str, body: bytes) -> Call:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bench"),
            (b"coder-session-token", TOKEN),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def call() -> int:
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(dict(scope), receive, send)
        return status

    return call


class Target:
    """GET chat and POST message on a fresh chat of alice's, in an app over the given store."""

    def __init__(self, store: ChatStore, directory: Directory, api: str = "v1") -> None:
        if api == "current":
            self._current(store, directory)
            return
        app = create_app(
            Settings(validate_responses=False),  # as `serve` runs it; request validation is always on
            directory=directory,
            store=store,
            agent=ScenarioAgent(store, ImmediateScheduler()),
        )
        alice = directory.authenticate(DEMO_TOKENS["alice"])
        chat = store.create_chat(
            alice, workspace_id=None, title="", provider="openai", model="gpt-4o", metadata={}
        )
        self.calls = {
            "GET chat": _asgi_call(app, "GET", f"/api/v2/chats/{chat.id}", b""),
            "POST message": _asgi_call(
                app, "POST", f"/api/v2/chats/{chat.id}/messages", b'{"content":"hello there"}'
            ),
        }

    def _current(self, store: ChatStore, directory: Directory) -> None:
        app = create_app(
            Settings(api="current", validate_responses=False),
            directory=directory,
            store=store,
            scheduler=ImmediateScheduler(),  # each turn ends before the next post: no queue
        )
        alice = directory.authenticate(DEMO_TOKENS["alice"])
        chat = store.create_chat(
            alice,
            workspace_id=None,
            title="",
            provider="anthropic",
            model="claude-sonnet-4-5",
            metadata={"client_type": "api"},
            labels={},
            system_prompt=None,
            status=ChatStatus.WAITING,
        )
        self.calls = {
            "GET chat": _asgi_call(app, "GET", f"/api/v2/chats/{chat.id}", b""),
            "POST message": _asgi_call(app, "POST", f"/api/v2/chats/{chat.id}/messages", _CURRENT_SEND),
        }


async def _batch_us(call: Call, iterations: int) -> float:
    """CPU microseconds per call over one batch."""
    start = time.process_time()
    for _ in range(iterations):
        status = await call()
        if status >= 300:
            raise RuntimeError(f"unexpected status {status}")
    return (time.process_time() - start) / iterations * 1e6


async def compare(
    empty: Target, full: Target, iterations: int, batches: int
) -> dict[str, tuple[float, float]]:
    """Median cost per request of each call, empty vs full, their batches interleaved so load noise hits both."""
    medians = {}
    for name in empty.calls:
        samples: dict[str, list[float]] = {"empty": [], "full": []}
        for batch in range(batches + 1):
            for label, target in (("empty", empty), ("full", full)):
                cost = await _batch_us(target.calls[name], iterations)
                if batch:  # the first batch warms up
                    samples[label].append(cost)
        medians[name] = (statistics.median(samples["empty"]), statistics.median(samples["full"]))
    return medians


def main(argv: list[str] | None = None) -> int:
    """Fill a store, report RSS and the per-request cost empty vs full."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="v1", choices=("v1", "current"))
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=1000, help="calls per batch (default: 1000)")
    parser.add_argument("--batches", type=int, default=7, help="batches per measurement (default: 7)")
    parser.add_argument("--max-rss-mib", type=float, default=512, help="the RSS bar (default: 512)")
    args = parser.parse_args(argv)

    directory = Directory.from_tokens(DEMO_TOKENS)
    gc.collect()
    rss_before = vm_rss_mib()
    store = ChatStore(clock=system_clock, new_id=uuid.uuid4)
    started = time.perf_counter()
    (fill_current if args.api == "current" else fill)(store, directory, args.chats, args.messages)
    fill_s = time.perf_counter() - started
    gc.collect()
    rss_after = vm_rss_mib()
    started = time.perf_counter()
    gc.collect()  # what one full collection costs once the store is this big
    full_collection_ms = (time.perf_counter() - started) * 1000
    tracked = len(gc.get_objects())
    gc.freeze()  # as `serve` does with what start-up built (e.g. a loaded fixture)
    started = time.perf_counter()
    gc.collect()
    frozen_collection_ms = (time.perf_counter() - started) * 1000
    gc.unfreeze()
    empty = Target(ChatStore(clock=system_clock, new_id=uuid.uuid4), directory, args.api)
    full = Target(store, directory, args.api)
    costs = asyncio.run(compare(empty, full, args.iterations, args.batches))

    grown = rss_after - rss_before
    print(f"store: {args.chats:,} chats, {args.messages:,} messages, filled in {fill_s:.1f} s")
    print(
        f"RSS: {rss_before:,.0f} MiB before, {rss_after:,.0f} MiB after "
        f"(+{grown:,.0f} MiB, {grown * 1024 * 1024 / args.messages:,.0f} B per message); "
        f"bar <= {args.max_rss_mib:,.0f} MiB: {'ok' if rss_after <= args.max_rss_mib else 'MISSED'}"
    )
    print(
        f"GC: {tracked:,} objects tracked ({tracked / args.messages:.2f} per message); one full "
        f"collection takes {full_collection_ms:,.0f} ms (serve makes them rare, thresholds "
        f"{'/'.join(map(str, SERVE_THRESHOLDS))}, "
        f"but each one still pauses this long); {frozen_collection_ms:,.0f} ms with the store frozen "
        "(gc.freeze(), as serve freezes what start-up built, e.g. a loaded fixture)"
    )
    print(f"{args.api}: {'request':<14}{'empty µs':>10}{'full µs':>10}{'ratio':>8}  bar <= {MAX_RATIO}x")
    for name, (empty_us, full_us) in costs.items():
        ratio = full_us / empty_us
        print(
            f"{args.api}: {name:<14}{empty_us:>10.0f}{full_us:>10.0f}{ratio:>8.2f}  "
            f"{'ok' if ratio <= MAX_RATIO else 'MISSED'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
