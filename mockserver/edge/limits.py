"""serve's limits on what one request may ask, and the ASGI layer that holds requests to them.

The layer is the outermost of the app, so every route (the Chats API, watch-ws, /__mock) gets
the same answers, each Coder's error body (`coder_errors`), each before anything is stored:
- more header fields than `max_headers`, or more bytes of them than `max_header_bytes`: 431;
- a body over `max_body_bytes`: 413 when the handler first reads it, before any of it is read
  (by its Content-Length) or as soon as the count passes the limit (a chunked body); the answer
  closes the connection, and nothing of the body is kept. A client that sends its whole body
  before it reads (Python's urllib, many HTTP libraries) would find the connection reset, its
  answer lost, if the server closed with the body unread: so once the answer is sent, what
  the client still sends is read and dropped, up to `DISCARD_BYTES` and within `body_timeout`,
  then the connection closes (a client that asked `Expect: 100-continue` sends nothing unasked);
- a body that has not arrived `body_timeout` seconds after the request began: 408, closed;
- a body the server already holds whole (`BODY_RECEIVED`) within `max_body_bytes` is handed on
  as it is: none of the above can happen to it (and an answer before the handler reads it keeps
  the connection open, as Go's server does for a small unread body);
- more WebSockets open at once than `max_websockets`: 503 before the upgrade;
- once the server begins to stop (`Stopping`): a body still awaited is let go with 503, and a
  WebSocket is closed with 1001 (going away); the app's receive then says disconnected and what
  it sends after that is dropped.
A body is only ever read when a handler asks for it, so coderd's order of refusals holds: an
unauthenticated request with a huge body is a 401, and its body is never read.

The limits the server itself must hold (the bytes of a request head while they arrive, the
header timeout, open connections) are in `mockserver.server.serving`, which reads the same `Limits`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Iterable, MutableMapping
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.errors import (
    BodyTooLarge,
    HeadersTooLarge,
    LimitExceeded,
    RequestTimeout,
    ServerBusy,
    ShuttingDown,
)
from mockserver.core.golang import MAX_NESTING, encode_json
from mockserver.core.stopping import Stopping
from mockserver.edge.coder_errors import CONTENT_TYPE, coder_error, send_error
from mockserver.edge.next_layer import direct_call

__all__ = [
    "BODY_RECEIVED",
    "DISCARD_BYTES",
    "GOING_AWAY",
    "Cut",
    "Limits",
    "LimitsMiddleware",
    "header_refusal",
]

MIB = 1024 * 1024
# The most of a refused body read and dropped after the answer, so that the client reads the
# answer before the connection closes (see the module docstring). Past it, the connection closes.
DISCARD_BYTES = 64 * MIB
# The WebSocket close code for a server going down (RFC 6455, 7.4.1).
GOING_AWAY = 1001
# The close code for a WebSocket refused where the server cannot answer HTTP before the upgrade.
TRY_AGAIN_LATER = 1013
# The scope extension by which a server says that a request's whole body was in before the app
# was called (serve's does: mockserver.server.serving). Such a body within `max_body_bytes` by its
# Content-Length has nothing left to be held to: no wait to time out or cut short, no count to
# pass, no answer that could come before it. It goes to the app as a GET does, unwrapped.
BODY_RECEIVED = "chats-mock.body_received"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask of the mock; each field is a `serve` option of the same name."""

    max_body_bytes: int = 4 * MIB  # a request body, as sent (413 past it)
    max_header_bytes: int = 64 * 1024  # header fields of one request (431 past it)
    max_headers: int = 100  # header fields of one request (431 past it)
    max_message_bytes: int = 256 * 1024  # a posted message's content, UTF-8 (400 past it)
    max_message_parts: int = 1000  # content parts of one message of today's API (400 past it)
    max_json_depth: int = 100  # nesting of arrays and objects in a body (400 past it)
    header_timeout: float = 10.0  # seconds from a connection's first byte to a request's last header
    body_timeout: float = 10.0  # seconds from a request's headers to its body's last byte
    max_connections: int = 4000  # open connections, WebSockets included (503 past it)
    max_websockets: int = 2000  # open WebSockets (503 before the upgrade past it)

    def __post_init__(self) -> None:
        for item in fields(self):
            if not getattr(self, item.name) > 0:
                raise ValueError(f"--{item.name.replace('_', '-')} must be positive")
        if self.max_json_depth > MAX_NESTING:
            # Deeper than this, Python's own decoder and encoder run out of stack.
            raise ValueError(f"--max-json-depth must be at most {MAX_NESTING}")


