"""The soak of today's API: storms of sends, slow bodies, stream and watch clients, all at once.

    python bench/soak.py                 # 5 minutes, then the section in bench/REPORT.md
    python bench/soak.py --seconds 60 --no-report

A real `chats-mock serve --api current` on loopback (turns at `--speed`) is driven the way the
issue-27 probes drove it: `--rest` clients each pick a chat among `--chats` and an operation,
mostly sends (a sixth with `busy_behavior: interrupt`, one in twenty with its body held back
0.5-4 s after its head), and interrupts, queue deletes and promotes, archive-then-unarchive,
GETs of chats, transcripts and the list; `--streams` clients follow a chat's stream a while,
then another's; `--watchers` clients follow the chat list's watch. Turns play the built-in
scenarios a message's text picks (echo, `/slow`, `/tool-use`, `/upstream-error`). Edits are left
out: an edit empties the queue without saying which messages it dropped, so a message it
dropped could not be told from a lost one (the Hypothesis machine in
tests/test_current_status_machine.py covers edits).

Then the load stops and every chat is brought to rest as a user would: unarchived, an errored
chat's queue promoted head by head, until each is `waiting` or `error` with an empty queue. It
reports:
- wedged chats: one that answered a 409 naming state `Invalid`, was seen waiting with a queue,
  or did not come to rest within `--drain-seconds`;
- lost messages: a send answered 200 whose text is in no transcript and was not deleted from
  the queue by this run;
- 5xx answers, tracebacks in the server's log, stream and watch frames and sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import websockets  # noqa: E402

from bench.fanout import PINNING, TOKEN, _machine, _pin, _raise_fd_limit, pct, serving, settle_rss  # noqa: E402

SECTION_BEGIN = "<!-- soak-current: written by bench/soak.py -->"
ORG = "7c60d51f-b44e-4682-87d6-449835ea4de6"
HEADERS = {"Coder-Session-Token": TOKEN}
PREFIXES = ("", "", "", "/slow", "/tool-use", "/upstream-error")
# Operations of a REST client and their weights.
OPERATIONS = {
    "send": 50,
    "send slow body": 3,
    "interrupt": 5,
    "delete queued": 4,
    "promote queued": 4,
    "archive": 2,
    "GET chat": 12,
    "GET messages": 12,
    "GET chats": 4,
}
AT_REST = ("waiting", "error")


@dataclass
class Tally:
    """What the clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # message text -> chat id
    queued_at_send: int = 0
    deleted: set[str] = field(default_factory=set)
    invalid: dict[str, str] = field(default_factory=dict)  # chat id -> what showed it
    five_xx: list[str] = field(default_factory=list)
    transport_errors: Counter[str] = field(default_factory=Counter)
    stream_sessions: int = 0
    stream_frames: int = 0
    stream_errors: Counter[str] = field(default_factory=Counter)
    watch_frames: int = 0
    watch_errors: Counter[str] = field(default_factory=Counter)

    def answer(self, op: str, chat: str, status: int, body: Any, took: float) -> None:
        self.statuses[status] += 1
        self.operations[op] += 1
        self.latencies.append(took)
        if status >= 500:
            self.five_xx.append(f"{op} {chat}: {status} {body}")
        if status == 409 and isinstance(body, dict) and "Invalid" in str(body.get("detail", "")):
            self.invalid.setdefault(chat, f"{op}: {body['detail']}")


def _text(rng: random.Random, counter: list[int]) -> str:
    counter[0] += 1
    return f"{rng.choice(PREFIXES)} soak-{counter[0]}".strip()


async def _request(
    http: httpx.AsyncClient, tally: Tally, op: str, chat: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    sent = time.monotonic()
    try:
        response = await http.request(method, path, json=body)
    except httpx.HTTPError as error:
        tally.transport_errors[type(error).__name__] += 1
        return 0, None
    try:
        answer = response.json() if response.content else None
    except ValueError:
        answer = response.text
    tally.answer(op, chat, response.status_code, answer, time.monotonic() - sent)
    return response.status_code, answer


async def _slow_send(
    port: int, tally: Tally, chat: str, body: dict[str, Any], hold: float
) -> tuple[int, Any]:
    """A send whose head goes now and whose body `hold` seconds later (a slow upload)."""
    payload = json.dumps(body).encode()
    head = (
        f"POST /api/v2/chats/{chat}/messages HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\n"
        f"coder-session-token: {TOKEN}\r\ncontent-length: {len(payload)}\r\nconnection: close\r\n\r\n"
    )
    sent = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head.encode())
        await writer.drain()
        await asyncio.sleep(hold)
        writer.write(payload)
        await writer.drain()
        raw = await reader.read()
        writer.close()
    except OSError as error:
        tally.transport_errors[type(error).__name__] += 1
        return 0, None
    status_line, _, rest = raw.partition(b"\r\n")
    status = int(status_line.split()[1]) if status_line else 0
    _, _, content = rest.partition(b"\r\n\r\n")
    answer = json.loads(content) if content.strip().startswith(b"{") else None
    tally.answer("send slow body", chat, status, answer, time.monotonic() - sent)
    return status, answer


