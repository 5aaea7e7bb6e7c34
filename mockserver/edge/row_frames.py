"""A watched chat's stored rows, each encoded once for all of the chat's watchers.

Every client that connects is first sent the rows it has not seen (the backlog, or today's
snapshot). Encoded per client, a chat of 700 rows joined by 1,000 watchers is encoded 700,000
times and held 1,000 times over; from `RowFrames`, 700 times, and the clients share the strings.
A topic's feed owns one, so it lives while the chat is watched and goes with its last watcher.
"""

from __future__ import annotations

from collections.abc import Callable

from mockserver.core.models import ChatMessage

__all__ = ["RowFrames"]


class RowFrames:
    """Each row's frame (or encoded event), made by `encode` the first time it is asked for.

    Known by row id and checked against the row itself: a row the store replaced under the same
    id (today's history edits) is encoded again.
    """

    __slots__ = ("_encode", "_known")

    def __init__(self, encode: Callable[[ChatMessage], str]) -> None:
        self._encode = encode
        self._known: dict[int, tuple[ChatMessage, str]] = {}

    def of(self, row: ChatMessage) -> str:
        known = self._known.get(row.id)
        if known is not None and known[0] is row:
            return known[1]
        frame = self._encode(row)
        self._known[row.id] = (row, frame)
        return frame
