"""How `chats-mock serve` runs the app: the port bound first, uvicorn over it held to serve's
limits, the banner once it listens, and a stop that ends in seconds with exit code 0.

- The socket is bound here, before uvicorn starts, so that a taken port is one line naming it
  (`BindError`) rather than uvicorn's log line and a traceback; the banner is printed by the
  server's start-up hook, so it appears only once the port is listening.
- What only the server can hold (the ASGI layer sees a request only once its head is parsed):
  a request head that passes `max_header_bytes` (plus slack for the request line) while it
  arrives is answered 431 and closed, without reading the rest into memory (httptools itself
  has no limit, and uvicorn's h11 answers a plain-text 400); a head not complete
  `header_timeout` seconds after its first byte (or after the connection opened) is answered
  408 and closed; past `max_connections` open connections a request is answered 503. Each
  with Coder's error body, from `coder_errors`.
- The requests read in one pass of the event loop start least recently served connection first
  (`mockserver.server.admission`), not in the order the kernel reported their sockets.
- SIGTERM or SIGINT: `Stopping` is set first, so that a stalled upload, a fault's latency and
  the watchers' WebSockets let go (mockserver.edge.limits), then uvicorn's graceful shutdown
  runs, bounded by `shutdown_timeout` in all. Unlike uvicorn's own runner, the signal is not
  raised again afterwards: a stop that was asked for is a clean exit, code 0. A second signal
  stops at once.
- The bound holds whatever the server is doing: a request that decodes or checks a large body
  holds the event loop (or a worker thread the interpreter joins at exit) for as long as that
  takes, and no graceful step can cut it short. So the signal also arms `StopDeadline`, a
  timer thread that ends the process, code 0, once `shutdown_timeout` has passed (issue 27: a
  3.9 MB many-part POST held a stop for up to 7.2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import math
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Generator, Iterable
from dataclasses import fields
from functools import partial
from http import HTTPStatus
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.core.errors import HeadersTooLarge, LimitExceeded, RequestTimeout, ServerBusy
from mockserver.core.golang import MAX_NESTING, encode_json
from mockserver.core.stopping import Stopping
from mockserver.edge.coder_errors import CONTENT_TYPE, coder_error, send_error
from mockserver.edge.limits import BODY_RECEIVED, Limits
from mockserver.server.admission import FairAdmission
from mockserver.server.log_masking import masked_log_config
from mockserver.server.memory_return import HeapTrimmer, malloc_trim
from mockserver.server.one_write import HeadWithBody, PassEnd

__all__ = [
    "BindError",
    "MockServer",
    "StopDeadline",
    "add_serving_arguments",
    "bind",
    "build_server",
    "limited_http_protocol",
    "limits_from_args",
    "serve",
]

# Seconds the whole stop may take by default: the stopping waits, then uvicorn's graceful part.
SHUTDOWN_TIMEOUT = 3.0
# Bytes a request head may have beyond `max_header_bytes`: its request line and line ends, which
# the ASGI layer's count of header fields leaves out.
_REQUEST_LINE_SLACK = 8 * 1024
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Seconds a connection whose head was refused is still read (and dropped) before it is closed.
_LINGER_SECONDS = 1.0
# Seconds early a timer may fire and still count as on time (the event loop's clock is coarse).
_TIMER_SLACK = 0.001

# Each limit's help, by Limits field; the default is appended.
_LIMIT_HELP = {
    "max_body_bytes": "largest request body read, 413 past it",
    "max_header_bytes": "most bytes of header fields in one request, 431 past it",
    "max_headers": "most header fields in one request, 431 past it",
    "max_message_bytes": "longest message content, in UTF-8 bytes (today's API: every part's text), 400 past it",
    "max_message_parts": "most content parts in one message of today's API, 400 past it",
    "max_json_depth": f"deepest nesting of arrays and objects in a body, at most {MAX_NESTING}, 400 past it",
    "header_timeout": "seconds for a request's headers to arrive, 408 and closed past it",
    "body_timeout": "seconds for a request's body to arrive, 408 and closed past it",
    "max_connections": "most open connections, WebSockets included, 503 past it",
    "max_websockets": "most open WebSockets, 503 before the upgrade past it",
}


class BindError(Exception):
    """The address cannot be listened on; the message is one line that names it."""


def add_serving_arguments(serve: argparse.ArgumentParser) -> None:
    """Add serve's limit options (one per Limits field) and --shutdown-timeout."""
    group = serve.add_argument_group("limits (README: Reliability)")
    defaults = Limits()
    for item in fields(Limits):
        default = getattr(defaults, item.name)
        group.add_argument(
            "--" + item.name.replace("_", "-"),
            type=type(default),
            default=default,
            metavar="N" if isinstance(default, int) else "SECONDS",
            help=f"{_LIMIT_HELP[item.name]} (default: {default})",
        )
    group.add_argument(
        "--shutdown-timeout",
        type=float,
        default=SHUTDOWN_TIMEOUT,
        metavar="SECONDS",
        help="longest a stop (SIGTERM, Ctrl-C) waits for open requests before it cuts them "
        f"(default: {SHUTDOWN_TIMEOUT:g})",
    )


