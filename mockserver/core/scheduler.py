"""When the agent's rows are written: on the event loop in real time, or on a virtual clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

__all__ = ["AsyncioScheduler", "ImmediateScheduler", "ManualScheduler", "Scheduler", "play_in_order"]

Callback = Callable[[], None]

# Deadlines are sums of float delays (0.1 + 0.2 > 0.3): advance() forgives this much.
EPSILON = 1e-9


class Scheduler(Protocol):
    """Runs a callback after a delay in seconds; time can be pushed forward on demand."""

    def call_later(self, delay: float, callback: Callback) -> None:
        """Run `callback` once `delay` seconds have passed."""

    def advance(self, seconds: float) -> int:
        """Run now what would fall due within `seconds`; returns how many ran."""

    def finish_all(self) -> int:
        """Run everything pending now, including what those callbacks schedule; returns how many ran."""


class AsyncioScheduler:
    """Real time on the running event loop, `speed` times faster (2.0 halves every delay).

    `advance` pushes this scheduler's clock forward: what falls due runs at once, follow-ups
    a callback schedules are placed relative to its own deadline (so a chain of delays runs
    as far as the horizon), and what stays pending fires that much sooner.
    """

    def __init__(self, speed: float = 1.0, timer: Callable[[], float] | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed
        self._timer = timer  # exists to simplify testing; default: the loop's own clock
        self._pending: dict[int, tuple[float, asyncio.Handle, Callback]] = {}
        self._keys = itertools.count()
        self._skew = 0.0  # how far advance() has pushed this clock past the real one
        self._base: float | None = None  # while advance() runs a callback: that callback's deadline
        # While the loop runs a callback: that loop. Looking up the running loop asks the kernel
        # for the process id on Python 3.11 (a system call), and a run's steps schedule the next.
        self._running_on: asyncio.AbstractEventLoop | None = None

    def _now(self, loop: asyncio.AbstractEventLoop) -> float:
        real = self._timer() if self._timer else loop.time()
        return real + self._skew

    def call_later(self, delay: float, callback: Callback) -> None:
        """Run `callback` on the running loop after `delay / speed` seconds."""
        loop = self._running_on or asyncio.get_running_loop()
        now = self._now(loop)
        start = self._base if self._base is not None else now
        self._arm(loop, next(self._keys), start + max(delay, 0.0) / self._speed, callback, now)

    def _arm(
        self, loop: asyncio.AbstractEventLoop, key: int, when: float, callback: Callback, now: float
    ) -> None:
        wait = when - now
        # Most agent rows are due at once: the ready queue is cheaper than the timer heap. The
        # loop calls a bound method with the key (a handle keeps its arguments), not a closure
        # made for each callback: an agent run schedules one or more per posted message.
        if wait <= 0:
            handle = loop.call_soon(self._fire, key, loop)
        else:
            handle = loop.call_later(wait, self._fire, key, loop)
        self._pending[key] = (when, handle, callback)

    def _fire(self, key: int, loop: asyncio.AbstractEventLoop) -> None:
        """The loop runs a pending callback (unless advance() ran it first)."""
        pending = self._pending.pop(key, None)
        if pending is not None:
            self._running_on = loop
            try:
                pending[2]()
            finally:
                self._running_on = None

    def advance(self, seconds: float) -> int:
        """Run now, in deadline order, what would fall due within `seconds` (real ones)."""
        if seconds == float("inf"):
            return self.finish_all()
        loop = asyncio.get_running_loop()
        ran = self._run_due(self._now(loop) + seconds / self._speed + EPSILON)
        self._skew += seconds / self._speed
        now = self._now(loop)
        for key, (when, handle, callback) in list(self._pending.items()):
            handle.cancel()  # re-armed against the pushed-forward clock
            self._arm(loop, key, when, callback, now)
        return ran

    def finish_all(self) -> int:
        """Run everything pending now, including what those callbacks schedule."""
        return self._run_due(float("inf"))

    def _run_due(self, horizon: float) -> int:
        ran = 0
        while True:
            due = [(when, key) for key, (when, _, _) in self._pending.items() if when <= horizon]
            if not due:
                return ran
            when, key = min(due)
            _, handle, callback = self._pending.pop(key)
            handle.cancel()
            self._base = max(when, self._now(asyncio.get_running_loop()))
            try:
                callback()
            finally:
                self._base = None
            ran += 1


class ImmediateScheduler:
    """No time at all: a callback runs at once, so a run is complete when its post returns."""

    def call_later(self, delay: float, callback: Callback) -> None:
        """Run `callback` now."""
        callback()

    def advance(self, seconds: float) -> int:
        """Nothing is ever pending."""
        return 0

    def finish_all(self) -> int:
        """Nothing is ever pending."""
        return 0


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
        while self._queue and self._queue[0][0] <= deadline + EPSILON:
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

    def finish_all(self) -> int:
        """Run everything, including what the callbacks schedule; returns how many ran."""
        return self.run_until_idle()

    def run_until_idle(self) -> int:
        """Run everything, including what the callbacks schedule; returns how many ran."""
        ran = 0
        while self.step():
            ran += 1
        return ran


def play_in_order(scheduler: Scheduler, delays: Sequence[float], act: Callable[[int], bool]) -> None:
    """Run `act(i)` for each i, `delays[i]` seconds after act(i - 1); `act` returning False stops.

    The actions due at the same instant (a delay of 0 after the previous) run in one callback,
    so a run's rows written "at once" are written by one turn of the event loop.
    """
    _InOrder(scheduler, delays, act).schedule(0)


class _InOrder:
    """What `play_in_order` plays. Each burst is scheduled through a bound method, not through a
    closure that names itself: a played run leaves no reference cycle, so what it held (its
    actions, their contents) is freed as soon as it ends, not by the garbage collector later."""

    __slots__ = ("_act", "_delays", "_scheduler")

    def __init__(self, scheduler: Scheduler, delays: Sequence[float], act: Callable[[int], bool]) -> None:
        self._scheduler = scheduler
        self._delays = delays
        self._act = act

    def schedule(self, start: int) -> None:
        """Schedule the burst of actions that begins at `start` (the ones due with it run with it)."""
        delays = self._delays
        if start == len(delays):
            return
        end = start + 1
        while end < len(delays) and delays[end] <= 0:
            end += 1
        self._scheduler.call_later(delays[start], partial(self._run, start, end))

    def _run(self, start: int, end: int) -> None:
        act = self._act
        for index in range(start, end):
            if not act(index):
                return
        self.schedule(end)