def header_refusal(limits: Limits, headers: Iterable[tuple[bytes, bytes]]) -> HeadersTooLarge | None:
    """The 431 a request's header fields earn, if any."""
    headers = list(headers)
    count = len(headers)
    size = sum(map(len, itertools.chain.from_iterable(headers))) + 4 * count  # "name: value\r\n"
    if count > limits.max_headers:
        return HeadersTooLarge(
            f"The request has {count} header fields; the mock reads at most {limits.max_headers} "
            "(--max-headers)."
        )
    if size > limits.max_header_bytes:
        return HeadersTooLarge(
            f"The request's header fields are {size} bytes; the mock reads at most "
            f"{limits.max_header_bytes} (--max-header-bytes)."
        )
    return None


def _too_large(limits: Limits, size: str) -> BodyTooLarge:
    return BodyTooLarge(
        f"The body is {size} bytes; the mock reads at most {limits.max_body_bytes} (--max-body-bytes)."
    )


async def _refuse(send: Send, error: LimitExceeded, *, close: bool) -> None:
    status, body = coder_error(error)
    await send_error(send, status, body, close=close)


class Cut(Enum):
    """Why a wait for the client was cut short."""

    TIMEOUT = "timeout"  # the body did not arrive within body_timeout
    STOPPING = "stopping"  # the server began to stop


class _Wait:
    """A receive that something else can cut short: one timer and one stop callback per request,
    rather than a timeout context around every receive (which costs ~10x as much on a POST).
    `loop` is the running one, given so that finding the waiting task does not look it up again
    (on Python 3.11 each lookup asks the kernel for the process id: a system call)."""

    __slots__ = ("_loop", "_task", "cut")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._task: asyncio.Task[Any] | None = None  # the task waiting in receive, if any
        self.cut: Cut | None = None  # why the wait was cut, once it is

    @property
    def waiting(self) -> bool:
        """Whether a receive is waiting now."""
        return self._task is not None

    def cut_short(self, why: Cut) -> None:
        """End the wait (now, or the next one) for `why`; the first reason given stays."""
        if self.cut is None:
            self.cut = why
            if self._task is not None:
                self._task.cancel()

    async def wait_for(self, receive: Receive) -> Message | None:
        """What `receive` gives, or None when the wait was cut (then `cut` says why)."""
        if self.cut is not None:
            return None
        task = self._task = asyncio.current_task(self._loop)
        try:
            message: Message = await receive()
        except asyncio.CancelledError:
            if self.cut is None or task is None or task.uncancel() > 0:
                raise  # cancelled by someone else as well: theirs to handle
            return None
        finally:
            self._task = None
        return message


