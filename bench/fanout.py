"""Watch fan-out, a stalled watcher and a mixed soak, against a real `chats-mock serve` on loopback.

    python bench/fanout.py watchers   # 1,000 watch-ws clients on one chat, 100 posts
    python bench/fanout.py backlog    # 1,000 watch-ws clients join a chat of 100 runs' rows
    python bench/fanout.py stalled    # a watcher that never reads while 20,000 rows are posted
    python bench/fanout.py soak       # mixed load, 5 minutes (--soak-seconds to shorten)
    python bench/fanout.py all        # all of them, then the report section in bench/REPORT.md

Every run starts its own server on 127.0.0.1 and a free port, bounded in clients and time;
watchers live in worker processes (the client side of 1,000 sockets costs as much CPU as the
server's). Times are CLOCK_MONOTONIC, shared by all processes of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.frame_client import FrameClient  # noqa: E402
from bench.procstat import ProcTree  # noqa: E402
from bench.worker_pool import WorkerPool, run_clients  # noqa: E402

TOKEN = "alice00001-AliceDemoSessionSecret"
HEADERS = {"Coder-Session-Token": TOKEN, "Content-Type": "application/json"}
MIB = 1024 * 1024
SECTION_BEGIN = "<!-- fanout: written by bench/fanout.py; bench/run.py keeps it -->"


# --- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


# CPUs for the server and for the load (watchers, posters), as bench/run.py pins them; None: any.
PINNING: dict[str, int | None] = {"server": None, "load": None}


def _pin(role: str) -> None:
    cpu = PINNING[role]
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def _server_child() -> None:
    _raise_fd_limit()
    _pin("server")


@dataclass
class Server:
    """A `chats-mock serve` subprocess and what /proc says of it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def tree(self) -> ProcTree:
        return ProcTree(self.process.pid)

    def rss_mib(self) -> float:
        return self.tree.rss_bytes() / MIB

    def cpu_s(self) -> float:
        return self.tree.cpu_seconds()

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def serving(python: str, log: Path, extra: list[str], *, allocator: str | None = None) -> Iterator[Server]:
    """`serve` on a free port; `allocator` sets PYTHONMALLOC (None: serve's own choice, malloc)."""
    port = _free_port()
    command = [python, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"}
    if allocator is not None:
        environment["PYTHONMALLOC"] = allocator
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_server_child,
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = request(port, "GET", f"/api/v2/chats/{uuid.UUID(int=0)}")
                if status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the mock did not start; see {log}")
            time.sleep(0.02)
        yield server
    finally:
        server.stop()


def request(
    port: int, method: str, path: str, body: Any = None, conn: http.client.HTTPConnection | None = None
) -> tuple[int, Any]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers=HEADERS)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)
    finally:
        if own:
            conn.close()


def new_chat(port: int, conn: http.client.HTTPConnection | None = None) -> str:
    status, chat = request(port, "POST", "/api/v2/chats", {"provider": "p", "model": "m"}, conn)
    assert status == 201, (status, chat)
    return str(chat["id"])


def post_message(
    port: int, chat: str, text: str, conn: http.client.HTTPConnection | None = None
) -> tuple[int, str]:
    status, body = request(port, "POST", f"/api/v2/chats/{chat}/messages", {"content": text}, conn)
    return status, (str(body["run_id"]) if status == 201 else "")


class RssSampler:
    """Samples the server's RSS every `every` seconds in a thread; keeps the timeline."""

    def __init__(self, server: Server, every: float = 0.25) -> None:
        self._server = server
        self._every = every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.samples.append((time.monotonic(), self._server.rss_mib()))
            self._stop.wait(self._every)

    @property
    def peak(self) -> float:
        return max((rss for _, rss in self.samples), default=0.0)


def settle_rss(server: Server, seconds: float = 3.0) -> float:
    """RSS once it has stopped falling (at most `seconds` of waiting)."""
    deadline = time.monotonic() + seconds
    last = server.rss_mib()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = server.rss_mib()
        if abs(now - last) < 0.1:
            return now
        last = now
    return last


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]  # nearest rank


# --- watchers in worker processes ------------------------------------------------------------


