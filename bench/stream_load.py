"""Today's chat stream under load, against a real `chats-mock serve --api current` on loopback.

    python bench/stream_load.py fanout    # 500 stream clients on one chat during a `slow` run
    python bench/stream_load.py stalled   # the same 500 plus a client that never reads, and a control
    python bench/stream_load.py overflow  # 50 readers, big events, a short queue: the mock's 1008
    python bench/stream_load.py all       # the three, then the report section in bench/REPORT.md

`fanout`: every client opens `GET /chats/{chat}/stream` on an idle chat, then one `/slow` run is
posted (ten chunks, one every 0.5 s at speed 1). Each client keeps every event it receives; a
client is complete when its events after the snapshot are exactly the run's (the same sequence
for every client, message ids increasing, each message once, parts in `seq` order, status
ending `waiting`) and every message the run stored (read back over REST) is among them.

`stalled`: `--runs` `/slow` runs back to back (at `--speed`) on a chat with the same readers, and
one more client that completes the handshake and never reads again (a 4 KiB receive buffer).
The server must close it (the close code is read from what it was sent, once the runs are
over), hold its memory flat, and deliver to the readers as fast as in the control run without
it. A client that never reads is dropped by whichever comes first: the WebSocket keepalive of
uvicorn's `websockets` (a ping every 20 s, 1011 when no pong came 20 s later) or the mock's own
queue limit (`--watch-queue` events unsent: 1008), which applies only once the kernel's socket
buffers (up to 4 MiB here) are full. `overflow` makes the events big and the queue short so that
the mock's limit is what drops it. When the server let go of the stalled socket is read from
/proc/net/tcp (the server's end leaves ESTABLISHED). Every run starts its own server; clients
live in worker processes (2 by default) so that their CPU is not the server's. Times are
CLOCK_MONOTONIC, shared by every process of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fanout import (  # noqa: E402
    PINNING,
    RssSampler,
    _machine,
    _raise_fd_limit,
    pct,
    serving,
    settle_rss,
)
from bench.frame_client import FrameClient  # noqa: E402
from bench.worker_pool import WorkerPool, run_clients  # noqa: E402

TOKEN = "alice00001-AliceDemoSessionSecret"
HEADERS = {"Coder-Session-Token": TOKEN, "Content-Type": "application/json"}
SECTION_BEGIN = "<!-- stream-load: written by bench/stream_load.py -->"
# What a client keeps of an event: its type and what identifies it (message id, part seq, status).
Key = tuple[str, str]


# --- REST ------------------------------------------------------------------------------------


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=HEADERS)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)
    finally:
        conn.close()


def organization(port: int) -> str:
    status, models = call(port, "GET", "/api/v2/organizations/coder/chats/models")
    assert status == 200, (status, models)
    return str(models["models"][0]["organization_id"])


def idle_chat(port: int) -> str:
    """A chat whose first (echo) run is over: the stream's snapshot is small and nothing runs."""
    content = [{"type": "text", "text": "hello"}]
    status, chat = call(
        port, "POST", "/api/v2/chats", {"organization_id": organization(port), "content": content}
    )
    assert status == 201, (status, chat)
    wait_for_status(port, chat["id"], "waiting")
    return str(chat["id"])


def wait_for_status(port: int, chat: str, wanted: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, body = call(port, "GET", f"/api/v2/chats/{chat}")
        assert status == 200, (status, body)
        if body["status"] == wanted:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"chat {chat} stayed {body['status']}, not {wanted}")
        time.sleep(0.05)


def post(port: int, chat: str, text: str) -> dict[str, Any]:
    status, body = call(
        port, "POST", f"/api/v2/chats/{chat}/messages", {"content": [{"type": "text", "text": text}]}
    )
    assert status == 200, (status, body)
    return dict(body)


def stored_ids(port: int, chat: str) -> list[int]:
    """Every stored message id of the chat, paged newest first with `before_id` (200 a page)."""
    ids: list[int] = []
    query = "limit=200"
    while True:
        status, page = call(port, "GET", f"/api/v2/chats/{chat}/messages?{query}")
        assert status == 200, (status, page)
        ids += [message["id"] for message in page["messages"]]
        if not page["has_more"]:
            return sorted(ids)
        query = f"limit=200&before_id={min(ids)}"


