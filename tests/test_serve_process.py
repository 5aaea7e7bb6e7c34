"""`chats-mock serve` as a process: the banner once listening, a taken port and a bad fixture in
one line, and SIGTERM with work in flight ending in a clean exit."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
import yaml

from mockserver.command.cli import main
from mockserver.core.directory import DEMO_TOKENS
from tests.server_process import serve_process

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "alice00001-AliceDemoSessionSecret"
ALICE = {"Coder-Session-Token": TOKEN}


def test_the_banner_comes_once_the_port_listens() -> None:
    with serve_process() as (process, port):
        # When the banner has been read, at once
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            # Then the port takes a connection (the banner names the port it bound, not 0)
            assert connection.getpeername()[1] == port
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


@pytest.mark.parametrize(
    ("api", "which", "commit"),
    [("v1", "the seed's generation", "57cb8559"), ("current", "today's generation", "004053e8")],
)
def test_the_banner_names_the_generation_and_the_documents_it_serves(
    api: str, which: str, commit: str
) -> None:
    first: list[str] = []
    with serve_process("--api", api, banner=first) as (process, port):
        assert process.stdout is not None
        documents = process.stdout.readline()
        served = httpx.get(f"http://127.0.0.1:{port}/api/v2/openapi.json", timeout=30).json()
        experimental = httpx.get(
            f"http://127.0.0.1:{port}/api/experimental/chats",
            headers={"Coder-Session-Token": DEMO_TOKENS["alice"]},
            timeout=30,
        ).status_code
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    # Today's API names the prefix Coder's UI calls, and answers under it; V1 has no such prefix.
    assert first[0].endswith(
        (f"/api/v2 and /api/experimental, {which} (--api {api}: coder/coder@{commit})\n")
        if api == "current"
        else f"/api/v2, {which} (--api {api}: coder/coder@{commit}; today's Coder: --api current)\n"
    )
    assert experimental == (200 if api == "current" else 404)
    named = documents.split("/api/v2/openapi.json (")[1].split(")")[0]
    websockets_named = documents.rsplit("its WebSockets: ", 1)[1].strip()
    assert yaml.safe_load((ROOT / named).read_text(encoding="utf-8"))["info"] == served["info"]
    assert yaml.safe_load((ROOT / websockets_named).read_text(encoding="utf-8"))["asyncapi"] == "3.0.0"
    assert "Swagger UI at /api/v2/ui/" in documents


def test_a_taken_port_is_one_line_naming_it_and_no_banner() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    # Then
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        result.stderr
        == f"chats-mock: port {port} on 127.0.0.1 is already in use; choose another with --port\n"
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "{path}: cannot read: Is a directory"),
        (b"\xff\xfe chats", "{path}: cannot read: not UTF-8 text (byte 0)"),
        (b"chats: [\n", "{path}:2: not YAML: expected the node content, but found '<stream end>'"),
    ],
    ids=["a directory", "not UTF-8", "not YAML"],
)
def test_an_unreadable_fixture_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, error: str
) -> None:
    path = tmp_path / "fixture.yaml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    # When
    code = main(["serve", "--port", "0", "--fixtures", str(path)])
    # Then
    assert code == 2
    assert capsys.readouterr().err == f"chats-mock: bad fixture: {error.format(path=path)}\n"


def test_sigterm_with_work_in_flight_exits_0_and_closes_every_watcher() -> None:
    with serve_process("--control", "--log-level", "info") as (process, port):
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=ALICE) as http:
            chat = http.post("/api/v2/chats", json={"provider": "p", "model": "m"}).json()["id"]
            http.post("/__mock/faults", json={"method": "GET", "path": "/chats/*", "latency_ms": 60_000})

        async def scenario() -> tuple[int | None, int, bytes]:
            watch = f"ws://127.0.0.1:{port}/api/v2/chats/{chat}/messages/watch-ws"
            async with websockets.connect(watch, additional_headers=ALICE) as watcher:
                await watcher.recv()  # the backlog: the watcher is live
                # A stalled upload: 10 bytes of 100
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(
                    b"POST /api/v2/chats HTTP/1.1\r\nhost: mock\r\ncoder-session-token: "
                    + TOKEN.encode()
                    + b"\r\ncontent-length: 100\r\n\r\n0123456789"
                )
                async with httpx.AsyncClient(base_url=base, headers=ALICE, timeout=60) as http:
                    # A request held by the minute-long latency rule
                    held = asyncio.ensure_future(http.get(f"/api/v2/chats/{chat}"))
                    while not (await http.get("/__mock/faults")).json()["faults"][0]["matched"]:
                        await asyncio.sleep(0.01)  # until the rule holds it (polling a real server)
                    # When
                    process.send_signal(signal.SIGTERM)
                    # Then the watcher gets a close frame, the held request its answer, the upload its refusal
                    with pytest.raises(websockets.ConnectionClosed) as closed:
                        while True:
                            await watcher.recv()
                    answered = (await held).status_code
                upload = await reader.read()
                writer.close()
            return closed.value.rcvd.code if closed.value.rcvd else None, answered, upload

        close_code, held_status, upload = asyncio.run(scenario())
        code = process.wait(30)
        log = process.stderr.read() if process.stderr else ""
    assert code == 0
    assert close_code == 1001
    assert held_status == 200
    assert upload.startswith(b"HTTP/1.1 503 ")
    assert upload.endswith(
        b'{"message":"The server is shutting down.","detail":"The request\'s body was still awaited '
        b'when the server began to stop."}\n'
    )
    assert "Traceback" not in log
    assert "ERROR" not in log


def _send_whole_body_then_read(port: int, body: bytes) -> tuple[int, bytes]:
    """Python's urllib: it sends the whole body before it reads a byte of the answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2/chats",
        data=body,
        headers={**ALICE, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def _upload_with_httpx_then_read(port: int, body: bytes) -> tuple[int, bytes]:
    """httpx's async client, still uploading (in pieces, no Content-Length) when the answer comes."""

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(f"http://127.0.0.1:{port}/api/v2/chats", content=pieces(), headers=ALICE)
        return answer.status_code, answer.content


@pytest.mark.parametrize("client", ["urllib", "httpx-async"])
def test_a_client_that_sends_a_body_over_the_limit_before_reading_gets_the_413(client: str) -> None:
    # A 24 MiB body: far more than the sockets' buffers hold, to a server that reads 64 KiB.
    body = b'{"content":[{"type":"text","text":"' + b"x" * (24 * 1024 * 1024) + b'"}]}'
    with serve_process("--api", "current", "--max-body-bytes", "65536") as (process, port):
        # When the whole body is sent before the answer is read
        if client == "urllib":
            status, answer = _send_whole_body_then_read(port, body)
        else:
            status, answer = asyncio.run(_upload_with_httpx_then_read(port, body))
        listed = httpx.get(f"http://127.0.0.1:{port}/api/v2/chats", headers=ALICE, timeout=30).json()
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    # Then it reads Coder's 413, not a reset connection, and the body was not stored
    assert status == 413
    assert json.loads(answer)["message"] == "Request body too large."
    assert listed == []


def test_sigterm_while_a_large_many_part_post_is_decoded_exits_0_at_the_deadline() -> None:
    # A 3.9 MB message of 78,000 parts: decoding and checking it holds the event loop for a
    # second or more, which no graceful step can cut short (issue 27 measured stops of 7.2 s).
    parts = [{"type": "text", "text": "x" * 20} for _ in range(78_000)]
    body = json.dumps({"organization_id": "7c60d51f-b44e-4682-87d6-449835ea4de6", "content": parts})
    with serve_process("--api", "current", "--shutdown-timeout", "0.5") as (process, port):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            head = (
                "POST /api/v2/chats HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\n"
                f"coder-session-token: {TOKEN}\r\ncontent-length: {len(body)}\r\n\r\n"
            )
            client.sendall(head.encode() + body.encode())
            # When the stop is asked for while the server works on it
            process.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            code = process.wait(30)
            took = time.monotonic() - asked
        log = process.stderr.read() if process.stderr else ""
    # Then a clean exit, at the deadline at the latest (slack for a busy machine's scheduling;
    # bench/REPORT.md has the figures)
    assert code == 0, log
    assert took < 0.5 + 2.5, f"the stop took {took:.2f} s"
    assert "Traceback" not in log