class _Body(_Wait):
    """A request with a body, as the app sees it: the body held to the size limit and the
    deadline as the handler reads it (a wait cut short by the sweep or the stop), and the
    server's send, but an answer before the whole body is in (a 401, a 413) closes the
    connection: the rest of the body is read and dropped (`discard`), never kept, once the
    answer is out, so that a client still sending it gets to read that answer.

    One object per request for the three (the wait, the receive, the send): a POST builds it
    and nothing else.
    """

    __slots__ = (
        "_early",
        "_expects_continue",
        "_length",
        "_limits",
        "_read",
        "_receive",
        "_send",
        "complete",
    )

    def __init__(
        self,
        receive: Receive,
        send: Send,
        length: int | None,
        limits: Limits,
        *,
        expects_continue: bool,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(loop)
        self._receive = receive
        self._send = send
        self._length = length  # the Content-Length; None for a chunked body
        self._limits = limits
        self._expects_continue = expects_continue  # Expect: 100-continue: nothing comes unasked
        self._read = 0
        self._early = False  # the answer began before the body was in
        self.complete = False  # the last byte is in (or the client went away)

    def cut_short(self, why: Cut) -> None:
        if not self.complete:
            super().cut_short(why)

    async def receive(self) -> Message:
        if self.complete:  # only the disconnect is left to wait for: no deadline on that
            return await self._receive()
        if self._length is not None and self._length > self._limits.max_body_bytes:
            raise _too_large(self._limits, str(self._length))
        message = await self.wait_for(self._receive)
        if message is None:
            if self.cut is Cut.STOPPING:
                raise _stopping_refusal()
            raise RequestTimeout(
                "body",
                f"The body did not arrive within {self._limits.body_timeout:g} seconds (--body-timeout).",
            )
        if message["type"] != "http.request":
            self.complete = True
            return message
        self._read += len(message.get("body", b""))
        if self._read > self._limits.max_body_bytes:
            raise _too_large(self._limits, f"over {self._read}")
        self.complete = not message.get("more_body", False)
        return message

    @property
    def transport(self) -> Any:
        """The server's transport, as the fault layer's ConnectionDropper looks for it."""
        return getattr(getattr(self._send, "__self__", None), "transport", None)

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start" and not self.complete:
            self._early = True
            message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
        elif self._early and message["type"] == "http.response.body" and not message.get("more_body", False):
            # The whole answer goes out, but the server would close the connection as soon as
            # the response is complete: drop what the client still sends first, then complete it.
            await self._send({**message, "more_body": True})
            await self.discard()
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await self._send(message)

    async def discard(self) -> None:
        """Read and drop what is left of the body, up to DISCARD_BYTES, within the deadline."""
        if self._expects_continue and self._read == 0:
            return  # the client waits for a 100 Continue it will not get: it sends nothing
        dropped = 0
        while not self.complete and dropped <= DISCARD_BYTES:
            message = await self.wait_for(self._receive)
            if message is None or message["type"] != "http.request":
                return  # out of time, the server stops, or the client left
            dropped += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)


def _stopping_refusal() -> ShuttingDown:
    return ShuttingDown("The request's body was still awaited when the server began to stop.")


class _Socket:
    """A WebSocket's receive and send, closed with 1001 once the server begins to stop."""

    __slots__ = ("_closing", "_receive", "_send", "accepted", "closed", "wait")

    def __init__(self, receive: Receive, send: Send, loop: asyncio.AbstractEventLoop) -> None:
        self._receive = receive
        self._send = send
        self._closing: asyncio.Future[Message] | None = None
        self.accepted = False
        self.closed = False  # by the app, or by this layer
        self.wait = _Wait(loop)  # cut short when the server begins to stop

    def stop(self) -> None:
        """The server begins to stop: close now, through the app's receive if it is waiting in one."""
        waiting = self.wait.waiting
        self.wait.cut_short(Cut.STOPPING)
        if not waiting:  # an app that is not listening still gets its socket closed
            self._closing = asyncio.ensure_future(self._going_away())

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if self.closed:
            return  # the server is going away: what the app still has to say is dropped
        if message["type"] == "websocket.accept":
            self.accepted = True
        elif message["type"] == "websocket.close":
            self.closed = True
        await self._send(message)

    async def receive(self) -> Message:
        message = await self.wait.wait_for(self._receive)
        if message is None:
            return await self._going_away()
        if message["type"] == "websocket.disconnect":
            self.closed = True
        return message

    async def _going_away(self) -> Message:
        if self.accepted and not self.closed:
            self.closed = True
            await self._send({"type": "websocket.close", "code": GOING_AWAY, "reason": "server stopping"})
        self.closed = True
        return {"type": "websocket.disconnect", "code": GOING_AWAY}