# --- stream clients in worker processes ------------------------------------------------------


def event_key(event: dict[str, Any]) -> Key:
    kind = str(event.get("type"))
    if kind == "message":
        return kind, str(event["message"]["id"])
    if kind == "message_part":
        part = event["message_part"]
        return (
            kind,
            f"{part.get('history_version', 0)}/{part.get('generation_attempt', 0)}/{part.get('seq', 0)}",
        )
    if kind == "status":
        return kind, str(event["status"]["status"])
    return kind, ""


# A `waiting` status event as the server encodes it: counted in each frame as it comes.
_WAITING = b'"status":{"status":"waiting"}'


@dataclass
class ClientLog:
    """What one stream client saw: its events (with receipt times), frames, and how it ended.

    While the posts run, a client only times each frame and counts its `waiting` statuses
    (`raw`, `waitings`): the clients share the machine with the server, and decoding JSON is
    most of their work. `decode` turns the frames into events once the runs are over.
    """

    keys: list[Key] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    frames: int = 0
    snapshot_events: int = -1  # events before the live ones (set when the run is posted)
    close_code: int | None = None
    waitings: int = 0  # `waiting` statuses received, the snapshot's included
    finished_at: float | None = None  # when a `waiting` status arrived after the run began
    raw: list[tuple[float, bytes]] = field(default_factory=list)  # frames not yet decoded
    snapshot_frames: int = -1  # frames before the live ones

    def decode(self) -> None:
        """The received frames as events, each timed by its frame (`raw` is emptied)."""
        running, waitings = False, 0
        for index, (at, text) in enumerate(self.raw):
            if index == self.snapshot_frames:
                self.snapshot_events = len(self.keys)
            for event in json.loads(text):
                key = event_key(event)
                self.keys.append(key)
                self.times.append(at)
                if key == ("status", "running"):
                    running = True
                elif key == ("status", "waiting"):
                    waitings += 1
                    if running and self.finished_at is None:
                        self.finished_at = at
        if self.snapshot_frames >= len(self.raw):
            self.snapshot_events = len(self.keys)
        self.raw = []
        if waitings != self.waitings:
            raise RuntimeError(f"{self.waitings} waiting statuses counted live, {waitings} decoded")


class _StreamClient(FrameClient):
    """A stream client cheap enough for hundreds per process: each message kept with its receipt time."""

    def __init__(self, request: bytes, log: ClientLog, live: asyncio.Event) -> None:
        super().__init__(request)
        self._log = log
        self._live = live
        self._message = bytearray()  # a text message split over continuation frames

    def _frame(self, head: int, data: bytes, start: int, end: int, now: float) -> None:
        fin, opcode, payload = bool(head & 0x80), head & 0x0F, data[start:end]
        if opcode == 0x9:
            self._pong(payload)
            return
        if opcode == 0x8:
            self._log.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close()
            return
        if opcode in (0x1, 0x0):
            if fin and not self._message:
                self._text(payload, now)
                return
            self._message += payload
            if fin:
                self._text(bytes(self._message), now)
                self._message.clear()

    def _text(self, text: bytes, now: float) -> None:
        """A message: kept with its receipt time, decoded after the runs (`ClientLog.decode`)."""
        log = self._log
        log.frames += 1
        log.raw.append((now, text))
        log.waitings += text.count(_WAITING)
        self._live.set()


def _stream_request(port: int, chat: str) -> bytes:
    return (
        f"GET /api/v2/chats/{chat}/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nCoder-Session-Token: {TOKEN}\r\n\r\n"
    ).encode()


def _client_worker(port: int, chat: str, count: int, pipe: Connection, load_cpu: int | None) -> None:
    _raise_fd_limit()
    if load_cpu is not None:
        os.sched_setaffinity(0, {load_cpu})
    run_clients(_clients(port, chat, count, pipe))


