"""serve's server on a real socket: what only the server can hold (request heads, slow heads,
open connections), bodies over the wire (chunked, stalled), and binding."""

from __future__ import annotations

import gc
import http.client
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from websockets.server import ServerProtocol
from websockets.sync.client import connect

from mockserver import ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.command.cli import build_parser, main
from mockserver.core.golang import encode_json
from mockserver.core.stopping import Stopping
from mockserver.edge.limits import Limits
from mockserver.server.serving import (
    BindError,
    MockServer,
    StopDeadline,
    bind,
    limits_from_args,
)
from tests.app_settings import app_settings
from tests.server_thread import served_in_a_thread

TOKEN = b"alice00001-AliceDemoSessionSecret"


@contextmanager
def _served(limits: Limits, *, keep_alive: float | None = None) -> Iterator[tuple[str, int]]:
    """serve's server over a fresh mock, on a free loopback port, in a thread."""
    stopping = Stopping()
    app = create_app(
        app_settings(limits=limits, validate_responses=False),
        clock=SteppingClock(),
        new_id=seeded_uuids(9),
        scheduler=ImmediateScheduler(),
        stopping=stopping,
    )
    with served_in_a_thread(app, limits=limits, stopping=stopping, keep_alive=keep_alive) as address:
        yield address


def _exchange(address: tuple[str, int], *sent: bytes) -> bytes:
    """Send the pieces on one connection, then read until the server closes it."""
    with socket.create_connection(address, timeout=30) as connection:
        for piece in sent:
            connection.sendall(piece)
        return _read_until_closed(connection)


