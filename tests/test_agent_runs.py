"""The agent loop through the HTTP API: each scenario's V1 rows, virtual time, concurrent posts."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import AsyncioScheduler, ImmediateScheduler, ManualScheduler
from tests.agent_support import mock_client, new_chat, post, shape, transcript

HEAD = ["system:system_prompt", "user:message"]

EXPECTED = {
    "echo": [
        "system:stream_event:run_started",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ],
    "tool-use": [
        "system:stream_event:run_started",
        "tool_call:tool_call",
        "tool_result:tool_result",
        "assistant:message",
        "system:stream_event:usage",
        "tool_call:tool_call",
        "tool_result:tool_result",
        "assistant:message",
        "system:stream_event:usage",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ],
    "reasoning": [
        "system:stream_event:run_started",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ],
    "slow": [
        "system:stream_event:run_started",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ],
    "upstream-error": [
        "system:stream_event:run_started",
        "system:stream_event:error",
        "system:stream_event:run_finished",
    ],
    "length": [
        "system:stream_event:run_started",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ],
}
FINISH = {"echo": "stop", "tool-use": "stop", "reasoning": "stop", "slow": "stop"}
FINISH |= {"upstream-error": "error", "length": "length"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_builtin_scenario_writes_its_v1_rows_and_passes_response_validation(name: str) -> None:
    with mock_client(ImmediateScheduler()) as client:
        chat = new_chat(client, {"scenario": name})
        # When
        run_id = post(client, chat, "Why does the build fail?")
        # Then (a row of the wrong shape would be a 500 from response validation)
        rows = transcript(client, chat)
    assert [shape(r) for r in rows] == HEAD + EXPECTED[name]
    assert {r["content"]["run_id"] for r in rows[1:]} == {run_id}
    assert rows[-1]["content"]["finish_reason"] == FINISH[name]
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids)


def test_tool_use_run_is_complete_within_the_scenarios_time_and_not_before() -> None:
    scheduler = ManualScheduler()
    duration = ScenarioLibrary.builtin()["tool-use"].duration
    with mock_client(scheduler) as client:
        chat = new_chat(client, {"scenario": "tool-use"})
        run_id = post(client, chat, "list the files")
        # When: just short of the scenario's time
        scheduler.advance(duration - 0.01)
        # Then
        assert transcript(client, chat)[-1]["content"].get("event") != "run_finished"
        # When: the scenario's time has passed
        scheduler.advance(0.01)
        # Then
        rows = transcript(client, chat)
    assert [shape(r) for r in rows] == HEAD + EXPECTED["tool-use"]
    assert all(r["content"]["run_id"] == run_id for r in rows[1:])
    calls = [r["content"] for r in rows if r["role"] == "tool_call"]
    results = [r["content"] for r in rows if r["role"] == "tool_result"]
    assert [c["tool_name"] for c in calls] == ["list_files", "read_file"]
    assert [(c["step"], c["tool_call_id"]) for c in calls] == [
        (r["step"], r["tool_call_id"]) for r in results
    ]
    assert results[1]["error"] == "open main.go: permission denied"
    first_step = rows[5]["content"]["message"]
    assert [p["type"] for p in first_step["parts"]] == [
        "step-start",
        "reasoning",
        "tool-invocation",
    ]
    assert first_step["parts"][2]["toolInvocation"]["state"] == "result"
    assert rows[-1]["content"]["steps"] == 3


def test_virtual_clock_grows_the_transcript_one_instant_at_a_time() -> None:
    scheduler = ManualScheduler()
    with mock_client(scheduler) as client:
        chat = new_chat(client, {"scenario": "tool-use"})
        post(client, chat, "list the files")
        # Then: nothing of the run before time moves
        assert len(transcript(client, chat)) == 2
        seen = []
        # When: one turn of the agent at a time
        while scheduler.step():
            seen.append((scheduler.now, [shape(r) for r in transcript(client, chat)]))
    # Then: every turn is a later instant, and the transcript only grows, in the scenario's order
    full = HEAD + EXPECTED["tool-use"]
    instants = [now for now, _ in seen]
    assert instants == sorted(set(instants))
    assert all(rows == full[: len(rows)] for _, rows in seen)
    lengths = [len(rows) for _, rows in seen]
    assert lengths == sorted(lengths)
    assert lengths[-1] == len(full)
    # the tool call waits for its result, so the run takes more than one turn
    assert len(seen) > 1


def test_two_posts_during_a_run_start_two_runs_whose_rows_interleave_in_id_order() -> None:
    scheduler = ManualScheduler()
    with mock_client(scheduler) as client:
        chat = new_chat(client, {"scenario": "tool-use"})
        first = post(client, chat, "one")
        scheduler.advance(0.5)
        # When: a second post while the first run is going
        second = post(client, chat, "two")
        scheduler.finish_all()
        rows = transcript(client, chat)
    # Then: each run writes its whole sequence; the two interleave; ids rise throughout
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for run in (first, second):
        mine = [shape(r) for r in rows if r["content"].get("run_id") == run]
        assert mine == ["user:message", *EXPECTED["tool-use"]]
    runs = [r["content"]["run_id"] for r in rows[1:]]
    assert runs != sorted(runs, key=[first, second].index)  # interleaved, not one after the other


def test_message_text_is_templated_into_the_echo() -> None:
    with mock_client(ImmediateScheduler()) as client:
        chat = new_chat(client)
        post(client, chat, "hello {there}")
        rows = transcript(client, chat)
    assert rows[3]["content"]["message"]["content"] == "You said: hello {there}"


def test_asyncio_scheduler_advance_runs_a_chain_of_delays_up_to_the_horizon() -> None:
    now = [100.0]
    ran: list[str] = []

    async def scenario() -> None:
        scheduler = AsyncioScheduler(timer=lambda: now[0])

        def first() -> None:
            ran.append("first")
            scheduler.call_later(1.0, lambda: ran.append("second"))

        scheduler.call_later(1.0, first)
        scheduler.call_later(10.0, lambda: ran.append("late"))
        # When
        assert scheduler.advance(2.0) == 2
        # Then
        assert ran == ["first", "second"]
        assert scheduler.finish_all() == 1
        assert ran == ["first", "second", "late"]

    asyncio.run(scenario())