@dataclass
class WatchTally:
    """What one worker's watchers saw."""

    finished_at: dict[str, float] = field(default_factory=dict)  # run id -> last watcher's receipt
    finished_count: dict[str, int] = field(default_factory=dict)  # run id -> watchers that saw it
    first_at: dict[str, float] = field(default_factory=dict)  # run id -> first watcher's receipt
    frames: int = 0
    rows: int = 0
    out_of_order: int = 0
    closes: dict[str, int] = field(default_factory=dict)  # close code -> watchers


def _watch_worker(port: int, chat: str, count: int, pipe: Connection, load_cpu: int | None) -> None:
    _raise_fd_limit()
    if load_cpu is not None:
        os.sched_setaffinity(0, {load_cpu})
    run_clients(_watch_many(port, chat, count, pipe))


_ROW_ID = re.compile(rb'\{"type":"data","data":\{"chat_id":"[^"]*","id":([0-9]+)')  # at the frame's start
_RUN_ID = re.compile(rb'"run_id":"([0-9a-f-]+)"')


class _WatchClient(FrameClient):
    """A watch-ws client cheap enough that 1,000 of them do not starve the server of CPU.

    Rows are recognised by regular expressions, not parsed as JSON.
    """

    def __init__(self, request: bytes, tally: WatchTally, watcher: _Progress) -> None:
        super().__init__(request)
        self._tally = tally
        self._progress = watcher
        self._last_id = 0

    def _frame(self, head: int, data: bytes, start: int, end: int, now: float) -> None:
        opcode = head & 0x0F
        if opcode == 0x1:
            self._text(data, start, end, now)
        else:
            self._control(opcode, data[start:end])

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9:
            self._pong(payload)
        elif opcode == 0x8:
            code = str(int.from_bytes(payload[:2], "big")) if len(payload) >= 2 else "none"
            self._tally.closes[code] = self._tally.closes.get(code, 0) + 1
            self.close()

    def _text(self, data: bytes, start: int, end: int, now: float) -> None:
        """A text frame, `data[start:end]`: a row (its id, and a run's end) or a live part."""
        tally = self._tally
        tally.frames += 1
        row = _ROW_ID.match(data, start, end)
        if row is None:
            return  # a live part
        tally.rows += 1
        row_id = int(row[1])
        if row_id <= self._last_id:
            tally.out_of_order += 1
        self._last_id = row_id
        if not self._progress.is_live.is_set():
            self._progress.live()
        if data.find(b'"event":"run_finished"', start, end) >= 0:
            found = _RUN_ID.search(data, start, end)
            assert found is not None
            run = found[1].decode()
            tally.finished_at[run] = max(tally.finished_at.get(run, 0.0), now)
            tally.first_at[run] = min(tally.first_at.get(run, now), now)
            tally.finished_count[run] = tally.finished_count.get(run, 0) + 1
            self._progress.finished()


class _Progress:
    """One watcher's progress: live once its backlog arrived, done once it saw every run."""

    def __init__(self, pool: _Pool) -> None:
        self._pool = pool
        self.is_live = asyncio.Event()
        self.runs = 0

    def live(self) -> None:
        self.is_live.set()

    def finished(self) -> None:
        self.runs += 1
        self._pool.check(self)


class _Pool:
    def __init__(self, count: int) -> None:
        self.count = count
        self.expected = -1
        self.done = 0
        self.complete = asyncio.Event()

    def check(self, progress: _Progress) -> None:
        if progress.runs == self.expected:
            self.done += 1
            if self.done == self.count:
                self.complete.set()


async def _watch_many(port: int, chat: str, count: int, pipe: Connection) -> None:
    tally = WatchTally()
    loop = asyncio.get_running_loop()
    request = (
        f"GET /api/v2/chats/{chat}/messages/watch-ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nCoder-Session-Token: {TOKEN}\r\n\r\n"
    ).encode()
    pool = _Pool(count)
    clients: list[tuple[_WatchClient, _Progress]] = []
    gate = asyncio.Semaphore(32)

    async def open_one() -> None:
        async with gate:
            progress = _Progress(pool)
            _, client = await loop.create_connection(
                lambda: _WatchClient(request, tally, progress), "127.0.0.1", port
            )
            clients.append((client, progress))
            await progress.is_live.wait()  # the system prompt arrived: the watcher is live

    await asyncio.gather(*(open_one() for _ in range(count)))
    pipe.send("ready")
    # Wait for the list of runs to expect, then until every watcher saw each run's end.
    runs = await loop.run_in_executor(None, pipe.recv)
    pool.expected = len(runs)
    for _, progress in clients:
        pool.check(progress)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(300):
            await pool.complete.wait()
    pipe.send("delivered")
    await loop.run_in_executor(None, pipe.recv)  # "close"
    for client, _ in clients:
        client.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await asyncio.gather(*(client.closed for client, _ in clients))
    pipe.send(tally)


