"""A long JSON answer sent in pieces, each encoded as it is sent, with other requests served between.

A transcript of 50 MB encoded at once holds the event loop for a second and the memory of the
whole body; encoded a piece (about 256 KiB) at a time, every other request gets its turn
between two pieces, and only the piece being sent is held. Go's server sends such a body
chunked too. An answer of one piece goes out whole, with its Content-Length.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable, Iterator

from starlette.responses import Response, StreamingResponse

from mockserver.edge.coder_errors import CONTENT_TYPE

__all__ = ["PIECE_BYTES", "joined_pieces", "sliced_json"]

# Bytes encoded between two chances for other requests to run: a few milliseconds of work.
PIECE_BYTES = 256 * 1024

_CONTENT_TYPE = (b"content-type", CONTENT_TYPE.encode("latin-1"))


async def _yielding(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The pieces, letting the event loop run other requests between two."""
    for piece in pieces:
        yield piece
        await asyncio.sleep(0)


class _WholeJSON(Response):
    """A one-piece answer, its headers made at once: the ones Response.init_headers makes for
    `Response(content=body, status_code=status, media_type=CONTENT_TYPE)`, in its order."""

    media_type = CONTENT_TYPE

    def __init__(self, body: bytes, status_code: int) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _CONTENT_TYPE]


def sliced_json(pieces: Iterator[bytes], status: int = 200) -> Response:
    """The answer whose body is `pieces` (encoded lazily; see `golang.encode_json_array`)."""
    first = next(pieces)
    rest = next(pieces, None)
    if rest is None:  # one piece: the whole body, with its Content-Length
        return _WholeJSON(first, status)
    return StreamingResponse(
        _yielding(itertools.chain((first, rest), pieces)), status_code=status, media_type=CONTENT_TYPE
    )


def joined_pieces(
    head: str, items: Iterable[str], tail: str, *, piece_chars: int = PIECE_BYTES
) -> Iterator[bytes]:
    """`head + ",".join(items) + tail` in UTF-8, in pieces of about `piece_chars` characters (a
    longer item is one piece); the items (encoded JSON texts) are drawn as the pieces are asked for.

    A piece's items are gathered and joined at once (one `str.join`, not one append per comma):
    a page of fifty items is one join.
    """
    opening = head  # what the piece being gathered starts with: the head, or the comma after a piece
    batch: list[str] = []
    size = len(head)
    for item in items:
        batch.append(item)
        size += len(item) + 1
        if size >= piece_chars:
            yield (opening + ",".join(batch)).encode("utf-8")
            opening, batch, size = ",", [], 0
    if batch:
        yield (opening + ",".join(batch) + tail).encode("utf-8")
    elif size:  # no item at all: the head is still to send
        yield (head + tail).encode("utf-8")
    else:  # the last item ended a piece
        yield tail.encode("utf-8")
