"""Fair admission: the requests read in one pass of the event loop start least recently served
connection first (mockserver/server/admission.py), on its own and in serve's server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import Receive, Scope, Send

from mockserver.server.admission import FairAdmission
from tests.server_thread import served_in_a_thread


def test_a_pass_starts_its_requests_in_the_order_their_connections_were_served() -> None:
    async def scenario() -> list[str]:
        admission = FairAdmission()
        served = {name: admission.ticket() for name in "abc"}  # a, then b, then c answered
        started: list[str] = []
        loop = asyncio.get_running_loop()
        for name in ("c", "new", "a", "b"):  # as the kernel reported them
            admission.admit(loop, served.get(name), lambda name=name: started.append(name))
        assert started == []  # nothing starts before the pass is over
        await asyncio.sleep(0)
        return started

    assert asyncio.run(scenario()) == ["a", "b", "c", "new"]


def test_the_next_pass_is_ordered_on_its_own() -> None:
    async def scenario() -> list[list[str]]:
        admission = FairAdmission()
        loop = asyncio.get_running_loop()
        passes: list[list[str]] = [[], []]
        early, late = admission.ticket(), admission.ticket()
        admission.admit(loop, late, lambda: passes[0].append("late"))
        await asyncio.sleep(0)
        admission.admit(loop, None, lambda: passes[1].append("new"))
        admission.admit(loop, early, lambda: passes[1].append("early"))
        await asyncio.sleep(0)
        return passes

    assert asyncio.run(scenario()) == [["late"], ["early", "new"]]


@contextmanager
def _server_recording_starts(started: list[str]) -> Iterator[tuple[str, int]]:
    """serve's server over an app that notes each request's path as it starts; `/block` holds
    the event loop for a moment, so that what arrives meanwhile is read in one pass."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started.append(scope["path"])
        if scope["path"] == "/block":
            time.sleep(0.3)  # holds the loop: the requests sent meanwhile wait in their sockets
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    with served_in_a_thread(app) as address:
        yield address


def _ask(connection: socket.socket, path: str) -> None:
    connection.sendall(f"GET {path} HTTP/1.1\r\nhost: mock\r\n\r\n".encode())


def _answered(connection: socket.socket) -> bytes:
    received = b""
    while not received.endswith(b"ok"):
        chunk = connection.recv(65536)
        assert chunk, "the server closed the connection"
        received += chunk
    return received


def test_serve_starts_the_requests_of_one_pass_least_recently_served_first() -> None:
    started: list[str] = []
    with _server_recording_starts(started) as address:
        a, b, c, blocker = (socket.create_connection(address, timeout=30) for _ in range(4))
        with a, b, c, blocker:
            for name, connection in (("a", a), ("b", b), ("c", c)):  # served a, then b, then c
                _ask(connection, f"/{name}")
                _answered(connection)
            _ask(blocker, "/block")
            time.sleep(0.1)  # the loop is held now
            for name, connection in (("c", c), ("b", b), ("a", a)):  # they arrive c, b, a
                _ask(connection, f"/{name}-again")
                time.sleep(0.01)
            for connection in (blocker, a, b, c):
                _answered(connection)
    assert started[:4] == ["/a", "/b", "/c", "/block"]
    assert started[4:] == ["/a-again", "/b-again", "/c-again"]