async def _rest_client(
    index: int, port: int, chats: list[str], tally: Tally, stop_at: float, seed: int, counter: list[int]
) -> None:
    rng = random.Random(seed * 1000 + index)
    names, weights = zip(*OPERATIONS.items(), strict=True)
    base = f"http://127.0.0.1:{port}/api/v2"
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=60) as http:
        while time.monotonic() < stop_at:
            chat = rng.choice(chats)
            op = rng.choices(names, weights)[0]
            if op in ("send", "send slow body"):
                text = _text(rng, counter)
                body: dict[str, Any] = {"content": [{"type": "text", "text": text}]}
                if rng.random() < 1 / 6:
                    body["busy_behavior"] = "interrupt"
                if op == "send":
                    status, answer = await _request(
                        http, tally, op, chat, "POST", f"/chats/{chat}/messages", body
                    )
                else:
                    status, answer = await _slow_send(port, tally, chat, body, rng.uniform(0.5, 4.0))
                if status == 200:
                    tally.accepted[text] = chat
                    tally.queued_at_send += bool(answer and answer.get("queued"))
            elif op == "interrupt":
                await _request(http, tally, op, chat, "POST", f"/chats/{chat}/interrupt")
            elif op in ("delete queued", "promote queued"):
                status, page = await _request(
                    http, tally, "GET messages", chat, "GET", f"/chats/{chat}/messages"
                )
                queued = page.get("queued_messages") if status == 200 and page else None
                if queued:
                    target = rng.choice(queued)
                    if op == "delete queued":
                        path, method = f"/chats/{chat}/queue/{target['id']}", "DELETE"
                    else:
                        path, method = f"/chats/{chat}/queue/{target['id']}/promote", "POST"
                    status, _ = await _request(http, tally, op, chat, method, path)
                    if op == "delete queued" and status == 204:
                        tally.deleted.add(_text_of(target["content"]))
            elif op == "archive":
                status, _ = await _request(
                    http, tally, op, chat, "PATCH", f"/chats/{chat}", {"archived": True}
                )
                if status == 204:
                    await asyncio.sleep(rng.uniform(0.2, 2.0))
                    await _request(
                        http, tally, "unarchive", chat, "PATCH", f"/chats/{chat}", {"archived": False}
                    )
            elif op == "GET chat":
                status, answer = await _request(http, tally, op, chat, "GET", f"/chats/{chat}")
                _check_shown(tally, chat, answer if status == 200 else None, None)
            elif op == "GET messages":
                status, page = await _request(http, tally, op, chat, "GET", f"/chats/{chat}/messages")
            else:
                await _request(http, tally, op, chat, "GET", "/chats")


def _check_shown(tally: Tally, chat: str, shown: dict[str, Any] | None, queued: list[Any] | None) -> None:
    """A chat shown waiting with queued messages is wedged (no state of the machine)."""
    if shown is not None and queued and shown["status"] == "waiting":
        tally.invalid.setdefault(chat, f"waiting with {len(queued)} queued")


def _text_of(parts: list[dict[str, Any]]) -> str:
    return "\n".join(part.get("text", "") for part in parts if part.get("type") == "text")


async def _stream_client(
    index: int, port: int, chats: list[str], tally: Tally, stop_at: float, seed: int
) -> None:
    rng = random.Random(seed * 7919 + index)
    while time.monotonic() < stop_at:
        chat = rng.choice(chats)
        url = f"ws://127.0.0.1:{port}/api/v2/chats/{chat}/stream"
        leave_at = min(stop_at, time.monotonic() + rng.uniform(5, 30))
        try:
            async with websockets.connect(url, additional_headers=HEADERS, max_size=None) as socket:
                tally.stream_sessions += 1
                while time.monotonic() < leave_at:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(socket.recv(), timeout=max(0.01, leave_at - time.monotonic()))
                        tally.stream_frames += 1
        except (OSError, websockets.WebSocketException) as error:
            tally.stream_errors[type(error).__name__] += 1
            await asyncio.sleep(0.5)