# --- 1. many watchers ------------------------------------------------------------------------


def bench_watchers(args: argparse.Namespace, out: Path, *, allocator: str | None = None) -> dict[str, Any]:
    """1,000 watchers, 100 posts; `allocator` as for `serving` (pymalloc: what serve avoids)."""
    log = out / f"watchers{'-' + allocator if allocator else ''}.log"
    with serving(args.python, log, [], allocator=allocator) as server:
        chat = new_chat(server.port)
        idle = settle_rss(server)
        pool = WorkerPool(_watch_worker, server.port, chat, args.watchers, args.workers, cpu=PINNING["load"])
        pool.wait("ready")
        connected = settle_rss(server, 2)
        posted: dict[str, float] = {}
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        with RssSampler(server) as sampler:
            cpu0, clients0 = server.cpu_s(), pool.cpu_seconds()
            start = time.monotonic()
            for n in range(args.posts):
                slot = start + n * args.interval
                time.sleep(max(0.0, slot - time.monotonic()))
                sent = time.monotonic()
                status, run = post_message(server.port, chat, f"post {n}", conn)
                assert status == 201, status
                posted[run] = sent
            pool.expect(list(posted))
            pool.wait("delivered")
            cpu1, clients1 = server.cpu_s(), pool.cpu_seconds()
            delivered_at = time.monotonic()
        conn.close()
        during = sampler.peak
        tallies = pool.close()
        time.sleep(5)  # the server closes its side, and may free memory a little later
        after = settle_rss(server, 10)
        tracebacks = server.tracebacks()
    finished: dict[str, float] = {}
    first: dict[str, float] = {}
    seen: dict[str, int] = {}
    for tally in tallies:
        for run, at in tally.finished_at.items():
            finished[run] = max(finished.get(run, 0.0), at)
            first[run] = min(first.get(run, at), tally.first_at[run])
            seen[run] = seen.get(run, 0) + tally.finished_count[run]
    latencies = [finished[run] - sent for run, sent in posted.items() if run in finished]
    firsts = [first[run] - sent for run, sent in posted.items() if run in first]
    frames = sum(t.frames for t in tallies) - args.watchers  # less the backlog (system prompt)
    return {
        "watchers": args.watchers,
        "posts": args.posts,
        "interval_s": args.interval,
        "complete_runs": sum(1 for run in posted if seen.get(run) == args.watchers),
        "frames": frames,
        "out_of_order": sum(t.out_of_order for t in tallies),
        "latency_p50_s": pct(latencies, 50),
        "latency_p99_s": pct(latencies, 99),
        "latency_max_s": max(latencies, default=float("nan")),
        "first_watcher_latency_p50_s": pct(firsts, 50),
        "first_watcher_latency_p99_s": pct(firsts, 99),
        "delivery_after_last_post_s": delivered_at - max(posted.values()),
        "cpu_us_per_frame": (cpu1 - cpu0) / max(frames, 1) * 1e6,
        "server_cpu_s": cpu1 - cpu0,
        "clients_cpu_s": clients1 - clients0,
        "clients_cpu_us_per_frame": (clients1 - clients0) / max(frames, 1) * 1e6,
        "rss_idle_mib": idle,
        "rss_connected_mib": connected,
        "rss_during_mib": during,
        "rss_after_mib": after,
        "allocator": allocator or "malloc (serve's default)",
        "closes": _merge_closes(tallies),
        "tracebacks": tracebacks,
    }


