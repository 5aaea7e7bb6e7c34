"""The order in which the requests read in one pass of the event loop start: the connection
served longest ago first.

The event loop (libuv under uvloop, or asyncio's selector) reads every socket the kernel reports
ready in one pass, and uvicorn starts each request's task as its head is parsed, so the tasks run
in the order the sockets were reported. Linux reports level-triggered sockets in an order that
is not their requests' arrival: a socket reported in one pass goes back at the end of the ready
list and keeps its place there while it stays ready, so the sockets read every pass are reported
first, and one whose request came a moment after a pass (its previous answer went out last) is
reported after all of them in the next. Under steady load that request waits out two passes,
not one; it is again the last answered, and so again late. With 32 busy connections that was
the slowest 1-5 % of requests taking twice the median (bench/REPORT.md, issue 26: p99 at 2.0-2.6x
p50 on every endpoint, and on a bare Starlette app on the same server too).

`FairAdmission` holds the requests of one pass until the pass is over and starts them in the
order their connections were last answered: a number taken from one counter when an answer
completes (a connection not yet answered takes one when its first request arrives). For a
client that sends its next request when it has its answer, that is the order the requests came
in; for any client it is least recently served first. One callback a pass, and a sort of the
requests read in it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from operator import itemgetter

__all__ = ["FairAdmission"]

_TICKET = itemgetter(0)


class FairAdmission:
    """Starts the requests read in one pass of the event loop, least recently served first.

    One per server: every connection takes its numbers from the same counter.
    """

    __slots__ = ("_numbers", "_waiting")

    def __init__(self) -> None:
        self._numbers = itertools.count()
        self._waiting: list[tuple[int, Callable[[], object]]] = []

    def ticket(self) -> int:
        """The next number in serving order: a connection takes one when an answer to it completes."""
        return next(self._numbers)

    def admit(self, loop: asyncio.AbstractEventLoop, served: int | None, start: Callable[[], object]) -> None:
        """`start` a request once this pass of `loop` is over, in the order of `served` (the
        ticket of its connection's last answer; None: never answered, so served last)."""
        if not self._waiting:
            loop.call_soon(self._start_waiting)
        self._waiting.append((next(self._numbers) if served is None else served, start))

    def _start_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        waiting.sort(key=_TICKET)
        for _, start in waiting:
            start()
