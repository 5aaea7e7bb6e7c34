"""A one-way WebSocket that pushes a watcher's frames: the plumbing today's stream and watch share.

Refusals come before the upgrade, as plain HTTP with Coder's error body (`refuse`); a browser
handshake from an origin the CORS policy does not allow is refused after the route's own checks
(`check_origin`, as coder/websocket's `Accept` refuses a cross-origin one); a GET that is no
upgrade at all gets the route's refusals, then 426 (`refuse_plain_http`). After the upgrade, `serve` sends the
first frames, then the watcher's queued items packed into frames of at most `batch` items, as
coderd's writers drain what is pending; the server reads only to learn that the client left,
and a data frame from the client closes the socket with 1008 (coder/websocket's `CloseRead`).

A thousand watchers of one chat make every frame a thousand sends: through ASGI, each is a task
woken, a message dict, the server's frame encoder and a socket write. Where the server offers
`DIRECT_WRITE` (serve's WebSocket protocol does), a watcher whose queue is empty is handed to
its topic as a direct one: the topic writes what one turn of the event loop brought, framed once
(`PushOptions.wire`), straight to each such socket, with no task switch. A socket that cannot
take it now (its buffer is over the high-water mark, it is closing) goes back to its queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence

from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from mockserver.core.errors import CrossOriginHandshake, MockError
from mockserver.core.golang import encode_json, quote
from mockserver.edge.coder_errors import CONTENT_TYPE, coder_error
from mockserver.edge.fanout import CloseCode, Fanout, Watcher
from mockserver.edge.origins import CorsPolicy

__all__ = [
    "DIRECT_WRITE",
    "DirectWrite",
    "PushOptions",
    "check_origin",
    "direct_write",
    "one_item_a_frame",
    "refuse",
    "refuse_plain_http",
    "serve",
    "text_frame",
]

# The ASGI extension (scope["extensions"]) of a server that lets the app write whole frames.
DIRECT_WRITE = "mockserver.websocket.direct_write"

# The close code used when a server cannot send an HTTP refusal before the upgrade.
_POLICY_VIOLATION = 1008

_log = logging.getLogger(__name__)

# Packs a batch of queued items (at least one) into one text frame.
Pack = Callable[[Sequence[str]], str]


# An accepted WebSocket's direct write, as the server offers it under `DIRECT_WRITE`
# (`{"write_frames": write}`): write whole, unmasked, uncompressed frames now, or return False
# (nothing written) when the socket cannot take them (its buffer is full, a close was sent).
DirectWrite = Callable[[bytes], bool]


def direct_write(scope: Scope) -> DirectWrite | None:
    """The connection's direct write, when the server offers one."""
    offered = scope.get("extensions", {}).get(DIRECT_WRITE)
    write: DirectWrite | None = None if offered is None else offered["write_frames"]
    return write


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked text frame holding `payload` (RFC 6455 section 5.2), as a server sends it."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload


def one_item_a_frame(batch: Sequence[str]) -> str:
    """The packing of a socket whose every queued item is a whole frame (`batch=1`)."""
    return batch[0]


class PushOptions:
    """How a push socket sends: items per frame, how they are packed, how long a close may wait."""

    __slots__ = ("batch", "close_timeout", "data_closes", "pack")

    def __init__(
        self, *, batch: int, pack: Pack, close_timeout: float = 2.0, data_closes: bool = True
    ) -> None:
        self.batch = batch
        self.pack = pack
        self.close_timeout = close_timeout  # a client that stopped reading may never take the close
        # coder/websocket's CloseRead (today's routes): a data frame from the client is a violation.
        self.data_closes = data_closes

    def wire(self, items: Sequence[str]) -> bytes:
        """`items` as the bytes of the text frames the queue would send them in (`batch` a frame)."""
        batch, pack = self.batch, self.pack
        return b"".join(
            text_frame(pack(items[start : start + batch]).encode()) for start in range(0, len(items), batch)
        )


def check_origin(scope: Scope, origins: CorsPolicy) -> None:
    """Raise CrossOriginHandshake for a browser handshake from an origin that may not open one."""
    headers = dict(scope["headers"])
    origin, host = headers.get(b"origin"), headers.get(b"host")
    text_origin = None if origin is None else origin.decode("latin-1")
    text_host = None if host is None else host.decode("latin-1")
    if not origins.allows_handshake(text_origin, text_host):
        raise CrossOriginHandshake(text_origin or "", text_host or "")


