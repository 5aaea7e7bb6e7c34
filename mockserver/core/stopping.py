"""When the server begins to stop: what waits on a client or a timer lets go at once.

A stalled upload, a request held by a fault's latency and a watcher's WebSocket would each keep a
graceful shutdown waiting. Each waits on `Stopping` as well, and the server runner calls `begin()`
before it waits for open requests to finish; what holds a connection open for a long time (a
WebSocket) says so with `holding()`, so that the runner can wait for those to have let go.
Nothing here knows HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

__all__ = ["Stopping"]


class Stopping:
    """A one-way flag, awaitable on any event loop (each test client runs its own)."""

    def __init__(self) -> None:
        self._begun = False
        self._callbacks: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = {}
        self._direct: list[Callable[[], None]] = []  # on_set's: run in begin(), on its thread
        self._next = 0
        self._holders = 0
        self._released: set[asyncio.Future[None]] = set()

    @property
    def begun(self) -> bool:
        """Whether the server has begun to stop."""
        return self._begun

    def begin(self) -> None:
        """Say the server is stopping: each callback runs (on its own loop), later waits return at once."""
        if self._begun:
            return
        self._begun = True
        direct, self._direct = self._direct, []
        for run in direct:
            run()
        callbacks, self._callbacks = self._callbacks, {}
        for loop, callback in callbacks.values():
            if not loop.is_closed():  # a test client's loop may be gone; nothing waits there
                loop.call_soon_threadsafe(callback)

    def call_on_begin(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` on the running loop when the server begins to stop (soon, if it has); returns a cancel."""
        if self._begun:
            asyncio.get_running_loop().call_soon(callback)
            return _nothing
        key = self._next
        self._next += 1
        self._callbacks[key] = (asyncio.get_running_loop(), callback)

        def cancel() -> None:
            self._callbacks.pop(key, None)

        return cancel

    # The interface of a plain shutdown signal (set once, callbacks registered with no loop running,
    # e.g. while the app is built): one Stopping can stand for both.

    @property
    def is_set(self) -> bool:
        """Whether the server has begun to stop (as `begun`)."""
        return self._begun

    def set(self) -> None:
        """Begin to stop (as `begin`)."""
        self.begin()

    def on_set(self, callback: Callable[[], None]) -> None:
        """Call `callback` in `begin()`, on the thread that calls it (the server's), or now if begun."""
        if self._begun:
            callback()
        else:
            self._direct.append(callback)

    async def wait(self) -> None:
        """Return when the server begins to stop."""
        if self._begun:
            return
        waiter = asyncio.get_running_loop().create_future()
        cancel = self.call_on_begin(lambda: None if waiter.done() else waiter.set_result(None))
        try:
            await waiter
        finally:
            cancel()

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds`, or less if the server begins to stop meanwhile."""
        if self._begun:
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(self.wait(), seconds)

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Count the block as something the stop must see end (a WebSocket's whole life)."""
        self._holders += 1
        try:
            yield
        finally:
            self._holders -= 1
            if not self._holders:
                for waiter in self._released:
                    if not waiter.done():
                        waiter.set_result(None)

    async def released(self, timeout: float) -> bool:
        """Wait until nothing holds on (`holding`), at most `timeout` seconds; False if something still does."""
        if not self._holders:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._released.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            self._released.discard(waiter)
        return True


def _nothing() -> None:
    """The cancel of a callback already on its way."""
