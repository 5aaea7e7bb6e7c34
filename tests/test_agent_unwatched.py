"""A run no one watches leaves the store as a watched run does, moment by moment."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.models import ChatMessage, LivePart
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import ManualScheduler
from mockserver.core.store import ChatStore
from mockserver.v1.agent import ScenarioAgent

ALICE = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
LIBRARY = ScenarioLibrary.builtin()
RUN = UUID("0b7e1c52-6f0e-4c8e-9d55-3f7a3c1e2d4b")


def _moments(scenario: str, *, watched: bool) -> tuple[list[Any], list[Any]]:
    """After each step of the run's clock: the rows stored and the stream position; and what a
    listener heard."""
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(1))
    scheduler = ManualScheduler()
    chat = store.create_chat(
        ALICE, workspace_id=None, title="", provider="p", model="m", metadata={"scenario": scenario}
    )
    heard: list[Any] = []
    if watched:
        store.subscribe(chat.id, heard.append)
    ScenarioAgent(store, scheduler, LIBRARY).start_run(chat, RUN, "list the files <please>")
    moments = []
    while scheduler.step():
        rows = [(m.id, m.created_at, m.role, m.content) for m in store.messages_of(chat.id)]
        moments.append((rows, store.stream_position(chat.id)))
    return moments, heard


@pytest.mark.parametrize("scenario", LIBRARY.names)
def test_an_unwatched_run_stores_what_a_watched_run_stores(scenario: str) -> None:
    # Given the same run, once with a listener on the chat and once with none
    watched, heard = _moments(scenario, watched=True)
    unwatched, _ = _moments(scenario, watched=False)
    # Then the rows, their ids and times, and the live preview are the same at every moment
    assert unwatched == watched
    # and the listener heard each row, and partials besides
    rows = [event for event in heard if isinstance(event, ChatMessage)]
    assert [m.content for m in rows] == [content for _, _, _, content in watched[-1][0][1:]]
    if scenario in ("echo", "reasoning", "slow"):
        assert any(isinstance(event, LivePart) for event in heard)
