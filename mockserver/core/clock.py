"""Clocks and id factories, injected so that tests are deterministic."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "IdFactory", "SteppingClock", "seeded_uuids", "system_clock"]

Clock = Callable[[], datetime]
IdFactory = Callable[[], uuid.UUID]


def system_clock() -> datetime:
    """Now, in UTC, to the microsecond (what Postgres timestamptz keeps)."""
    return datetime.now(UTC)


class SteppingClock:
    """A clock for tests: starts at a fixed moment and moves by `step` each time it is read."""

    def __init__(
        self,
        start: datetime = datetime(2026, 11, 27, 10, 21, 19, 10535, tzinfo=UTC),
        step: timedelta = timedelta(milliseconds=1),
    ) -> None:
        self._now = start
        self._step = step

    def __call__(self) -> datetime:
        now = self._now
        self._now += self._step
        return now


def seeded_uuids(seed: int) -> IdFactory:
    """Version-4 UUIDs from a seeded generator: the same seed gives the same ids."""
    rng = random.Random(seed)

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    return new_id