async def _watch_client(port: int, tally: Tally, stop_at: float) -> None:
    url = f"ws://127.0.0.1:{port}/api/v2/chats/watch"
    while time.monotonic() < stop_at:
        try:
            async with websockets.connect(url, additional_headers=HEADERS, max_size=None) as socket:
                while time.monotonic() < stop_at:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(socket.recv(), timeout=max(0.01, stop_at - time.monotonic()))
                        tally.watch_frames += 1
        except (OSError, websockets.WebSocketException) as error:
            tally.watch_errors[type(error).__name__] += 1
            await asyncio.sleep(0.5)


async def _state_of(http: httpx.AsyncClient, chat: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    shown = (await http.get(f"/chats/{chat}")).json()
    queued = (await http.get(f"/chats/{chat}/messages?limit=1")).json()["queued_messages"]
    return shown, queued


async def _drain(port: int, chats: list[str], tally: Tally, seconds: float) -> list[str]:
    """Bring every chat to rest as a user would; the chats that never got there."""
    base = f"http://127.0.0.1:{port}/api/v2"
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=60) as http:
        restless = list(chats)
        while restless and time.monotonic() < deadline:
            still: list[str] = []
            for chat in restless:
                shown, queued = await _state_of(http, chat)
                _check_shown(tally, chat, shown, queued)
                if shown["archived"]:
                    await _request(
                        http, tally, "unarchive", chat, "PATCH", f"/chats/{chat}", {"archived": False}
                    )
                    still.append(chat)
                elif shown["status"] == "error" and queued:
                    path = f"/chats/{chat}/queue/{queued[0]['id']}/promote"
                    await _request(http, tally, "promote queued", chat, "POST", path)
                    still.append(chat)
                elif shown["status"] not in AT_REST or queued:
                    still.append(chat)
            restless = still
            if restless:
                await asyncio.sleep(0.5)
    return restless


async def _transcript_texts(port: int, chats: list[str]) -> set[str]:
    base = f"http://127.0.0.1:{port}/api/v2"
    texts: set[str] = set()
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=60) as http:
        for chat in chats:
            path = f"/chats/{chat}/messages?limit=200"
            page = (await http.get(path)).json()
            while True:
                texts.update(_text_of(m["content"]) for m in page["messages"] if m["role"] == "user")
                if not page["has_more"]:
                    break
                page = (await http.get(f"{path}&before_id={page['messages'][-1]['id']}")).json()
    return texts


async def _soak(args: argparse.Namespace, port: int) -> dict[str, Any]:
    tally = Tally()
    base = f"http://127.0.0.1:{port}/api/v2"
    async with httpx.AsyncClient(base_url=base, headers=HEADERS, timeout=60) as http:
        chats = []
        for n in range(args.chats):
            created = await http.post(
                "/chats",
                json={"organization_id": ORG, "content": [{"type": "text", "text": f"soak chat {n}"}]},
            )
            assert created.status_code == 201, created.text
            chats.append(created.json()["id"])
            tally.accepted[f"soak chat {n}"] = chats[-1]
    started = time.monotonic()
    stop_at = started + args.seconds
    counter = [0]
    await asyncio.gather(
        *(_rest_client(i, port, chats, tally, stop_at, args.seed, counter) for i in range(args.rest)),
        *(_stream_client(i, port, chats, tally, stop_at, args.seed) for i in range(args.streams)),
        *(_watch_client(port, tally, stop_at) for _ in range(args.watchers)),
    )
    load_seconds = time.monotonic() - started
    restless = await _drain(port, chats, tally, args.drain_seconds)
    drained_in = time.monotonic() - started - load_seconds
    ran = await _transcript_texts(port, chats)
    lost = sorted(text for text in tally.accepted if text not in ran and text not in tally.deleted)
    wedged = sorted(set(tally.invalid) | set(restless))
    return {
        "seconds": round(load_seconds, 1),
        "drained_in_s": round(drained_in, 1),
        "chats": len(chats),
        "requests": sum(tally.statuses.values()),
        "rate_per_s": round(sum(tally.statuses.values()) / load_seconds, 1),
        "statuses": dict(sorted(tally.statuses.items())),
        "operations": dict(tally.operations.most_common()),
        "p50_ms": round(pct(tally.latencies, 50) * 1000, 1),
        "p99_ms": round(pct(tally.latencies, 99) * 1000, 1),
        "sends_accepted": len(tally.accepted),
        "sends_queued": tally.queued_at_send,
        "queued_deleted": len(tally.deleted),
        "lost": len(lost),
        "lost_examples": lost[:10],
        "wedged": len(wedged),
        "wedged_why": {chat: tally.invalid.get(chat, "not at rest after the drain") for chat in wedged},
        "five_xx": len(tally.five_xx),
        "five_xx_examples": tally.five_xx[:5],
        "transport_errors": dict(tally.transport_errors),
        "stream_sessions": tally.stream_sessions,
        "stream_frames": tally.stream_frames,
        "stream_errors": dict(tally.stream_errors),
        "watch_frames": tally.watch_frames,
        "watch_errors": dict(tally.watch_errors),
    }


