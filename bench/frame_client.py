"""A WebSocket client protocol cheap enough for hundreds per process, for the fan-out benches.

It speaks just what the benches need of RFC 6455: the handshake (the request is sent as given),
unmasked server frames read where they lie in each read, pongs and a close. A subclass says what
a frame means (`_frame`).
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

__all__ = ["FrameClient"]


class FrameClient(asyncio.Protocol):
    """Splits what the server sends into frames and hands each to `_frame`, with its read's time."""

    def __init__(self, request: bytes) -> None:
        self._request = request
        self._buffer = bytearray()
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, though they behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        # Frames are read where they lie in `data` (no copy a frame); only a frame split over
        # two reads is kept in the buffer. Every frame of one read arrived at the same time.
        if self._buffer or not self._upgraded:
            buffer = self._buffer
            buffer += data
            if not self._upgraded:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                if not buffer.startswith(b"HTTP/1.1 101"):
                    raise RuntimeError(bytes(buffer[:300]).decode(errors="replace"))
                del buffer[: end + 4]
                self._upgraded = True
            data = bytes(buffer)
            buffer.clear()
        now = time.monotonic()
        size, at = len(data), 0
        while size - at >= 2:
            head, length, start = data[at], data[at + 1] & 0x7F, at + 2
            if length == 126:
                if size - at < 4:
                    break
                length, start = int.from_bytes(data[at + 2 : at + 4], "big"), at + 4
            elif length == 127:
                if size - at < 10:
                    break
                length, start = int.from_bytes(data[at + 2 : at + 10], "big"), at + 10
            end = start + length
            if end > size:
                break
            self._frame(head, data, start, end, now)
            at = end
        if at < size:
            self._buffer += data[at:]

    def _frame(self, head: int, data: bytes, start: int, end: int, now: float) -> None:
        """A frame: its first byte (FIN and opcode), its payload `data[start:end]`, when it came."""
        raise NotImplementedError

    def _pong(self, payload: bytes) -> None:
        """Answer a ping, with a zero mask."""
        assert self.transport is not None
        self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"\x88\x82\0\0\0\0\x03\xe8")  # close 1000, zero mask
            self.transport.close()