async def _clients(port: int, chat: str, count: int, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    request = _stream_request(port, chat)
    clients: list[tuple[_StreamClient, ClientLog]] = []
    gate = asyncio.Semaphore(32)

    async def open_one() -> None:
        async with gate:
            log, live = ClientLog(), asyncio.Event()
            _, client = await loop.create_connection(
                lambda: _StreamClient(request, log, live), "127.0.0.1", port
            )
            clients.append((client, log))
            await live.wait()  # the snapshot arrived: the client is live

    await asyncio.gather(*(open_one() for _ in range(count)))
    for _, log in clients:
        log.snapshot_frames = len(log.raw)
    pipe.send("ready")
    # Told how many runs to wait for: until every client saw that many end in `waiting`.
    runs: int = await loop.run_in_executor(None, pipe.recv)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(600):
            while any(log.waitings - 1 < runs for _, log in clients if log.close_code is None):
                await asyncio.sleep(0.05)
    pipe.send("delivered")
    await loop.run_in_executor(None, pipe.recv)  # "close"
    for client, _ in clients:
        client.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await asyncio.gather(*(client.closed for client, _ in clients))
    for _, log in clients:
        log.decode()
    pipe.send([log for _, log in clients])


# --- what the clients saw --------------------------------------------------------------------


def in_order(keys: list[Key]) -> bool:
    """Message ids only grow (each once), and parts of one attempt come in `seq` order."""
    last_id, last_seq = 0, dict[str, int]()
    for kind, value in keys:
        if kind == "message":
            if int(value) <= last_id:
                return False
            last_id = int(value)
        elif kind == "message_part":
            attempt, seq = value.rsplit("/", 1)
            if int(seq) <= last_seq.get(attempt, 0):
                return False
            last_seq[attempt] = int(seq)
        elif kind == "preview_reset":
            last_seq = {}
    return True


def judge(logs: list[ClientLog], stored: list[int], runs: int) -> dict[str, Any]:
    """Completeness, order and agreement of every client's live events."""
    live = [tuple(log.keys[log.snapshot_events :]) for log in logs]
    reference, agreeing = Counter(live).most_common(1)[0] if live else ((), 0)
    message_ids = {int(value) for kind, value in reference if kind == "message"}
    complete = [
        keys == reference
        and in_order(list(keys))
        and [value for kind, value in keys if kind == "status"][-1:] == ["waiting"]
        and sum(1 for key in keys if key == ("status", "waiting")) == runs
        for keys in live
    ]
    return {
        "clients": len(logs),
        "complete": sum(complete),
        "agreeing_with_the_majority": agreeing,
        "events_per_client": len(reference),
        "event_kinds": dict(Counter(kind for kind, _ in reference)),
        "stored_messages_of_the_runs_missing": sorted(set(stored) - message_ids - set(_snapshot_ids(logs))),
        "frames_per_client_p50": pct([float(log.frames) for log in logs], 50),
        "closes": dict(Counter(str(log.close_code) for log in logs)),
    }


def _snapshot_ids(logs: list[ClientLog]) -> list[int]:
    first = logs[0] if logs else ClientLog()
    return [int(value) for kind, value in first.keys[: first.snapshot_events] if kind == "message"]


def spreads(logs: list[ClientLog]) -> list[float]:
    """For each live event, how much later than the first client each client received it."""
    count = min((len(log.times) - log.snapshot_events for log in logs), default=0)
    out: list[float] = []
    for index in range(count):
        times = [log.times[log.snapshot_events + index] for log in logs]
        first = min(times)
        out.extend(t - first for t in times)
    return out


# --- 1. fan-out ------------------------------------------------------------------------------


def bench_fanout(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    with serving(args.python, out / "fanout.log", ["--api", "current"]) as server:
        chat = idle_chat(server.port)
        before = stored_ids(server.port, chat)
        idle = settle_rss(server)
        pool = WorkerPool(_client_worker, server.port, chat, args.clients, args.workers, cpu=PINNING["load"])
        pool.wait("ready", timeout=600)
        connected = settle_rss(server, 2)
        with RssSampler(server) as sampler:
            cpu0 = server.cpu_s()
            sent = time.monotonic()
            post(server.port, chat, "/slow a long answer")
            pool.expect(1)
            pool.wait("delivered", timeout=600)
            cpu1 = server.cpu_s()
        logs: list[ClientLog] = [log for logs_of_one in pool.close() for log in logs_of_one]
        stored = [i for i in stored_ids(server.port, chat) if i not in before]
        time.sleep(2)
        after = settle_rss(server, 10)
        tracebacks = server.tracebacks()
    finished = [log.finished_at - sent for log in logs if log.finished_at is not None]
    spread = spreads(logs)
    events = sum(len(log.keys) - log.snapshot_events for log in logs)
    return {
        **judge(logs, stored, 1),
        "post_to_last_client_waiting_s": max(finished, default=float("nan")),
        "post_to_waiting_p50_s": pct(finished, 50),
        "spread_p50_ms": pct(spread, 50) * 1000,
        "spread_p99_ms": pct(spread, 99) * 1000,
        "spread_max_ms": max(spread, default=float("nan")) * 1000,
        "events_delivered": events,
        "server_cpu_s": cpu1 - cpu0,
        "cpu_us_per_event": (cpu1 - cpu0) / max(events, 1) * 1e6,
        "rss_idle_mib": idle,
        "rss_connected_mib": connected,
        "rss_peak_mib": sampler.peak,
        "rss_after_mib": after,
        "tracebacks": tracebacks,
    }


# --- 1b. many clients, many posts ------------------------------------------------------------


def run_ends(log: ClientLog) -> list[float]:
    """When the client got each live `waiting` status: the end of each run, in order."""
    keys, times = log.keys[log.snapshot_events :], log.times[log.snapshot_events :]
    return [at for key, at in zip(keys, times, strict=True) if key == ("status", "waiting")]


def bench_posts(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """`--clients` stream clients of one chat, then `--posts` echo posts one every `--interval` s:
    for each post, from sending it to the moment the last client got the run's `waiting`."""
    with serving(args.python, out / "posts.log", ["--api", "current"]) as server:
        chat = idle_chat(server.port)
        before = stored_ids(server.port, chat)
        pool = WorkerPool(_client_worker, server.port, chat, args.clients, args.workers, cpu=PINNING["load"])
        pool.wait("ready", timeout=600)
        sent: list[float] = []
        with RssSampler(server) as sampler:
            cpu0, clients0 = server.cpu_s(), pool.cpu_seconds()
            start = time.monotonic()
            for n in range(args.posts):
                time.sleep(max(0.0, start + n * args.interval - time.monotonic()))
                sent.append(time.monotonic())
                post(server.port, chat, f"post {n}")
            pool.expect(args.posts)
            pool.wait("delivered", timeout=600)
            cpu1, clients1 = server.cpu_s(), pool.cpu_seconds()
        logs: list[ClientLog] = [log for logs_of_one in pool.close() for log in logs_of_one]
        stored = [i for i in stored_ids(server.port, chat) if i not in before]
        tracebacks = server.tracebacks()
    ends = [run_ends(log) for log in logs]
    latencies = [
        max(mine[n] for mine in ends) - at for n, at in enumerate(sent) if all(len(mine) > n for mine in ends)
    ]
    firsts = [
        min(mine[n] for mine in ends) - at for n, at in enumerate(sent) if all(len(mine) > n for mine in ends)
    ]
    events = sum(len(log.keys) - log.snapshot_events for log in logs)
    return {
        **judge(logs, stored, args.posts),
        "posts": args.posts,
        "interval_s": args.interval,
        "runs_seen_by_every_client": len(latencies),
        "latency_p50_s": pct(latencies, 50),
        "latency_p99_s": pct(latencies, 99),
        "latency_max_s": max(latencies, default=float("nan")),
        "first_client_latency_p50_s": pct(firsts, 50),
        "first_client_latency_p99_s": pct(firsts, 99),
        "events_delivered": events,
        "server_cpu_s": cpu1 - cpu0,
        "cpu_us_per_event": (cpu1 - cpu0) / max(events, 1) * 1e6,
        "clients_cpu_s": clients1 - clients0,
        "clients_cpu_us_per_event": (clients1 - clients0) / max(events, 1) * 1e6,
        "rss_peak_mib": sampler.peak,
        "tracebacks": tracebacks,
    }


# --- 2. a client that stops reading ----------------------------------------------------------


def _stalled_socket(port: int, chat: str) -> socket.socket:
    """A stream client that completes the handshake and never reads again (small receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(_stream_request(port, chat))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


class ServerEndWatch:
    """When the server's end of a loopback connection leaves ESTABLISHED, polled in /proc/net/tcp."""

    def __init__(self, server_port: int, client_port: int) -> None:
        # /proc/net/tcp: "sl local_address rem_address st ...", addresses as hex IP:hex port.
        self._ends = (f":{server_port:04X}", f":{client_port:04X}")
        self.left_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ServerEndWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _state(self) -> str | None:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(self._ends[0]) and fields[2].endswith(self._ends[1]):
                return fields[3]
        return None

    def _run(self) -> None:
        while not self._stop.is_set() and self.left_at is None:
            if self._state() != "01":  # 01: ESTABLISHED
                self.left_at = time.monotonic()
            self._stop.wait(0.25)


def _drain(sock: socket.socket) -> tuple[int, int | None, bool]:
    """Read what the stalled socket was sent: bytes, the close code (if a close frame came), EOF."""
    sock.settimeout(10)
    data = bytearray()
    eof = False
    with contextlib.suppress(TimeoutError, OSError):
        while chunk := sock.recv(1 << 20):
            data += chunk
        eof = True
    code: int | None = None
    at = 0
    while at + 2 <= len(data):  # walk the frames to the close frame, if any
        opcode, length, start = data[at] & 0x0F, data[at + 1] & 0x7F, at + 2
        if length == 126:
            length, start = int.from_bytes(data[at + 2 : at + 4], "big"), at + 4
        elif length == 127:
            length, start = int.from_bytes(data[at + 2 : at + 10], "big"), at + 10
        if start + length > len(data):
            break
        if opcode == 0x8 and length >= 2:
            code = int.from_bytes(data[start : start + 2], "big")
        at = start + length
    sock.close()
    return len(data), code, eof


def bench_stalled(args: argparse.Namespace, out: Path, *, stalled: bool, name: str) -> dict[str, Any]:
    # --control: once the runs are delivered, the control plane closes the chat's streams and
    # counts them, which says whether the stalled client's stream is still held.
    extra = ["--api", "current", "--control", "--speed", str(args.speed), *(args.mock_arg or [])]
    with serving(args.python, out / f"{name}.log", extra) as server:
        chat = idle_chat(server.port)
        before = stored_ids(server.port, chat)
        idle = settle_rss(server)
        pool = WorkerPool(_client_worker, server.port, chat, args.clients, args.workers, cpu=PINNING["load"])
        pool.wait("ready", timeout=600)
        sink = _stalled_socket(server.port, chat) if stalled else None
        finished_at: list[float] = []
        end_watch = ServerEndWatch(server.port, sink.getsockname()[1] if sink is not None else 0)
        with RssSampler(server) as sampler, end_watch:
            start = time.monotonic()
            for n in range(args.runs):
                # `/slow` streams the prompt back in its second chunk: padding makes every event bigger.
                post(server.port, chat, f"/slow run {n} " + "x" * args.prompt_bytes)
                wait_for_status(server.port, chat, "waiting", timeout=600)
                finished_at.append(time.monotonic())
            pool.expect(args.runs)
            pool.wait("delivered", timeout=600)
            delivered_s = time.monotonic() - start
            # Every reader has every event: close the chat's streams through the control plane,
            # which counts them; one more than the readers is the stalled client, still held.
            status, closed = call(server.port, "POST", f"/__mock/chats/{chat}/streams/close", {"code": 1000})
            assert status == 200, (status, closed)
            checked_s = time.monotonic() - start
        logs: list[ClientLog] = [log for logs_of_one in pool.close() for log in logs_of_one]
        stored = [i for i in stored_ids(server.port, chat) if i not in before]
        end = settle_rss(server, 5)
        sent_bytes, close_code, eof = _drain(sink) if sink is not None else (0, None, False)
        tracebacks = server.tracebacks()
    spread = spreads(logs)
    return {
        **judge(logs, stored, args.runs),
        "runs": args.runs,
        "speed": args.speed,
        "prompt_bytes": args.prompt_bytes,
        "serve_args": " ".join(args.mock_arg or []),
        "stalled_client": stalled,
        "runs_took_s": (finished_at[-1] - start) if finished_at else float("nan"),
        "delivered_to_all_s": delivered_s,
        "spread_p50_ms": pct(spread, 50) * 1000,
        "spread_p99_ms": pct(spread, 99) * 1000,
        "spread_max_ms": max(spread, default=float("nan")) * 1000,
        "rss_idle_mib": idle,
        "rss_peak_mib": sampler.peak,
        "rss_end_mib": end,
        "stalled_still_held": closed["closed"] - args.clients,
        "stalled_checked_after_s": checked_s,
        "stalled_dropped_after_s": (end_watch.left_at - start) if stalled and end_watch.left_at else None,
        "stalled_bytes_received": sent_bytes,
        "stalled_close_code": close_code,
        "stalled_socket_closed_by_server": eof,
        "tracebacks": tracebacks,
    }


# --- report ----------------------------------------------------------------------------------


def render(results: dict[str, Any], command: str) -> str:
    lines = [SECTION_BEGIN, "", "## Today's chat stream under load (`bench/stream_load.py`)", ""]
    lines += [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}`",
        f"- machine: {_machine()}",
        "",
    ]
    if f := results.get("fanout"):
        lines += [
            f"**{f['clients']} stream clients on one chat, one `/slow` run (10 chunks, 0.5 s apart)**",
            "",
            "| figure | value |",
            "|---|---|",
            f"| clients that got every event of the run, in order, the same sequence | {f['complete']} / {f['clients']} |",
            f"| live events per client (kinds) | {f['events_per_client']} ({_kinds(f['event_kinds'])}) |",
            f"| stored messages of the run missing from the stream | {len(f['stored_messages_of_the_runs_missing'])} |",
            f"| post → `waiting` at a client, p50 / last client | {f['post_to_waiting_p50_s']:.2f} / {f['post_to_last_client_waiting_s']:.2f} s |",
            f"| lag behind the first client to receive an event, p50 / p99 / max | {f['spread_p50_ms']:.1f} / {f['spread_p99_ms']:.1f} / {f['spread_max_ms']:.1f} ms |",
            f"| events delivered; server CPU per event | {f['events_delivered']:,}; {f['cpu_us_per_event']:.0f} µs ({f['server_cpu_s']:.1f} s in all) |",
            f"| RSS idle / {f['clients']} connected / peak / after they left | {f['rss_idle_mib']:.1f} / {f['rss_connected_mib']:.1f} / {f['rss_peak_mib']:.1f} / {f['rss_after_mib']:.1f} MiB |",
            f"| tracebacks in the server log | {f['tracebacks']} |",
            "",
        ]
    for key, title in (
        ("stalled", "and a client that never reads"),
        ("stalled_control", "the same without it"),
        ("overflow", "and a client that never reads"),
        ("overflow_control", "the same without it"),
    ):
        if s := results.get(key):
            setup = f", prompts padded to {s['prompt_bytes']:,} bytes" if s["prompt_bytes"] else ""
            setup += f", serve `{s['serve_args']}`" if s["serve_args"] else ""
            lines += [
                f"**{s['clients']} reading clients, {s['runs']} `/slow` runs back to back at speed {s['speed']}{setup}, {title}**",
                "",
                "| figure | value |",
                "|---|---|",
                f"| readers complete (every event, in order) | {s['complete']} / {s['clients']} |",
                f"| the runs took; delivered to every reader after | {s['runs_took_s']:.1f} s; {s['delivered_to_all_s']:.1f} s |",
                f"| readers' lag behind the first, p50 / p99 / max | {s['spread_p50_ms']:.1f} / {s['spread_p99_ms']:.1f} / {s['spread_max_ms']:.1f} ms |",
                f"| RSS idle / peak / end | {s['rss_idle_mib']:.1f} / {s['rss_peak_mib']:.1f} / {s['rss_end_mib']:.1f} MiB |",
                (
                    f"| the stalled socket: still held by the mock {s['stalled_checked_after_s']:.1f} s after the first run began; its server end left ESTABLISHED after; bytes it had been sent; closed; close frame | {'yes' if s['stalled_still_held'] else 'no'}; {_seconds(s['stalled_dropped_after_s'])}; {s['stalled_bytes_received']:,}; {s['stalled_socket_closed_by_server']}; {s['stalled_close_code'] or 'none (it could not be delivered)'} |"
                    if s["stalled_client"]
                    else "| the stalled socket | none in this run |"
                ),
                f"| tracebacks in the server log | {s['tracebacks']} |",
                "",
            ]
    lines += [
        "How to read the stalled rows: a client that stops reading is dropped by whichever comes",
        "first, uvicorn's `websockets` keepalive (a ping every 20 s, close 1011 when no pong came 20 s",
        "later: about 40 s into the stall) or the mock's queue limit (`--watch-queue` events unsent:",
        "1008), which grows only once the kernel's socket buffers (up to 4 MiB here) are full. With",
        "the `/slow` run's small events the keepalive wins; with 64 KiB events and a 50-event queue the",
        "mock's limit does, well before 40 s, and its 1008 frame cannot reach a client whose buffers",
        "are full (the connection just ends). \"Still held\" is the control plane's count of the chat's",
        "streams once the runs were delivered, less the readers. The machine is shared with other",
        "agents: run-to-run swings of the readers' lag and of how long the runs took are that load.",
        "",
    ]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "not within the runs" if value is None else f"{value:.1f} s"


def _kinds(kinds: dict[str, int]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items(), key=lambda item: -item[1]))


# Sections other benches write after this one, kept in place.
LATER_SECTIONS = ("<!-- soak-current:",)


def write_section(report: Path, section: str) -> None:
    """Put this section in place of its last version (at the end, before any later section)."""
    text = report.read_text() if report.exists() else ""
    head, _, rest = text.partition(SECTION_BEGIN)
    later = min((rest.index(mark) for mark in LATER_SECTIONS if mark in rest), default=len(rest))
    tail = f"\n{rest[later:].rstrip(chr(10))}\n" if later < len(rest) else ""
    head = head.rstrip("\n")
    report.write_text((f"{head}\n\n{section}\n" if head else section + "\n") + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", choices=("fanout", "stalled", "overflow", "all"))
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs -m mockserver")
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="processes the clients are split over")
    parser.add_argument("--runs", type=int, default=150, help="`/slow` runs in the stalled benchmark")
    parser.add_argument("--speed", type=float, default=20.0, help="agent speed in the stalled benchmarks")
    parser.add_argument("--prompt-bytes", type=int, default=0, help="padding of each stalled run's prompt")
    parser.add_argument("--mock-arg", action="append", help="an extra argument for serve (stalled runs)")
    parser.add_argument("--overflow-clients", type=int, default=50, help="readers in the overflow benchmark")
    parser.add_argument("--overflow-runs", type=int, default=40)
    parser.add_argument("--overflow-prompt-bytes", type=int, default=65536)
    parser.add_argument("--overflow-queue", type=int, default=50, help="serve --watch-queue in overflow")
    parser.add_argument("--server-cpu", type=int, default=0, help="the server's CPU (-1: any)")
    parser.add_argument("--load-cpu", type=int, default=1, help="the clients' CPU (-1: any)")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT.md")
    parser.add_argument("--no-report", action="store_true", help="print the figures only")
    args = parser.parse_args(argv)
    _raise_fd_limit()
    PINNING["server"] = None if args.server_cpu < 0 else args.server_cpu
    PINNING["load"] = None if args.load_cpu < 0 else args.load_cpu
    if PINNING["load"] is not None:
        os.sched_setaffinity(0, {PINNING["load"]})
    out = ROOT / "bench" / "results" / f"stream-load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if args.which in ("fanout", "all"):
        results["fanout"] = bench_fanout(args, out)
        print(json.dumps(results["fanout"], indent=1), flush=True)
    if args.which in ("stalled", "all"):
        results["stalled"] = bench_stalled(args, out, stalled=True, name="stalled")
        print(json.dumps(results["stalled"], indent=1), flush=True)
        results["stalled_control"] = bench_stalled(args, out, stalled=False, name="stalled-control")
        print(json.dumps(results["stalled_control"], indent=1), flush=True)
    if args.which in ("overflow", "all"):
        # Big events and a short server queue: the stalled client's kernel buffers fill within the
        # keepalive's 40 s, so the mock's own limit (1008) is what drops it.
        args.clients, args.runs = args.overflow_clients, args.overflow_runs
        args.prompt_bytes = args.overflow_prompt_bytes
        args.mock_arg = [*(args.mock_arg or []), f"--watch-queue={args.overflow_queue}"]
        results["overflow"] = bench_stalled(args, out, stalled=True, name="overflow")
        print(json.dumps(results["overflow"], indent=1), flush=True)
        results["overflow_control"] = bench_stalled(args, out, stalled=False, name="overflow-control")
        print(json.dumps(results["overflow_control"], indent=1), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    if not args.no_report:
        command = "python bench/stream_load.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_section(args.report, render(results, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
