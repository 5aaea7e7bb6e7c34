"""Load clients of one chat, split over worker processes that talk to the bench through pipes.

A worker is `target(port, chat, size, pipe, cpu)`: it opens `size` clients, says "ready", then for
each value `expect` sends it says "delivered" once its clients saw what was expected, and on
"close" sends back what its clients recorded and ends. `bench/fanout.py` (watch-ws watchers) and
`bench/stream_load.py` (today's stream clients) drive their workers through this pool.

A worker runs its clients on uvloop when it is installed (`run_clients`; it comes with
uvicorn's standard extra, which serve uses too): the clients share the machine with the server,
and the plain asyncio loop costs them about as much CPU a frame as the server spends.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bench.procstat import ProcTree

__all__ = ["WorkerPool", "run_clients"]

Worker = Callable[[int, str, int, Connection, "int | None"], None]


def run_clients(main: Coroutine[Any, Any, None]) -> None:
    """Run a worker's clients to the end, on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


class WorkerPool:
    """`total` clients of one chat, split as evenly as can be over `workers` processes."""

    def __init__(
        self, worker: Worker, port: int, chat: str, total: int, workers: int, *, cpu: int | None
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        sizes = [total // workers + (1 if i < total % workers else 0) for i in range(workers)]
        for size in sizes:
            mine, theirs = ctx.Pipe()
            process = ctx.Process(target=worker, args=(port, chat, size, theirs, cpu), daemon=True)
            process.start()
            self._pipes.append(mine)
            self._processes.append(process)

    def wait(self, word: str, timeout: float = 300) -> None:
        """Until every worker said `word`."""
        for pipe in self._pipes:
            if not pipe.poll(timeout):
                raise RuntimeError(f"a client worker did not say {word!r} within {timeout} s")
            got = pipe.recv()
            assert got == word, got

    def cpu_seconds(self) -> float:
        """The workers' CPU time so far (user + system), from /proc."""
        return sum(ProcTree(process.pid).cpu_seconds() for process in self._processes if process.pid)

    def expect(self, what: object) -> None:
        """Tell every worker what its clients must see before it says "delivered"."""
        for pipe in self._pipes:
            pipe.send(what)

    def close(self) -> list[Any]:
        """Each worker's record, in worker order, once all have ended."""
        for pipe in self._pipes:
            pipe.send("close")
        records = [pipe.recv() for pipe in self._pipes]
        for process in self._processes:
            process.join(30)
        return records