async def refuse(websocket: WebSocket, error: Exception) -> None:
    """Coder's HTTP refusal before the upgrade; a policy close where the server cannot send one."""
    status, body = coder_error(error)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        response = Response(encode_json(body), status_code=status, media_type=CONTENT_TYPE)
        await websocket.send_denial_response(response)
        return
    _log.info("server cannot refuse a WebSocket with HTTP; closing with %d", _POLICY_VIOLATION)
    await websocket.close(_POLICY_VIOLATION, reason=body["message"][:120])


async def refuse_plain_http(
    scope: Scope, receive: Receive, send: Send, checks: Callable[[], object], failure: str
) -> None:
    """A GET without a WebSocket upgrade: the route's refusals first, then 426 Upgrade Required.

    coderd runs the route's checks (auth, `{chat}`, query) before `websocket.Accept`, which
    answers a request that is no upgrade with 426 and `Connection`/`Upgrade` headers. The mock
    sends Accept's sentence as the `detail` of Coder's error body, `failure` as its message.
    """
    headers: dict[str, str] = {}
    try:
        checks()
    except MockError as error:
        status, body = coder_error(error)
    else:
        connection = dict(scope["headers"]).get(b"connection", b"").decode("latin-1")
        status = 426
        body = {
            "message": failure,
            "detail": f"WebSocket protocol violation: Connection header {quote(connection)} does not contain Upgrade",
        }
        headers = {"Connection": "Upgrade", "Upgrade": "websocket"}
    response = Response(encode_json(body), status_code=status, media_type=CONTENT_TYPE, headers=headers)
    await response(scope, receive, send)


async def serve(
    watcher: Watcher,
    first: Iterable[str],
    receive: Receive,
    send: Send,
    fanout: Fanout,
    options: PushOptions,
    direct: DirectWrite | None = None,
) -> None:
    """Send `first` (frames), then the watcher's items, until it must close or the client leaves.

    With `direct` (the server's, see `direct_write`), a watcher with nothing queued is written to
    by its topic directly. A client the server already gave up on refuses further sends with an
    error: that ends the socket quietly, like a disconnect.
    """
    gone = asyncio.ensure_future(_until_disconnect(receive, watcher, data_closes=options.data_closes))
    pump = asyncio.ensure_future(_pump(watcher, first, send, fanout, options, direct))
    told = asyncio.ensure_future(watcher.until_closing())
    try:
        done, _ = await asyncio.wait({gone, pump, told}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump, gone, told):
            task.cancel()
    refused = pump in done and pump.exception() is not None  # the server will not send any more
    closing = watcher.closing
    disconnected = gone in done and gone.result()
    if disconnected or refused or closing is None:
        return  # the client is gone, or no close frame can go
    with contextlib.suppress(Exception):  # whatever the server refuses with, the socket is over
        async with asyncio.timeout(options.close_timeout):
            await send({"type": "websocket.close", "code": int(closing.code), "reason": closing.reason})


async def _pump(
    watcher: Watcher,
    first: Iterable[str],
    send: Send,
    fanout: Fanout,
    options: PushOptions,
    direct: DirectWrite | None,
) -> None:
    """Send frames until the watcher is told to close (then return); with nothing queued, hand
    the watcher to its topic to be written to directly, until a write finds the socket full."""
    for frame in first:
        if watcher.closing is not None:
            return
        async with fanout.turn_for(frame):
            await send({"type": "websocket.send", "text": frame})
        # A send that did not wait still lets other work in: the next frame may be encoded now.
        await asyncio.sleep(0)
    items = watcher.frames
    while True:
        if direct is not None and not items:
            watcher.write_directly(direct)  # nothing queued, no await since: nothing can be missed
        await watcher.wait()
        while items:
            batch = [items.popleft() for _ in range(min(options.batch, len(items)))]
            frame = options.pack(batch)
            async with fanout.turn_for(frame):
                await send({"type": "websocket.send", "text": frame})
        if watcher.closing is not None:
            return


async def _until_disconnect(receive: Receive, watcher: Watcher, *, data_closes: bool) -> bool:
    """Until the client leaves (True) or sends data where that closes the socket (False)."""
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            watcher.close(CloseCode.NORMAL, "client went away")
            return True
        if message["type"] == "websocket.receive" and data_closes:
            # coder/websocket's CloseRead: the server reads nothing, and a data frame is a violation.
            watcher.close(CloseCode.POLICY_VIOLATION, "unexpected data message")
            return False
