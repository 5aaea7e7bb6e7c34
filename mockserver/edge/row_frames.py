"""A watched chat's stored rows, each encoded once for all of the chat's watchers.

Every client that connects is first sent the rows it has not seen (the backlog, or today's
snapshot). Encoded per client, a chat of 700 rows joined by 1,000 watchers is encoded 700,000
times and held 1,000 times over; from `RowFrames`, 700 times, and the clients share the strings.
A topic's feed owns one, so it lives while the chat is watched and goes with its last watcher.
It keeps at most `budget` characters of frames (then encodes without keeping), and only rows
a joining client asked for: live rows are encoded once by the feed anyway, and keeping them
would double a watched chat's memory as it grows.
"""

from __future__ import annotations

from collections.abc import Callable

from mockserver.core.models import ChatMessage

__all__ = ["DEFAULT_BUDGET", "RowFrames"]

# Characters of frames a chat keeps for its joining clients (about 4 MiB: 10,000 typical rows).
DEFAULT_BUDGET = 4 * 1024 * 1024


class RowFrames:
    """Each row's frame (or encoded event), made by `encode` the first time it is asked for.

    Known by row id and checked against the row itself: a row the store replaced under the same
    id (today's history edits) is encoded again.
    """

    __slots__ = ("_budget", "_encode", "_kept", "_known")

    def __init__(self, encode: Callable[[ChatMessage], str], *, budget: int = DEFAULT_BUDGET) -> None:
        self._encode = encode
        self._budget = budget
        self._kept = 0  # characters of frames kept
        self._known: dict[int, tuple[ChatMessage, str]] = {}

    def of(self, row: ChatMessage) -> str:
        known = self._known.get(row.id)
        if known is not None and known[0] is row:
            return known[1]
        frame = self._encode(row)
        if known is not None:  # a replaced row: its old frame goes
            del self._known[row.id]
            self._kept -= len(known[1])
        if self._kept + len(frame) <= self._budget:
            self._known[row.id] = (row, frame)
            self._kept += len(frame)
        return frame
