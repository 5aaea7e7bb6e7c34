"""Stopping: the server's stop, awaited on any loop, or as a plain signal set once."""

from __future__ import annotations

import asyncio

from mockserver.core.stopping import Stopping


def test_callbacks_registered_before_any_loop_runs_are_called_once_on_set() -> None:
    stopping = Stopping()
    called: list[str] = []
    stopping.on_set(lambda: called.append("first"))

    stopping.set()
    stopping.set()
    stopping.on_set(lambda: called.append("late"))  # after the stop: at once

    assert called == ["first", "late"]
    assert stopping.is_set and stopping.begun


def test_waiters_and_sleepers_wake_when_the_stop_begins() -> None:
    stopping = Stopping()

    async def scenario() -> list[str]:
        woke: list[str] = []

        async def waiter() -> None:
            await stopping.wait()
            woke.append("wait")

        async def sleeper() -> None:
            await stopping.sleep(3600)
            woke.append("sleep")

        tasks = [asyncio.ensure_future(waiter()), asyncio.ensure_future(sleeper())]
        await asyncio.sleep(0)
        # When
        stopping.begin()
        await asyncio.gather(*tasks)
        return sorted(woke)

    assert asyncio.run(scenario()) == ["sleep", "wait"]


def test_released_waits_for_every_holder_to_let_go() -> None:
    stopping = Stopping()

    async def scenario() -> tuple[bool, bool]:
        let_go = asyncio.Event()

        async def holder() -> None:
            with stopping.holding():
                await let_go.wait()

        task = asyncio.ensure_future(holder())
        await asyncio.sleep(0)
        still_held = await stopping.released(0.01)
        let_go.set()
        await task
        return still_held, await stopping.released(0.01)

    assert asyncio.run(scenario()) == (False, True)