def render(results: dict[str, Any], command: str) -> str:
    """The report section."""
    rows = [
        (
            "load",
            f"{results['seconds']} s; {results['rest']} REST clients, {results['streams']} stream "
            f"clients, {results['watchers']} watch clients over {results['chats']} chats (turns at --speed "
            f"{results['speed']})",
        ),
        (
            "requests (rate)",
            f"{results['requests']} ({results['rate_per_s']}/s); p50 {results['p50_ms']} ms, "
            f"p99 {results['p99_ms']} ms (sends with a held body included: 0.5-4 s by design)",
        ),
        (
            "answers by status (4xx: refusals the state or an archive calls for)",
            ", ".join(f"{k}: {v}" for k, v in results["statuses"].items()),
        ),
        ("sends accepted (queued at once)", f"{results['sends_accepted']} ({results['sends_queued']})"),
        ("queued messages deleted by the clients", str(results["queued_deleted"])),
        ("**wedged chats**", f"**{results['wedged']}**"),
        ("**lost messages**", f"**{results['lost']}**"),
        ("**5xx answers**", f"**{results['five_xx']}**"),
        ("tracebacks in the server's log", str(results["tracebacks"])),
        ("all chats at rest after the load", f"{results['drained_in_s']} s"),
        ("stream sessions / frames", f"{results['stream_sessions']} / {results['stream_frames']}"),
        ("watch frames", str(results["watch_frames"])),
        (
            "client-side errors",
            f"transport {results['transport_errors'] or 0}, stream "
            f"{results['stream_errors'] or 0}, watch {results['watch_errors'] or 0}",
        ),
        ("server RSS idle -> end", f"{results['rss_idle_mib']:.1f} -> {results['rss_end_mib']:.1f} MiB"),
    ]
    lines = [
        SECTION_BEGIN,
        "",
        "## Today's API soaked: storms, slow bodies, streams, watch (`bench/soak.py`)",
        "",
    ]
    lines += [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}`",
        f"- machine: {_machine()}",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
    ]
    return "\n".join(lines)


def write_section(report: Path, section: str) -> None:
    """Put this section at the end of the report, in place of its last version."""
    text = report.read_text() if report.exists() else ""
    head = text.split(SECTION_BEGIN)[0].rstrip("\n")
    report.write_text(f"{head}\n\n{section}\n" if head else section + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs -m mockserver")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--rest", type=int, default=8, help="REST clients")
    parser.add_argument("--streams", type=int, default=10, help="stream clients")
    parser.add_argument("--watchers", type=int, default=2, help="watch clients")
    parser.add_argument("--speed", type=float, default=4.0, help="serve's --speed: how fast turns play")
    parser.add_argument("--drain-seconds", type=float, default=180)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--server-cpu", type=int, default=0, help="the server's CPU (-1: any)")
    parser.add_argument("--load-cpu", type=int, default=1, help="the clients' CPU (-1: any)")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "REPORT.md")
    parser.add_argument("--no-report", action="store_true", help="print the figures only")
    args = parser.parse_args(argv)
    _raise_fd_limit()
    PINNING["server"] = None if args.server_cpu < 0 else args.server_cpu
    PINNING["load"] = None if args.load_cpu < 0 else args.load_cpu
    _pin("load")
    out = ROOT / "bench" / "results" / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out.mkdir(parents=True, exist_ok=True)
    extra = ["--api", "current", "--speed", str(args.speed)]
    with serving(args.python, out / "serve.log", extra) as server:
        idle = settle_rss(server, 2)
        results = asyncio.run(_soak(args, server.port))
        results["rss_idle_mib"] = idle
        results["rss_end_mib"] = settle_rss(server, 2)
        results["tracebacks"] = server.tracebacks()
    results.update(rest=args.rest, streams=args.streams, watchers=args.watchers, speed=args.speed)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1), flush=True)
    if not args.no_report:
        command = " ".join(["python bench/soak.py", *(argv if argv is not None else sys.argv[1:])])
        write_section(args.report, render(results, command))
    healthy = results["wedged"] == results["lost"] == results["five_xx"] == 0
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
