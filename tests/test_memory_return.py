"""Memory that WebSockets freed goes back to the OS: `serve` on the C allocator, the heap trimmed
once a burst of closes is over (the RSS it returns is measured in bench/fanout.py)."""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver.server.memory_return import HeapTrimmer, c_allocator_environment, malloc_trim
from tests.server_process import serve_process

GLIBC = malloc_trim() is not None


class _Loop:
    """The part of an event loop the trimmer uses, on a clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any) -> object:
        return self.call_at(self.now + delay, callback, *args)

    def call_at(self, when: float, callback: Callable[..., None], *args: Any) -> object:
        heapq.heappush(self._timers, (when, next(self._order), callback, args))
        return object()  # a handle: the trimmer only keeps it

    def advance(self, seconds: float) -> None:
        until = self.now + seconds
        while self._timers and self._timers[0][0] <= until:
            when, _, callback, args = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            callback(*args)
        self.now = until


def _trimmer(trims: list[float], loop: _Loop) -> HeapTrimmer:
    return HeapTrimmer(
        lambda: trims.append(loop.now), burst=3, delay=1.0, most_wait=5.0, running_loop=lambda: loop
    )


def test_a_burst_of_closes_is_trimmed_once_a_second_after_the_last() -> None:
    loop, trims = _Loop(), []
    trimmer = _trimmer(trims, loop)
    for _ in range(5):  # five closes, 0.5 s apart: one burst
        trimmer.connection_closed()
        loop.advance(0.5)
    loop.advance(10)
    assert trims == [3.0]  # the last close at 2.0, then a quiet second
    assert trimmer.trims == 1


def test_fewer_closes_than_a_burst_are_not_trimmed() -> None:
    loop, trims = _Loop(), []
    trimmer = _trimmer(trims, loop)
    trimmer.connection_closed()
    trimmer.connection_closed()
    loop.advance(60)
    assert trims == []
    trimmer.connection_closed()  # the third since the last trim makes a burst
    loop.advance(60)
    assert trims == [61.0]


def test_a_steady_churn_is_trimmed_at_most_wait_after_the_burst_began() -> None:
    loop, trims = _Loop(), []
    trimmer = _trimmer(trims, loop)
    for _ in range(40):  # a close every 0.25 s for 10 s: never a quiet second
        trimmer.connection_closed()
        loop.advance(0.25)
    # The third close (at 0.5 s) made a burst: trimmed at 5.5 s though closes went on.
    assert trims == [5.5]
    # The next burst (made at 6.25 s) is trimmed a quiet second after the last close (9.75 s).
    loop.advance(60)
    assert trims == [5.5, 10.75]


def test_without_malloc_trim_the_trimmer_does_nothing() -> None:
    loop = _Loop()
    trimmer = HeapTrimmer(None, burst=1, running_loop=lambda: loop)
    trimmer.connection_closed()
    loop.advance(60)
    assert trimmer.trims == 0


def test_serve_restarts_on_the_c_allocator_unless_one_was_chosen() -> None:
    chosen = {"PYTHONMALLOC": "pymalloc", "HOME": "/h"}
    assert c_allocator_environment(chosen) is None
    if GLIBC:
        assert c_allocator_environment({"HOME": "/h"}) == {"HOME": "/h", "PYTHONMALLOC": "malloc"}
    else:
        assert c_allocator_environment({"HOME": "/h"}) is None


@pytest.mark.skipif(not GLIBC or not Path("/proc/self/environ").exists(), reason="needs glibc and /proc")
def test_the_served_process_is_the_started_one_on_the_c_allocator() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"}
    with serve_process(env=environment) as (process, _port):
        # The same process id (an exec, so a signal or `kill` reaches the server) ...
        served = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
        assert b"PYTHONMALLOC=malloc" in served
        # ... with the same command line.
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert command[1:5] == [b"-m", b"mockserver", b"serve", b"--port"]
        process.terminate()
        process.wait(30)
    assert process.returncode == 0