def limits_from_args(args: argparse.Namespace) -> Limits:
    """The Limits the options ask for; ValueError says which option is wrong."""
    if not args.shutdown_timeout > 0:
        raise ValueError("--shutdown-timeout must be positive")
    return Limits(**{item.name: getattr(args, item.name) for item in fields(Limits)})


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address `host` names, all on one port (port 0: a free one)."""
    shown = f"[{host}]" if ":" in host else host
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise BindError(f"cannot listen on {shown}:{port}: {error.strerror}") from None
    sockets: list[socket.socket] = []
    seen: set[Any] = set()
    for family, kind, proto, _, address in infos:
        if address[0] in seen:
            continue
        seen.add(address[0])
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address[0], port, *address[2:]))
            sock.listen(2048)
        except OSError as error:
            sock.close()
            if sockets and error.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                continue  # `localhost` names ::1 too, on a machine without IPv6: the others serve
            for bound in sockets:
                bound.close()
            if error.errno == errno.EADDRINUSE:
                raise BindError(
                    f"port {port} on {shown} is already in use; choose another with --port"
                ) from None
            raise BindError(f"cannot listen on {shown}:{port}: {error.strerror or error}") from None
        port = sock.getsockname()[1]  # port 0: every address gets the port the first got
        sockets.append(sock)
    return sockets


def _refusal_bytes(error: LimitExceeded) -> bytes:
    """A whole HTTP answer with Coder's error body, for a request whose head never completed."""
    status, body = coder_error(error)
    content = encode_json(body)
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: {CONTENT_TYPE}\r\n"
        f"content-length: {len(content)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + content


def _refusing(error: LimitExceeded) -> ASGIApp:
    """An ASGI app answering every request with this refusal, closing the connection."""
    status, body = coder_error(error)

    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        await send_error(send, status, body, close=True)

    return refuse