def _merge_closes(tallies: list[WatchTally]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for tally in tallies:
        for code, n in tally.closes.items():
            merged[code] = merged.get(code, 0) + n
    return merged


# --- 1b. many watchers joining a long transcript ----------------------------------------------


def bench_backlog(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """1,000 watchers join a chat that already holds `posts` runs: each is sent the whole backlog."""
    with serving(args.python, out / "backlog.log", []) as server:
        chat = new_chat(server.port)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        runs = [post_message(server.port, chat, f"post {n}", conn)[1] for n in range(args.posts)]
        conn.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until every run has written its last row
            _, rows = request(server.port, "GET", f"/api/v2/chats/{chat}/messages")
            if sum(1 for row in rows if row["content"].get("type") == "run_finished") == len(runs):
                break
            time.sleep(0.5)
        idle = settle_rss(server)
        with RssSampler(server) as sampler:
            cpu0, start = server.cpu_s(), time.monotonic()
            pool = WorkerPool(
                _watch_worker, server.port, chat, args.watchers, args.workers, cpu=PINNING["load"]
            )
            pool.wait("ready")
            pool.expect(runs)  # every watcher has seen every run's end: the backlog is through
            pool.wait("delivered")
            cpu1, delivered = server.cpu_s(), time.monotonic()
        tallies = pool.close()
        time.sleep(5)
        after = settle_rss(server, 10)
        tracebacks = server.tracebacks()
    return {
        "watchers": args.watchers,
        "posts": args.posts,
        "rows": len(rows),
        "frames": sum(t.frames for t in tallies),
        "out_of_order": sum(t.out_of_order for t in tallies),
        "delivered_s": delivered - start,
        "server_cpu_s": cpu1 - cpu0,
        "rss_idle_mib": idle,
        "rss_peak_mib": sampler.peak,
        "rss_after_mib": after,
        "tracebacks": tracebacks,
    }


# --- 2. a stalled watcher --------------------------------------------------------------------


def _stalled_socket(port: int, chat: str) -> socket.socket:
    """A watch-ws client that completes the handshake and never reads again (small receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    sock.sendall(
        (
            f"GET /api/v2/chats/{chat}/messages/watch-ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nCoder-Session-Token: {TOKEN}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def bench_stalled(args: argparse.Namespace, out: Path, *, stalled: bool) -> dict[str, Any]:
    name = "stalled" if stalled else "stalled-control"
    with serving(args.python, out / f"{name}.log", []) as server:
        chat = new_chat(server.port)
        idle = settle_rss(server)
        pool = WorkerPool(_watch_worker, server.port, chat, args.readers, 1, cpu=PINNING["load"])
        pool.wait("ready")
        sink = _stalled_socket(server.port, chat) if stalled else None
        posts = args.rows // 5  # echo: the user row and four rows of its run
        posted: dict[str, float] = {}
        lock = threading.Lock()
        errors = 0

        def poster(indexes: range) -> None:
            nonlocal errors
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            for n in indexes:
                sent = time.monotonic()
                status, run = post_message(server.port, chat, f"row {n} " + "x" * 200, conn)
                with lock:
                    if status == 201:
                        posted[run] = sent
                    else:
                        errors += 1
            conn.close()

        with RssSampler(server) as sampler:
            started = time.monotonic()
            threads = [
                threading.Thread(target=poster, args=(range(i, posts, args.posters),))
                for i in range(args.posters)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            posting_s = time.monotonic() - started
            pool.expect(list(posted))
            pool.wait("delivered")
        end = settle_rss(server, 3)
        tail, received, eof = b"", 0, False
        if sink is not None:
            # Read what the server had sent when it gave up: it closed the socket if this ends.
            sink.settimeout(5)
            with contextlib.suppress(OSError):
                while chunk := sink.recv(1 << 20):
                    received += len(chunk)
                    tail = (tail + chunk)[-256:]
                eof = True
            sink.close()
        tallies = pool.close()
        tracebacks = server.tracebacks()
    finished: dict[str, float] = {}
    for tally in tallies:
        for run, at in tally.finished_at.items():
            finished[run] = max(finished.get(run, 0.0), at)
    latencies = [finished[run] - sent for run, sent in posted.items() if run in finished]
    close_at = tail.rfind(b"\x88")
    close_code = (
        int.from_bytes(tail[close_at + 2 : close_at + 4])
        if close_at >= 0 and len(tail) >= close_at + 4
        else None
    )
    return {
        "stalled_watcher": stalled,
        "rows": posts * 5,
        "posting_s": posting_s,
        "errors": errors,
        "readers": args.readers,
        "reader_rows": sum(t.rows for t in tallies),
        "reader_out_of_order": sum(t.out_of_order for t in tallies),
        "complete_runs": sum(1 for run in posted if run in finished),
        "reader_latency_p50_s": pct(latencies, 50),
        "reader_latency_p99_s": pct(latencies, 99),
        "rss_idle_mib": idle,
        "rss_peak_mib": sampler.peak,
        "rss_end_mib": end,
        "stalled_close_code": close_code,
        "stalled_bytes_received": received,
        "stalled_socket_closed_by_server": eof,
        "tracebacks": tracebacks,
    }


# --- 2b. one large message ------------------------------------------------------------------


def bench_large(args: argparse.Namespace, out: Path, *, watchers: int) -> dict[str, Any]:
    """A `--large-mib` message posted to a chat with `watchers` watchers, and tiny GETs meanwhile."""
    # serve refuses such a body by default (--max-body-bytes, --max-message-bytes): let it in.
    room = str((args.large_mib + 1) * MIB)
    limits = ["--max-body-bytes", room, "--max-message-bytes", room]
    with serving(args.python, out / f"large-{watchers}.log", limits) as server:
        chat, other = new_chat(server.port), new_chat(server.port)
        pool = (
            WorkerPool(_watch_worker, server.port, chat, watchers, 1, cpu=PINNING["load"])
            if watchers
            else None
        )
        if pool is not None:
            pool.wait("ready")
        text = "x" * (args.large_mib * MIB)
        done = threading.Event()
        small: list[float] = []
        failures: list[int] = []

        def tiny_gets() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            while not done.is_set():
                sent = time.monotonic()
                try:
                    status, _ = request(server.port, "GET", f"/api/v2/chats/{other}", None, conn)
                except OSError:
                    status = 0
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                if status != 200:
                    failures.append(status)
                small.append(time.monotonic() - sent)
                time.sleep(0.01)
            conn.close()

        getter = threading.Thread(target=tiny_gets)
        getter.start()
        sent = time.monotonic()
        status, run = post_message(server.port, chat, text)
        post_s = time.monotonic() - sent
        assert status == 201, status
        delivered_s = None
        if pool is not None:
            pool.expect([run])
            pool.wait("delivered")
            delivered_s = time.monotonic() - sent
            tallies = pool.close()
            assert sum(t.out_of_order for t in tallies) == 0
        else:
            time.sleep(1)
        done.set()
        getter.join()
        tracebacks = server.tracebacks()
    return {
        "watchers": watchers,
        "message_mib": args.large_mib,
        "post_s": post_s,
        "delivered_to_all_s": delivered_s,
        "tiny_get_count": len(small),
        "tiny_get_p50_ms": pct(small, 50) * 1000,
        "tiny_get_max_ms": max(small, default=float("nan")) * 1000,
        "tiny_get_failures": len(failures),
        "tracebacks": tracebacks,
    }


# --- 3. the soak -----------------------------------------------------------------------------


def _soak_step(step: int, post_to: str, chat: str) -> tuple[str, str, str, Any]:
    """The operation a soak client makes at `step`: a new chat every 40, else post, get, list."""
    if step % 40 == 0:
        return "POST chat", "POST", "/api/v2/chats", {"provider": "p", "model": "m"}
    if step % 4 == 1:
        return "POST message", "POST", f"/api/v2/chats/{post_to}/messages", {"content": f"soak {step}"}
    if step % 4 == 2:
        return "GET chat", "GET", f"/api/v2/chats/{chat}", None
    return "GET messages", "GET", f"/api/v2/chats/{chat}/messages", None


def bench_soak(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    with serving(args.python, out / "soak.log", []) as server:
        watched = new_chat(server.port)
        idle = settle_rss(server)
        pool = WorkerPool(_watch_worker, server.port, watched, args.soak_watchers, 1, cpu=PINNING["load"])
        pool.wait("ready")
        stop_at = time.monotonic() + args.soak_seconds
        start = time.monotonic()
        records: list[tuple[float, str, float, bool]] = []  # (at, operation, seconds, ok)
        lock = threading.Lock()
        counts = {"chats": 1, "posts": 0}
        watched_runs: list[str] = []
        period = args.soak_clients / args.soak_rate

        def client(index: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            chat = ""
            step = 0
            next_at = time.monotonic() + index * period / args.soak_clients
            while time.monotonic() < stop_at:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += period
                op, method, path, body = _soak_step(step, watched if index == 0 else chat, chat)
                sent = time.monotonic()
                try:
                    status, answer = request(server.port, method, path, body, conn)
                    ok = status < 400
                except OSError:
                    answer, ok = None, False
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                took = time.monotonic() - sent
                with lock:
                    records.append((sent - start, op, took, ok))
                    if ok and op == "POST chat":
                        chat = answer["id"]
                        counts["chats"] += 1
                    elif ok and op == "POST message":
                        counts["posts"] += 1
                        if index == 0:
                            watched_runs.append(answer["run_id"])
                step += 1
            conn.close()

        with RssSampler(server, every=1.0) as sampler:
            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.soak_clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            pool.expect(watched_runs)
            pool.wait("delivered", timeout=120)
        end = settle_rss(server, 3)
        tallies = pool.close()
        tracebacks = server.tracebacks()
    minutes: dict[int, list[float]] = {}
    last_minute = max(0, math.ceil(args.soak_seconds / 60) - 1)
    for at, _, took, _ in records:
        minutes.setdefault(min(int(at // 60), last_minute), []).append(took)
    rss_by_minute = [
        next((rss for at, rss in sampler.samples if at >= start + 60 * k), end)
        for k in range(last_minute + 1)
    ] + [end]
    rows = counts["chats"] + counts["posts"] * 5
    first = sampler.samples[0][1] if sampler.samples else idle
    return {
        "seconds": args.soak_seconds,
        "requests": len(records),
        "errors": sum(1 for *_, ok in records if not ok),
        "rate_per_s": len(records) / args.soak_seconds,
        "p99_ms_by_minute": [round(pct(v, 99) * 1000, 1) for _, v in sorted(minutes.items())],
        "p50_ms_by_minute": [round(pct(v, 50) * 1000, 1) for _, v in sorted(minutes.items())],
        "watchers": args.soak_watchers,
        "watcher_runs_complete": sum(len(t.finished_at) for t in tallies) == len(watched_runs) * len(tallies)
        if tallies
        else None,
        "watcher_out_of_order": sum(t.out_of_order for t in tallies),
        "chats": counts["chats"],
        "rows_stored": rows,
        "rss_idle_mib": idle,
        "rss_start_mib": first,
        "rss_end_mib": end,
        "rss_by_minute_mib": [round(rss, 1) for rss in rss_by_minute],
        "bytes_per_row": (end - idle) * MIB / max(rows, 1),
        "tracebacks": tracebacks,
    }


# --- report ----------------------------------------------------------------------------------


def _machine() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (the machine is shared with other agents)"
    )


def _over(watchers: dict[str, Any]) -> str:
    """How far RSS after the watchers left is over idle, in percent."""
    return f"+{(watchers['rss_after_mib'] / watchers['rss_idle_mib'] - 1) * 100:.0f} %"


def _figures(title: str, rows: list[str]) -> list[str]:
    """A titled table of figures (`rows`: its lines `| figure | value |`) and the blank line after."""
    return [f"**{title}**", "", "| figure | value |", "|---|---|", *rows, ""]


def render(results: dict[str, Any], command: str) -> str:
    lines = [SECTION_BEGIN, "", "## Watch fan-out, a stalled watcher, soak (`bench/fanout.py`)", ""]
    lines += [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}`",
        f"- machine: {_machine()}",
        "",
    ]
    if w := results.get("watchers"):
        lines += _figures(
            f"{w['watchers']:,} watchers on one chat, {w['posts']} posts (one every {w['interval_s']} s, echo: 6 frames each)",
            [
                f"| runs every watcher saw complete, in id order | {w['complete_runs']} / {w['posts']}, {w['out_of_order']} out of order |",
                f"| post → last watcher's `run_finished`, p50 / p99 / max | {w['latency_p50_s']:.3f} / {w['latency_p99_s']:.3f} / {w['latency_max_s']:.3f} s |",
                f"| delivery done after the last post | {w['delivery_after_last_post_s']:.2f} s |",
                f"| frames delivered | {w['frames']:,} |",
                f"| server CPU per frame | {w['cpu_us_per_frame']:.1f} µs ({w['server_cpu_s']:.1f} s in all) |",
                f"| RSS idle / {w['watchers']:,} connected / peak during / after they left | {w['rss_idle_mib']:.1f} / {w['rss_connected_mib']:.1f} / {w['rss_during_mib']:.1f} / {w['rss_after_mib']:.1f} MiB |",
                f"| RSS after they left, over idle (target: 10 %) | {_over(w)} |",
                *(
                    [
                        f"| the same on CPython's pymalloc (`PYTHONMALLOC=pymalloc`): RSS idle / connected / after, over idle | {p['rss_idle_mib']:.1f} / {p['rss_connected_mib']:.1f} / {p['rss_after_mib']:.1f} MiB, {_over(p)} |"
                    ]
                    if (p := results.get("watchers_pymalloc"))
                    else []
                ),
                f"| close codes the watchers got when they left | {w['closes'] or 'none'} |",
                f"| tracebacks in the server log | {w['tracebacks']} |",
            ],
        )
    if b := results.get("backlog"):
        lines += _figures(
            f"{b['watchers']:,} watchers join a chat that holds {b['posts']} runs ({b['rows']:,} rows): each is sent them all first",
            [
                f"| every watcher had every row (frames delivered, out of order) | {b['delivered_s']:.1f} s ({b['frames']:,}, {b['out_of_order']}) |",
                f"| server CPU for it | {b['server_cpu_s']:.1f} s ({b['server_cpu_s'] / max(b['frames'], 1) * 1e6:.1f} µs per frame) |",
                f"| RSS idle / peak / after they left | {b['rss_idle_mib']:.1f} / {b['rss_peak_mib']:.1f} / {b['rss_after_mib']:.1f} MiB |",
                f"| tracebacks in the server log | {b['tracebacks']} |",
            ],
        )
    for key, title in (
        ("stalled", "with a watcher that never reads"),
        ("stalled_control", "the same without it"),
    ):
        if s := results.get(key):
            lines += _figures(
                f"{s['rows']:,} rows posted, {s['readers']} reading watchers, {title}",
                [
                    f"| posting took | {s['posting_s']:.1f} s, {s['errors']} errors |",
                    f"| readers: rows received, out of order, runs complete | {s['reader_rows']:,}, {s['reader_out_of_order']}, {s['complete_runs']:,} |",
                    f"| readers: post → `run_finished`, p50 / p99 | {s['reader_latency_p50_s']:.3f} / {s['reader_latency_p99_s']:.3f} s |",
                    f"| RSS idle / peak / end | {s['rss_idle_mib']:.1f} / {s['rss_peak_mib']:.1f} / {s['rss_end_mib']:.1f} MiB |",
                    f"| the stalled socket: bytes it was sent, closed by the server, last frame | {s['stalled_bytes_received']:,}, {s['stalled_socket_closed_by_server']}, {'close ' + str(s['stalled_close_code']) if s['stalled_close_code'] else 'no close frame'} |"
                    if s["stalled_watcher"]
                    else "| the stalled socket | none in this run |",
                    f"| tracebacks in the server log | {s['tracebacks']} |",
                ],
            )
    if (big := results.get("large")) and (alone := results.get("large_control")):
        lines += [
            f"**One {big['message_mib']} MiB message, {big['watchers']} watchers, a tiny GET of another chat every 10 ms meanwhile**",
            "",
            "| figure | with watchers | without |",
            "|---|---|---|",
            f"| the POST's answer (serve run with `--max-body-bytes` and `--max-message-bytes` raised to fit) | {big['post_s']:.2f} s | {alone['post_s']:.2f} s |",
            f"| the run's end at the last watcher | {big['delivered_to_all_s']:.2f} s | n/a |",
            f"| tiny GETs meanwhile: count, failed, p50, max | {big['tiny_get_count']}, {big['tiny_get_failures']}, {big['tiny_get_p50_ms']:.1f} ms, {big['tiny_get_max_ms']:.0f} ms | {alone['tiny_get_count']}, {alone['tiny_get_failures']}, {alone['tiny_get_p50_ms']:.1f} ms, {alone['tiny_get_max_ms']:.0f} ms |",
            f"| tracebacks in the server log | {big['tracebacks']} | {alone['tracebacks']} |",
            "",
        ]
    if k := results.get("soak"):
        lines += _figures(
            f"Soak: {k['seconds']} s of mixed load ({k['requests']:,} requests, {k['rate_per_s']:.0f}/s; {k['watchers']} watchers)",
            [
                f"| errors | {k['errors']} |",
                f"| p50 by minute | {', '.join(f'{v} ms' for v in k['p50_ms_by_minute'])} |",
                f"| p99 by minute | {', '.join(f'{v} ms' for v in k['p99_ms_by_minute'])} |",
                f"| watchers: every run seen, out of order | {k['watcher_runs_complete']}, {k['watcher_out_of_order']} |",
                f"| stored at the end | {k['chats']:,} chats, {k['rows_stored']:,} rows |",
                f"| RSS idle / end | {k['rss_idle_mib']:.1f} / {k['rss_end_mib']:.1f} MiB: {k['bytes_per_row']:.0f} bytes per stored row |",
                f"| RSS at the start of each minute, then at the end | {', '.join(f'{v}' for v in k['rss_by_minute_mib'])} MiB |",
                f"| tracebacks in the server log | {k['tracebacks']} |",
            ],
        )
    return "\n".join(lines)


# Sections other benchmarks write after this one (bench/stream_load.py's), kept as they are.
LATER_SECTIONS = ("<!-- stream-load:", "<!-- soak-current:")


def write_section(report: Path, section: str) -> None:
    """Put the fan-out section in place of the last one (at the end, before any later section)."""
    text = report.read_text() if report.exists() else ""
    head, _, rest = text.partition(SECTION_BEGIN)
    later = min((rest.index(mark) for mark in LATER_SECTIONS if mark in rest), default=len(rest))
    tail = f"\n{rest[later:].rstrip(chr(10))}\n" if later < len(rest) else ""
    head = head.rstrip("\n")
    report.write_text((f"{head}\n\n{section}\n" if head else section + "\n") + tail)


def appended_section(head: str, report: Path) -> str:
    """`head` (bench/run.py's report) followed by the fan-out section `report` holds, if any."""
    text = report.read_text() if report.exists() else ""
    if SECTION_BEGIN not in text:
        return head
    return head.rstrip("\n") + "\n\n" + SECTION_BEGIN + text.split(SECTION_BEGIN, 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=("watchers", "backlog", "stalled", "large", "soak", "all"))
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs -m mockserver")
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="processes the watchers are split over")
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between two posts")
    parser.add_argument("--rows", type=int, default=20_000, help="rows posted past the stalled watcher")
    parser.add_argument("--readers", type=int, default=10, help="reading watchers beside the stalled one")
    parser.add_argument("--posters", type=int, default=4, help="threads posting in the stalled run")
    parser.add_argument("--large-mib", type=int, default=10, help="size of the large message")
    parser.add_argument("--large-watchers", type=int, default=20)
    parser.add_argument("--soak-seconds", type=int, default=300)
    parser.add_argument("--soak-clients", type=int, default=4)
    parser.add_argument("--soak-rate", type=float, default=100, help="requests per second, all clients")
    parser.add_argument("--soak-watchers", type=int, default=5)
    parser.add_argument("--server-cpu", type=int, default=0, help="the server's CPU (-1: any)")
    parser.add_argument("--load-cpu", type=int, default=1, help="the clients' CPU (-1: any)")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT.md")
    parser.add_argument("--no-report", action="store_true", help="print the figures only")
    args = parser.parse_args(argv)
    _raise_fd_limit()
    PINNING["server"] = None if args.server_cpu < 0 else args.server_cpu
    PINNING["load"] = None if args.load_cpu < 0 else args.load_cpu
    _pin("load")  # the posters and the stalled socket run in this process
    out = ROOT / "bench" / "results" / f"fanout-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if args.which in ("watchers", "all"):
        results["watchers"] = bench_watchers(args, out)
        print(json.dumps(results["watchers"], indent=1), flush=True)
        results["watchers_pymalloc"] = bench_watchers(args, out, allocator="pymalloc")
        print(json.dumps(results["watchers_pymalloc"], indent=1), flush=True)
    if args.which in ("backlog", "all"):
        results["backlog"] = bench_backlog(args, out)
        print(json.dumps(results["backlog"], indent=1), flush=True)
    if args.which in ("stalled", "all"):
        results["stalled"] = bench_stalled(args, out, stalled=True)
        print(json.dumps(results["stalled"], indent=1), flush=True)
        results["stalled_control"] = bench_stalled(args, out, stalled=False)
        print(json.dumps(results["stalled_control"], indent=1), flush=True)
    if args.which in ("large", "all"):
        results["large"] = bench_large(args, out, watchers=args.large_watchers)
        print(json.dumps(results["large"], indent=1), flush=True)
        results["large_control"] = bench_large(args, out, watchers=0)
        print(json.dumps(results["large_control"], indent=1), flush=True)
    if args.which in ("soak", "all"):
        results["soak"] = bench_soak(args, out)
        print(json.dumps(results["soak"], indent=1), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    if not args.no_report:
        command = "python bench/fanout.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section(args.report, render(results, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
