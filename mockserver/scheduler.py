"""When the agent's rows are written: on the event loop in real time, or on a virtual clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

__all__ = ["AsyncioScheduler", "ImmediateScheduler", "ManualScheduler", "Scheduler"]

Callback = Callable[[], None]


class Scheduler(Protocol):
    """Runs a callback after a delay in seconds."""

    def call_later(self, delay: float, callback: Callback) -> None:
        """Run `callback` once `delay` seconds have passed."""


class AsyncioScheduler:
    """Real time on the running event loop, `speed` times faster (2.0 halves every delay)."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed

    def call_later(self, delay: float, callback: Callback) -> None:
        """Run `callback` on the running loop after `delay / speed` seconds."""
        asyncio.get_running_loop().call_later(delay / self._speed, callback)


class ImmediateScheduler:
    """No time at all: a callback runs at once, so a run is complete when its post returns."""

    def call_later(self, delay: float, callback: Callback) -> None:
        """Run `callback` now."""
        callback()


class ManualScheduler:
    """A virtual clock for tests: nothing runs until the test advances time."""

    def __init__(self) -> None:
        self._now = 0.0
        self._queue: list[tuple[float, int, Callback]] = []
        self._order = itertools.count()  # equal deadlines run in the order scheduled

    @property
    def now(self) -> float:
        """Virtual seconds since the scheduler was made."""
        return self._now

    @property
    def pending(self) -> int:
        """How many callbacks wait to run."""
        return len(self._queue)

    def call_later(self, delay: float, callback: Callback) -> None:
        """Queue `callback` for `delay` virtual seconds from now."""
        heapq.heappush(self._queue, (self._now + max(delay, 0.0), next(self._order), callback))

    def advance(self, seconds: float) -> int:
        """Move virtual time forward, running what falls due (in deadline order); returns how many ran."""
        deadline = self._now + seconds
        ran = 0
        while self._queue and self._queue[0][0] <= deadline:
            due, _, callback = heapq.heappop(self._queue)
            self._now = max(self._now, due)
            callback()
            ran += 1
        self._now = deadline
        return ran

    def step(self) -> bool:
        """Run the next callback, jumping virtual time to it; False when nothing waits."""
        if not self._queue:
            return False
        due, _, callback = heapq.heappop(self._queue)
        self._now = max(self._now, due)
        callback()
        return True

    def run_until_idle(self) -> int:
        """Run everything, including what the callbacks schedule; returns how many ran."""
        ran = 0
        while self.step():
            ran += 1
        return ran