def limited_http_protocol(
    limits: Limits, admission: FairAdmission, pass_end: PassEnd | None = None
) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, holding request heads and open connections to `limits`, its
    requests started by `admission` (least recently served connection first), each answer's head
    written with its body (`one_write`; `pass_end` writes the heads still held when a pass ends)."""
    heads = pass_end or PassEnd()
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    head_limit = limits.max_header_bytes + _REQUEST_LINE_SLACK
    too_large = _refusal_bytes(
        HeadersTooLarge(
            f"The request head passed {head_limit} bytes before its end; the mock reads at most "
            f"{limits.max_header_bytes} bytes of header fields (--max-header-bytes)."
        )
    )
    too_slow = _refusal_bytes(
        RequestTimeout(
            "headers",
            f"The request's headers did not arrive within {limits.header_timeout:g} seconds "
            "(--header-timeout).",
        )
    )

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        """Counts each request head's bytes and time, and the open connections."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._in_head = True  # the next bytes belong to a request head
            self._head_bytes = 0
            # When the head under way must be complete (None: no head is under way); when the
            # connection, idle since its last answer, is closed (uvicorn's keep-alive timeout;
            # None: not idle); and the one timer that checks both. The timer is not cancelled at
            # each head's end or each answer's and armed again at the next (uvicorn arms its
            # keep-alive timer at every answer and cancels it at the next request: a call_later
            # and a cancel per request, ~2 µs): once armed, it fires at the deadline it was armed
            # for, and then refuses a head that is late, closes a connection idle too long, waits
            # for a deadline set since, or lapses.
            self._head_due: float | None = None
            self._idle_due: float | None = None
            self._head_timer: asyncio.TimerHandle | None = None
            self._refused = False
            self._served: int | None = None  # the admission ticket of the last answer; None: none yet
            self._has_body = False  # the message under way has a body

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            # Every write of the connection goes through it, so that the order on the wire holds.
            self._writer = HeadWithBody(transport, self.loop, heads)
            super().connection_made(self._writer)
            self._start_head_timer()  # a connection that never says anything is closed too

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self._idle_due = None  # as uvicorn's keep-alive timer is cancelled by any bytes
            if self._refused:
                return  # what still comes after a refusal is read and dropped (see _refuse)
            if not self._in_head:
                super().data_received(data)
                return
            room = head_limit - self._head_bytes
            self._head_bytes += min(len(data), room)
            if len(data) <= room:
                super().data_received(data)
                return
            # Feed what the head may still take: if it ends in there, the rest is fed as usual.
            super().data_received(data[:room])
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return
            if self._in_head:
                self._refuse(too_large)
                return
            self.data_received(data[room:])

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._start_head_timer()

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._stop_head_timer()
            if len(self.connections) <= limits.max_connections:
                super().on_headers_complete()
                return
            app, self.app = (
                self.app,
                _refusing(
                    ServerBusy(
                        f"{len(self.connections)} connections are open; the mock serves at most "
                        f"{limits.max_connections} at once (--max-connections)."
                    )
                ),
            )
            try:
                super().on_headers_complete()
            finally:
                self.app = app

        def handle_websocket_upgrade(self) -> None:
            # The WebSocket protocol writes frames, not answers: it gets the connection's own
            # transport (nothing is held: no answer began on this connection's upgrade request).
            self.transport = self._writer.transport
            super().handle_websocket_upgrade()
            # The connection is the WebSocket protocol's now. This one's parser holds its
            # callbacks, a cycle that would keep the connection (and all a watcher holds) until a
            # full garbage collection: without the parser, it goes when the WebSocket closes.
            self.parser = None  # type: ignore[assignment]  # as uvicorn does on connection_lost
            self._cancel_head_timer()  # nor may the head timer hold it (connection_lost never comes)

        def on_body(self, body: bytes) -> None:
            self._has_body = True
            super().on_body(body)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head = True  # what comes next on this connection is the next request's head
            self._head_bytes = 0
            if self._has_body:
                # Said in the scope: the limits layer, when the request reaches it, hands a body
                # the server holds whole on unwrapped. The requests read in one pass start once it
                # is over (admission), so a body sent with its head is in by then; one that comes
                # later is marked too late to matter, and held to the limits as it arrives.
                self._has_body = False
                self.scope.setdefault("extensions", {})[BODY_RECEIVED] = {}  # ASGI: an extension is a dict

        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            self._writer.expect_head()  # the answers before this one are complete
            admission.admit(self.loop, self._served, partial(super()._start_asgi_task, cycle, app))

        def on_response_complete(self) -> None:
            # uvicorn's, with the keep-alive wait on the connection's one timer (see __init__).
            self._served = admission.ticket()
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self.flow.resume_reading()
            if self.pipeline:  # the next request already read: it starts now
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
                return
            self._idle_due = self.loop.time() + self.timeout_keep_alive
            self._arm_timer(self._idle_due)

        def _start_head_timer(self) -> None:
            if self._head_due is None:  # else the head under way keeps its deadline
                self._head_due = self.loop.time() + limits.header_timeout
                self._arm_timer(self._head_due)

        def _arm_timer(self, due: float) -> None:
            timer = self._head_timer
            if timer is not None:
                if timer.when() <= due:
                    return  # it fires first, and then waits for `due`
                timer.cancel()  # a deadline sooner than the armed one (the keep-alive's is shorter)
            self._head_timer = self.loop.call_at(due, self._head_timed_out)

        def _stop_head_timer(self) -> None:
            self._head_due = None  # the armed timer, if any, finds no head due

        def _cancel_head_timer(self) -> None:
            self._head_due = self._idle_due = None
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            head = self._head_due is not None  # a head under way is due first: bytes came since
            due = self._head_due if head else self._idle_due
            if due is None:
                return
            if due - self.loop.time() > _TIMER_SLACK:  # a deadline set since
                self._head_timer = self.loop.call_at(due, self._head_timed_out)
                return
            if not head:
                self._idle_due = None
                if not self.transport.is_closing():
                    self.transport.close()  # idle past the keep-alive timeout, as uvicorn closes it
                return
            self._head_due = None
            if self._in_head and not self.transport.is_closing():
                self._refuse(too_slow)

        def _refuse(self, answer: bytes) -> None:
            self._cancel_head_timer()
            self._refused = True
            if self.cycle is not None and not self.cycle.response_complete:
                self.transport.close()  # another answer is under way on this connection
                return
            # Closing with unread bytes in the socket would reset the connection, and the client
            # could lose the answer: send it, say so (FIN), read and drop what is still sent for
            # a moment, then close (Go's server lingers the same way).
            self.transport.write(answer)
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(_LINGER_SECONDS, self.transport.close)

    return LimitedHttpToolsProtocol


