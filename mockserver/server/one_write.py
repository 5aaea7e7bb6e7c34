"""An answer's head and its first body bytes written to the socket together: one write, not two.

uvicorn's request cycle writes the head of an answer (status line and header fields) when the
app sends `http.response.start`, and the body when it sends `http.response.body`: two writes,
and under uvloop each write is a system call at once, a TCP segment of its own (on loopback the
kernel's receive work for it too). Nearly every answer of the mock is a head and a whole body
sent one right after the other, so `HeadWithBody` holds the head until the first body bytes and
writes both in one call: a system call and a segment fewer a request (issue 26).

`HeadWithBody` is the transport serve's HTTP protocol is given: every write of the connection
goes through it, so the order on the wire stays the order things were written (a write, a
close or an end of the connection's output writes a held head first). An answer whose body
does not follow at once (a streamed one; a 100 Continue, which is held like a head) has its
head written when the event loop's pass is over (`PassEnd`: one callback a pass for all the
connections), so nothing is held past the pass it was written in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

__all__ = ["HeadWithBody", "PassEnd"]

# A body this long goes out beside the head (a vectored write) rather than copied after it.
_JOIN_BYTES = 64 * 1024


class PassEnd:
    """Writes out, when the event loop's pass is over, the heads still held then (one per server)."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: list[HeadWithBody] = []

    def hold(self, loop: asyncio.AbstractEventLoop, writer: HeadWithBody) -> None:
        """`writer` holds a head: write it at the end of this pass, unless its body comes first."""
        if not self._held:
            loop.call_soon(self._write_held)
        self._held.append(writer)

    def _write_held(self) -> None:
        held, self._held = self._held, []
        for writer in held:
            writer.flush()


class HeadWithBody(asyncio.Transport):
    """A connection's transport, holding an answer's head for its body (see the module docstring).

    After `expect_head()` (a request starts), the next write is held and goes out with the one
    after it.
    """

    __slots__ = ("_expecting", "_held", "_loop", "_pass_end", "transport")

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, pass_end: PassEnd
    ) -> None:
        super().__init__()
        self.transport = transport  # the connection's own
        self._loop = loop
        self._pass_end = pass_end
        self._expecting = False  # the next write is an answer's head
        self._held: bytes | None = None

    def expect_head(self) -> None:
        """A request starts: the head of its answer is the next thing written."""
        self._expecting = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if len(data) < _JOIN_BYTES:
                self.transport.write(held + data)
            else:
                self.transport.writelines((held, data))
        elif self._expecting:
            self._expecting = False
            self._held = bytes(data)
            self._pass_end.hold(self._loop, self)
        else:
            self.transport.write(data)

    def flush(self) -> None:
        """Write the held head now, if there is one (and the connection is still open)."""
        held = self._held
        if held is not None:
            self._held = None
            if not self.transport.is_closing():
                self.transport.write(held)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.flush()
        self.transport.writelines(list_of_data)

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def close(self) -> None:
        self.flush()
        self.transport.close()

    # The rest is the connection's own transport.

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def abort(self) -> None:
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()

    def is_reading(self) -> bool:
        return self.transport.is_reading()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.transport.set_write_buffer_limits(high, low)
