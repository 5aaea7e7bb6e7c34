"""An answer's head goes out with its body in one write; a head alone by the end of the pass."""

from __future__ import annotations

import asyncio
from typing import Any

from mockserver.server.one_write import HeadWithBody, PassEnd


class _Recorded:
    """A transport that records what is done to it, in order."""

    def __init__(self) -> None:
        self.done: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.done.append(("write", bytes(data)))

    def writelines(self, pieces: Any) -> None:
        self.done.append(("writelines", [bytes(piece) for piece in pieces]))

    def close(self) -> None:
        self.closing = True
        self.done.append(("close", None))

    def is_closing(self) -> bool:
        return self.closing


def _writer(loop: asyncio.AbstractEventLoop) -> tuple[HeadWithBody, _Recorded]:
    recorded = _Recorded()
    return HeadWithBody(recorded, loop, PassEnd()), recorded  # type: ignore[arg-type]


async def _pass_over() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def test_an_answers_head_and_body_are_one_write_and_what_follows_goes_as_it_comes() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        writer, recorded = _writer(asyncio.get_running_loop())
        writer.expect_head()
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert recorded.done == []  # held for its body
        writer.write(b"{}")
        writer.write(b"more")  # a second body piece is not held
        await _pass_over()
        return recorded.done

    assert asyncio.run(scenario()) == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}"), ("write", b"more")]


def test_a_head_whose_body_does_not_come_goes_out_when_the_pass_is_over() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        writer, recorded = _writer(asyncio.get_running_loop())
        writer.expect_head()
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        await _pass_over()
        return recorded.done

    assert asyncio.run(scenario()) == [("write", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")]


def test_a_close_writes_the_held_head_first_and_a_long_body_goes_beside_the_head() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        writer, recorded = _writer(asyncio.get_running_loop())
        writer.expect_head()
        writer.write(b"H1")
        writer.close()
        recorded.closing = False
        writer.expect_head()
        writer.write(b"H2")
        writer.write(b"x" * 100_000)
        await _pass_over()
        return recorded.done

    assert asyncio.run(scenario()) == [
        ("write", b"H1"),
        ("close", None),
        ("writelines", [b"H2", b"x" * 100_000]),
    ]


def test_nothing_is_held_without_a_request_under_way() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        writer, recorded = _writer(asyncio.get_running_loop())
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")  # the server's own refusal
        return recorded.done

    assert asyncio.run(scenario()) == [("write", b"HTTP/1.1 400 Bad Request\r\n\r\n")]