class LimitsMiddleware:
    """Holds every request to the `Limits` (see the module docstring).

    Waits are cut by one sweep of the bodies being read (every quarter of the body timeout, at
    most a second, only while there are any) and one stop callback per event loop, rather than
    a timer and a callback per request: a POST pays for a set insertion, not for a timer.
    """

    def __init__(self, app: ASGIApp, *, limits: Limits, stopping: Stopping) -> None:
        self._app = direct_call(app)
        self._limits = limits
        self._stopping = stopping
        self._websockets: set[_Socket] = set()
        self._bodies: dict[_Body, float] = {}  # bodies being read, with their deadlines
        self._sweep_every = min(limits.body_timeout / 4, 1.0)
        self._sweeping: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the sweep and stop are on

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function handing back the awaitable of the path the request takes: the
        # outermost layer adds at most one coroutine to a request's chain (see _http).
        kind = scope["type"]
        if kind == "http":
            return self._http(scope, receive, send)
        if kind == "websocket":
            return self._websocket(scope, receive, send)
        return self._app(scope, receive, send)

    def _http(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Decided at once, with no coroutine of this layer's own unless the request needs one:
        # a refusal, or a body to hold to the limits as it is read. A request without a body,
        # or with one the server holds whole, goes on as the app's own awaitable.
        headers = scope["headers"]
        # One pass over the header fields: their size (as header_refusal counts it), the body's
        # framing and Expect; what is over a limit is looked at again, closely.
        size = 4 * len(headers)
        length_field: bytes | None = None  # the first Content-Length
        chunked = expects_continue = False
        for name, value in headers:
            size += len(name) + len(value)
            if name == b"content-length":
                if length_field is None:
                    length_field = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"expect" and value.lower() == b"100-continue":
                expects_continue = True
        if len(headers) > self._limits.max_headers or size > self._limits.max_header_bytes:
            refusal = header_refusal(self._limits, headers)
            if refusal is not None:
                return _refuse(send, refusal, close=True)
        if chunked:
            length = None
        elif length_field is None:
            return self._app(scope, receive, send)
        else:
            try:
                length = int(length_field)
            except ValueError:
                length = None  # the server has refused such a request before us; be safe: a body
            else:
                if not length or (
                    length <= self._limits.max_body_bytes and BODY_RECEIVED in scope.get("extensions", ())
                ):
                    return self._app(scope, receive, send)  # no body, or one the server holds whole
        return self._held(scope, receive, send, length, expects_continue=expects_continue)

    async def _held(
        self, scope: Scope, receive: Receive, send: Send, length: int | None, *, expects_continue: bool
    ) -> None:
        """The request, its body held to the size limit and the deadline as the app reads it."""
        loop = self._on_loop()
        body = _Body(receive, send, length, self._limits, expects_continue=expects_continue, loop=loop)
        self._bodies[body] = loop.time() + self._limits.body_timeout
        if self._sweeping is None:
            self._sweeping = loop.call_later(self._sweep_every, self._sweep)
        try:
            await self._app(scope, body.receive, body.send)
        finally:
            del self._bodies[body]

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal: LimitExceeded | None = header_refusal(self._limits, scope["headers"])
        if refusal is None and self._stopping.begun:
            refusal = ShuttingDown("No new WebSocket is accepted while the server stops.")
        if refusal is None and len(self._websockets) >= self._limits.max_websockets:
            refusal = ServerBusy(
                f"{len(self._websockets)} WebSockets are open; the mock serves at most "
                f"{self._limits.max_websockets} at once (--max-websockets)."
            )
        if refusal is not None:
            await _deny(scope, receive, send, refusal)
            return
        socket = _Socket(receive, send, self._on_loop())
        self._websockets.add(socket)
        try:
            with self._stopping.holding():
                await self._app(scope, socket.receive, socket.send)
        finally:
            self._websockets.discard(socket)

    def _on_loop(self) -> asyncio.AbstractEventLoop:
        """The running loop; on a new one (each test client has its own), the stop is watched on it."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._sweeping = None  # a sweep armed on an old loop never runs
            self._stopping.call_on_begin(self._stop)
        return loop

    def _sweep(self) -> None:
        self._sweeping = None
        if self._loop is None:
            return
        now = self._loop.time()
        for body, deadline in list(self._bodies.items()):
            if deadline <= now:
                body.cut_short(Cut.TIMEOUT)
        if self._bodies:
            self._sweeping = self._loop.call_later(self._sweep_every, self._sweep)

    def _stop(self) -> None:
        for body in list(self._bodies):
            body.cut_short(Cut.STOPPING)
        for socket in list(self._websockets):
            socket.stop()


async def _deny(scope: Scope, receive: Receive, send: Send, error: LimitExceeded) -> None:
    """Refuse a WebSocket before the upgrade: Coder's HTTP refusal, or a close where none can be sent."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    status, body = coder_error(error)
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
        return
    content = encode_json(body)
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                (b"content-type", CONTENT_TYPE.encode()),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": content})