def _read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def _answer(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    return int(head.split(b" ", 2)[1]), body


def _request(method: bytes, path: bytes, *headers: bytes) -> bytes:
    lines = [method + b" " + path + b" HTTP/1.1", b"host: mock", b"coder-session-token: " + TOKEN, *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_a_request_head_over_the_limit_is_431_before_it_is_all_read() -> None:
    limits = Limits(max_header_bytes=1000)
    with _served(limits) as address:
        # When one header field is 200 kB (the slack for the request line is 8 kB)
        raw = _exchange(address, _request(b"GET", b"/api/v2/chats/x", b"x-big: " + b"y" * 200_000))
    # Then
    assert _answer(raw) == (
        431,
        encode_json(
            {
                "message": "Request header fields too large.",
                "detail": "The request head passed 9192 bytes before its end; the mock reads at most "
                "1000 bytes of header fields (--max-header-bytes).",
            }
        ),
    )


def test_a_head_that_does_not_arrive_in_time_is_408_and_closed() -> None:
    with _served(Limits(header_timeout=0.2)) as address:
        # When the request line comes and the headers never end
        raw = _exchange(address, b"GET /api/v2/chats/x HTTP/1.1\r\nhost: mock\r\n")
    assert _answer(raw) == (
        408,
        encode_json(
            {
                "message": "Request headers not received in time.",
                "detail": "The request's headers did not arrive within 0.2 seconds (--header-timeout).",
            }
        ),
    )


def test_a_connection_that_never_says_anything_is_closed() -> None:
    with _served(Limits(header_timeout=0.2)) as address:
        raw = _exchange(address)
    assert _answer(raw)[0] == 408


def _read_answer(connection: socket.socket) -> bytes:
    """One whole answer (a Content-Length one) from a kept-alive connection."""
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(received):
        chunk = connection.recv(65536)
        assert chunk, f"the server closed the connection after {received!r}"
        received += chunk
    return received


def _length(received: bytes) -> int:
    head = received.partition(b"\r\n\r\n")[0].lower()
    return int(head.partition(b"content-length:")[2].split(b"\r\n")[0] or 0)


def test_a_connection_idle_past_the_keep_alive_timeout_is_closed_and_a_busy_one_is_kept() -> None:
    with _served(Limits(), keep_alive=0.3) as address, socket.create_connection(address, timeout=5) as busy:
        # Given a connection that asks again every 0.1 s for 0.9 s
        for _ in range(9):
            busy.sendall(_request(b"GET", b"/api/v2/chats/7c60d51f-b44e-4682-87d6-449835ea4de6"))
            assert _read_answer(busy).startswith(b"HTTP/1.1 404 ")
            time.sleep(0.1)
        # And a request whose body comes 0.5 s after its head (past the keep-alive) is waited for
        body = b'{"provider": "anthropic", "model": "claude-sonnet-4-5", "title": "slow"}'
        busy.sendall(
            _request(
                b"POST",
                b"/api/v2/chats",
                b"content-type: application/json",
                b"content-length: %d" % len(body),
            )
        )
        time.sleep(0.5)
        busy.sendall(body)
        assert _read_answer(busy).startswith(b"HTTP/1.1 201 ")
        # Then it was kept all along; and once it says nothing for longer than 0.3 s, it is closed
        started = time.monotonic()
        assert busy.recv(65536) == b""
        assert 0.15 < time.monotonic() - started < 2.0


def test_a_request_past_the_open_connections_is_503() -> None:
    with (
        _served(Limits(max_connections=2)) as address,
        socket.create_connection(address),
        socket.create_connection(address),
    ):
        # When two connections are open (idle) and a third asks
        raw = _exchange(address, _request(b"GET", b"/api/v2/chats/x"))
    assert _answer(raw) == (
        503,
        encode_json(
            {
                "message": "Too many concurrent connections.",
                "detail": "3 connections are open; the mock serves at most 2 at once (--max-connections).",
            }
        ),
    )


def test_a_chunked_body_over_the_limit_is_413_before_the_rest_is_sent() -> None:
    with _served(Limits(max_body_bytes=1000)) as address, socket.create_connection(address, timeout=30) as c:
        c.sendall(_request(b"POST", b"/api/v2/chats", b"transfer-encoding: chunked"))
        # When 2 kB of a body that never ends arrive
        c.sendall(b"800\r\n" + b"x" * 2048 + b"\r\n")
        # Then the answer comes without the rest, and the connection closes
        raw = _read_until_closed(c)
    status, body = _answer(raw)
    assert status == 413
    assert body.startswith(b'{"message":"Request body too large."')


def test_a_stalled_body_is_408_and_a_10_gb_one_is_413_at_once() -> None:
    with _served(Limits(body_timeout=0.2)) as address:
        # When 10 bytes of 100 come, then nothing
        stalled = _exchange(
            address, _request(b"POST", b"/api/v2/chats", b"content-length: 100") + b"0123456789"
        )
        # When 10 GB are announced
        huge = _exchange(address, _request(b"POST", b"/api/v2/chats", b"content-length: 10000000000"))
    assert _answer(stalled)[0] == 408
    assert _answer(huge) == (
        413,
        encode_json(
            {
                "message": "Request body too large.",
                "detail": "The body is 10000000000 bytes; the mock reads at most 4194304 (--max-body-bytes).",
            }
        ),
    )


def test_a_body_sent_with_its_head_is_handed_on_whole_so_an_early_answer_keeps_the_connection() -> None:
    body = b'{"content":"hello"}'
    unauthenticated_post = (
        b"POST /api/v2/chats HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with _served(Limits()) as address:
        # When a POST without a token comes whole in one piece, a last request behind it
        raw = _exchange(
            address, unauthenticated_post + _request(b"GET", b"/api/v2/chats/x", b"connection: close")
        )
    # Then the 401 comes before the body is read (coderd's order), and since the server held the
    # body whole, the connection stays open for the next request (it closes after one that is not)
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 401 ")
    assert b"connection: close" not in first.lower()
    assert b"HTTP/1.1 400 " in rest  # the GET's answer: `x` is not a chat id


def test_a_taken_port_is_a_bind_error_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When
        with pytest.raises(BindError) as error:
            bind("127.0.0.1", port)
    # Then
    assert str(error.value) == f"port {port} on 127.0.0.1 is already in use; choose another with --port"


def test_every_limit_is_a_serve_option_with_the_limits_default() -> None:
    parser = build_parser()
    assert limits_from_args(parser.parse_args(["serve"])) == Limits()
    assert limits_from_args(
        parser.parse_args(
            ["serve", "--max-body-bytes", "10", "--body-timeout", "0.5", "--max-websockets", "3"]
        )
    ) == Limits(max_body_bytes=10, body_timeout=0.5, max_websockets=3)


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--max-body-bytes", "0"], "chats-mock: --max-body-bytes must be positive\n"),
        (["--max-json-depth", "501"], "chats-mock: --max-json-depth must be at most 500\n"),
        (["--shutdown-timeout", "0"], "chats-mock: --shutdown-timeout must be positive\n"),
    ],
)
def test_a_limit_out_of_range_stops_serve_in_one_line(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", *argv]) == 2
    assert capsys.readouterr().err == error


def test_a_websocket_that_leaves_is_freed_without_waiting_for_a_garbage_collection() -> None:
    """Two parsers keep a cycle with their protocols: websockets' (the WebSocket's) and httptools'
    (the HTTP protocol the connection began with, until the upgrade); serve breaks both, so a
    watcher that leaves is freed at once, not at the next full garbage collection."""

    def server_protocols() -> int:
        return sum(1 for thing in gc.get_objects() if isinstance(thing, ServerProtocol | HttpToolsProtocol))

    with _served(Limits()) as (host, port):
        api = http.client.HTTPConnection(host, port, timeout=30)
        headers = {"coder-session-token": TOKEN.decode(), "content-type": "application/json"}
        api.request("POST", "/api/v2/chats", body=b'{"provider": "p", "model": "m"}', headers=headers)
        chat = json.loads(api.getresponse().read())["id"]
        api.close()
        gc.collect()
        gc.disable()
        try:
            with connect(
                f"ws://{host}:{port}/api/v2/chats/{chat}/messages/watch-ws",
                additional_headers={"coder-session-token": TOKEN.decode()},
            ) as watcher:
                watcher.recv(timeout=30)
                assert server_protocols() == 1  # the WebSocket's: the HTTP one went at the upgrade
            deadline = time.monotonic() + 30
            while server_protocols() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert server_protocols() == 0
        finally:
            gc.enable()


def test_a_stop_deadline_ends_the_process_once_its_time_has_passed() -> None:
    ended = threading.Event()
    deadline = StopDeadline(0.01, exit_now=ended.set)
    # When it is armed (twice: a second signal does not restart it)
    deadline.arm()
    deadline.arm()
    # Then it ends the process, whatever holds the event loop meanwhile
    assert ended.wait(30)


def test_a_stop_deadline_disarmed_in_time_ends_nothing() -> None:
    ended = threading.Event()
    deadline = StopDeadline(0.05, exit_now=ended.set)
    deadline.arm()
    deadline.disarm()
    assert not ended.wait(0.3)


def test_a_stop_signal_arms_the_deadline() -> None:
    ended = threading.Event()
    server = MockServer(
        uvicorn.Config(create_app(app_settings())),
        stopping=Stopping(),
        shutdown_timeout=3.0,
        deadline=StopDeadline(0.0, exit_now=ended.set),
    )
    # When SIGTERM arrives
    server.handle_exit(signal.SIGTERM, None)
    # Then the graceful stop begins, and the deadline counts
    assert server.should_exit
    assert ended.wait(30)