def _exit_now() -> None:
    """End the process at once, code 0: what is still running is cut short (the stop was asked for)."""
    with contextlib.suppress(Exception):
        sys.stderr.write("chats-mock: still busy when --shutdown-timeout ran out; stopped\n")
        sys.stderr.flush()
        sys.stdout.flush()
    os._exit(0)


class StopDeadline:
    """Ends the process `seconds` after `arm()`, whatever holds the event loop then."""

    def __init__(self, seconds: float, *, exit_now: Callable[[], None] = _exit_now) -> None:
        self._seconds = seconds
        self._exit_now = exit_now  # exists to simplify testing
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        """Start counting (once): a signal handler calls this, so it only starts a thread."""
        if self._timer is None:
            self._timer = threading.Timer(self._seconds, self._exit_now)
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        """The stop finished in time: nothing to cut short."""
        if self._timer is not None:
            self._timer.cancel()


class MockServer(uvicorn.Server):
    """uvicorn's server with serve's start-up hook and stop (see the module docstring)."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        stopping: Stopping,
        shutdown_timeout: float,
        on_started: Callable[[], None] = lambda: None,
        deadline: StopDeadline | None = None,
    ) -> None:
        super().__init__(config)
        self._stopping = stopping
        self._shutdown_timeout = shutdown_timeout
        self._on_started = on_started
        self._deadline = deadline or StopDeadline(shutdown_timeout)

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            super().run(sockets=sockets)
        finally:
            self._deadline.disarm()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._shutdown_timeout
        self._stopping.begin()
        # WebSockets first: each gets its close frame from the app's side before uvicorn
        # closes connections itself; then uvicorn waits for requests, with what is left.
        await self._stopping.released(self._shutdown_timeout / 2)
        # uvicorn takes whole seconds; what is left, rounded up.
        self.config.timeout_graceful_shutdown = max(math.ceil(deadline - loop.time()), 1)
        await super().shutdown(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals are the main thread's (a test runs the server on another)
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._deadline.arm()
        if self.should_exit:
            self.force_exit = True  # asked twice: stop waiting
        self.should_exit = True


def promptly_freed_websocket(trimmer: HeapTrimmer) -> type[asyncio.Protocol]:
    """uvicorn's WebSocket protocol, freed as soon as its connection is lost, the heap trimmed after.

    websockets' sans-I/O protocol keeps its frame parser as a generator whose frame holds the
    protocol: a cycle that only a full garbage collection frees, which a quiet server may not run
    for minutes. A thousand watchers that leave would keep their buffers (about 25 KiB each) until
    then. Closing the parser once the connection is gone breaks the cycle (nothing parses after),
    and reference counting frees the connection at once; `trimmer` then gives the pages back.
    """
    # Here: websockets and uvicorn's sans-I/O protocol load at the first WebSocket (_OnFirstUpgrade).
    from mockserver.server.direct_websocket import DirectWriteWebSocket

    class PromptlyFreedWebSocket(DirectWriteWebSocket):
        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            self.conn.parser.close()
            trimmer.connection_closed()

    return PromptlyFreedWebSocket


class _OnFirstUpgrade:
    """The WebSocket protocol uvicorn runs, made when a connection first upgrades to one.

    uvicorn makes each WebSocket connection's protocol by calling the `ws` class it was given
    with keyword arguments; this callable builds that class (`promptly_freed_websocket`) on the
    first call. websockets and uvicorn's sans-I/O protocol (~45 M instructions, ~12 ms) then
    load at the first WebSocket instead of before `serve`'s first answer.
    """

    def __init__(self, trimmer: HeapTrimmer | None) -> None:
        self._trimmer = trimmer
        self._protocol: type[asyncio.Protocol] | None = None

    def __call__(self, **kwargs: Any) -> asyncio.Protocol:
        if self._protocol is None:
            self._protocol = promptly_freed_websocket(self._trimmer or HeapTrimmer(malloc_trim()))
        return self._protocol(**kwargs)


def build_server(
    app: ASGIApp,
    *,
    limits: Limits,
    stopping: Stopping,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    log_level: str = "warning",
    access_log: bool = False,
    on_started: Callable[[], None] = lambda: None,
    trimmer: HeapTrimmer | None = None,
    secrets: Iterable[str] = (),
) -> MockServer:
    """The server `serve` runs: uvicorn over `app`, held to `limits`; run it with `.run(sockets=...)`.

    `trimmer` returns memory after WebSockets close (default: glibc's malloc_trim when there is one).
    `secrets`: the users' session tokens; no log line shows one (log_masking), nor anything shaped
    like one.
    """
    config = uvicorn.Config(
        app,
        log_level=log_level,
        log_config=masked_log_config(secrets, log_level),
        access_log=access_log,
        http=limited_http_protocol(limits, FairAdmission(), PassEnd()),
        timeout_graceful_shutdown=math.ceil(shutdown_timeout),
        # No permessage-deflate on watch-ws, as coderd (coder/websocket's Accept compresses nothing
        # by default): compression is per connection, so it would cost each frame once per watcher.
        ws_per_message_deflate=False,
        # Off: no request pays for reading X-Forwarded-For and -Proto (a layer around every app,
        # ~2 % of a V1 post). The mock answers as it was reached; the one reader of the scheme,
        # today's dashboard's access URL, takes a local proxy's X-Forwarded-Proto itself.
        proxy_headers=False,
        ws=_OnFirstUpgrade(trimmer),  # type: ignore[arg-type]  # a callable making the protocol
    )
    return MockServer(config, stopping=stopping, shutdown_timeout=shutdown_timeout, on_started=on_started)


def serve(app: ASGIApp, sockets: list[socket.socket], **options: Any) -> None:
    """Serve `app` on the bound `sockets` until a signal stops it (options as for build_server)."""
    build_server(app, **options).run(sockets=sockets)
