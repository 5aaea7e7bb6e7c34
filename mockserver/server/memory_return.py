"""Memory that WebSockets freed, given back to the operating system once they leave.

CPython's small-object allocator (pymalloc) keeps a whole 1 MiB arena while any object in it
lives. A thousand watchers take about 30 MiB of small objects; when they leave, the few objects
made meanwhile that outlive them (a stored row, a cached date string, a grown dict) sit in most
of those arenas, and RSS stays near its peak for good. So `serve` runs on the C allocator
(`PYTHONMALLOC=malloc`, which `mockserver.command.startup` sets by starting itself again, once) and,
a moment after a burst of WebSockets closed, collects garbage and asks glibc to give back every
free page (`malloc_trim(0)`): a survivor then keeps its 4 KiB page, not its arena. Where the C
library has no `malloc_trim` (macOS, musl) neither happens: memory is reused, not returned.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from functools import partial

# typing's TYPE_CHECKING without importing typing: `serve` imports this module before its re-exec.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio

__all__ = [
    "TRIM_BURST",
    "TRIM_DELAY",
    "TRIM_MOST_WAIT",
    "HeapTrimmer",
    "c_allocator_environment",
    "malloc_trim",
]

# WebSockets that must close for a trim; seconds of no close that end a burst; most seconds from
# the burst-making close to the trim.
TRIM_BURST = 32
TRIM_DELAY = 1.0
TRIM_MOST_WAIT = 5.0


def malloc_trim() -> Callable[[], object] | None:
    """glibc's `malloc_trim(0)` (every free page of the heap back to the OS), or None without it."""
    import ctypes  # here: the re-exec, which imports this module, needs no ctypes (~3 ms)

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # no such function, or no C library to ask (Windows)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return partial(trim, 0)


def c_allocator_environment(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The environment to start `serve` again in, on the C allocator; None: run on as it is.

    None when the allocator was chosen already (`PYTHONMALLOC` set, by a user or by the first
    start) or when there is no `malloc_trim` to return memory with.
    """
    if "PYTHONMALLOC" in environ or malloc_trim() is None:
        return None
    return {**environ, "PYTHONMALLOC": "malloc"}


class HeapTrimmer:
    """Collects garbage and trims the heap once a burst of WebSocket closes is over.

    Once `burst` WebSockets have closed since the last trim, the trim comes `delay` seconds
    after the latest close (at most `most_wait` seconds after the burst-making one, so that a
    steady churn is trimmed too). The trim is a full garbage collection (which empties
    CPython's free lists of tuples, lists, dicts and floats: thousands of small blocks that
    would each keep a page) and `trim()`. Both take the event loop for a few milliseconds (a
    full collection longer with a large store), so a lone watcher that leaves costs nothing:
    what it frees is reused by the next.

    `connection_closed` is called on the event loop's thread (`running_loop` finds it: a test
    gives a loop with its own clock); `trim` is `malloc_trim()`'s function, or None for a
    trimmer that does nothing.
    """

    def __init__(
        self,
        trim: Callable[[], object] | None,
        *,
        burst: int = TRIM_BURST,
        delay: float = TRIM_DELAY,
        most_wait: float = TRIM_MOST_WAIT,
        running_loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self._trim = trim
        self._running_loop = running_loop
        self._burst = burst
        self._delay = delay
        self._most_wait = most_wait
        self._closed = 0  # WebSockets closed since the last trim
        self._last_close = 0.0
        self._due_by = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self.trims = 0  # how many times the heap was trimmed

    def connection_closed(self) -> None:
        """A WebSocket closed: trim once the burst it belongs to is over."""
        if self._trim is None:
            return
        if self._running_loop is None:
            from asyncio import get_running_loop  # here: `serve`'s first start needs no asyncio

            self._running_loop = get_running_loop
        loop = self._running_loop()
        self._closed += 1
        self._last_close = loop.time()
        if self._closed >= self._burst and self._pending is None:
            self._due_by = self._last_close + self._most_wait
            self._pending = loop.call_later(self._delay, self._settle, loop)

    def _settle(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        quiet_at = self._last_close + self._delay
        if quiet_at > now and now < self._due_by:
            self._pending = loop.call_at(min(quiet_at, self._due_by), self._settle, loop)
            return
        self._pending = None
        self._closed = 0
        assert self._trim is not None
        gc.collect()
        self._trim()
        self.trims += 1
