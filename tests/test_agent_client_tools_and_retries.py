"""What V1 (the seed's API) makes of a tool the client runs and of a retried model call.

The seed's API has no way for a client to answer a tool call and no retry event
(openapi/WIRE.md section 4), so v1/agent.py plays them as that server would show them: a
client tool ends the run with `finish_reason: "tool-calls"`, and a retry is a silent backoff.
"""

from __future__ import annotations

from pathlib import Path

from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import ImmediateScheduler, ManualScheduler
from tests.agent_support import mock_client, new_chat, post, shape, transcript

HEAD = ["system:system_prompt", "user:message"]


def test_a_client_tool_ends_the_v1_run_with_tool_calls_and_no_result() -> None:
    with mock_client(ImmediateScheduler()) as client:
        chat = new_chat(client, {"scenario": "client-tool"})
        # When
        run_id = post(client, chat, "weather in Paris")
        rows = transcript(client, chat)
    # Then: the call is stored, never its result; the step closes and the run stops there
    assert [shape(r) for r in rows] == [
        *HEAD,
        "system:stream_event:run_started",
        "tool_call:tool_call",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ]
    call = rows[3]["content"]
    assert (call["tool_name"], call["args"], call["run_id"]) == (
        "get_weather",
        {"query": "weather in Paris"},
        run_id,
    )
    message = rows[4]["content"]["message"]
    invocation = message["parts"][-1]["toolInvocation"]
    assert invocation == {
        "state": "call",
        "step": 0,
        "toolCallId": call["tool_call_id"],
        "toolName": "get_weather",
        "args": {"query": "weather in Paris"},
    }
    assert message["content"] == "Let me look that up on your machine."
    finished = rows[-1]["content"]
    assert (finished["finish_reason"], finished["steps"]) == ("tool-calls", 1)


def test_a_client_tool_step_keeps_its_other_parts_and_nothing_after_it_is_played(tmp_path: Path) -> None:
    (tmp_path / "ask.yaml").write_text(
        "steps:\n"
        "  - tool_call: {name: lookup, args: {q: x}, result: [1]}\n"
        "  - tool_call: {name: ask_user, client: true}\n"
        "  - text: Same step.\n"
        "  - usage: {prompt_tokens: 1, completion_tokens: 2}\n"
        "  - text: Never played.\n"
        "  - finish: stop\n",
        encoding="utf-8",
    )
    library = ScenarioLibrary.builtin().with_directory(tmp_path)
    with mock_client(ImmediateScheduler(), library=library) as client:
        chat = new_chat(client, {"scenario": "ask"})
        post(client, chat, "hi")
        rows = transcript(client, chat)
    assert [shape(r) for r in rows][2:] == [
        "system:stream_event:run_started",
        "tool_call:tool_call",
        "tool_result:tool_result",
        "tool_call:tool_call",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ]
    parts = rows[6]["content"]["message"]["parts"]
    assert [p["toolInvocation"]["state"] for p in parts[1:3]] == ["result", "call"]
    assert [p["type"] for p in parts] == ["step-start", "tool-invocation", "tool-invocation", "text"]
    assert rows[-1]["content"]["finish_reason"] == "tool-calls"
    assert "Never played." not in str(rows)


def test_a_retry_is_a_silent_backoff_in_v1_and_only_the_last_attempt_is_stored(tmp_path: Path) -> None:
    (tmp_path / "flaky.yaml").write_text(
        "steps:\n"
        "  - text: [Half an ans, wer]\n    every: 0.1\n"
        "  - retry: {message: boom, delay: 0.5, kind: overloaded, status_code: 529}\n"
        "  - text: The whole answer.\n"
        "  - finish: stop\n",
        encoding="utf-8",
    )
    scheduler = ManualScheduler()
    library = ScenarioLibrary.builtin().with_directory(tmp_path)
    with mock_client(scheduler, library=library) as client:
        chat = new_chat(client, {"scenario": "flaky"})
        post(client, chat, "hi")
        # When: the failed attempt streamed and the backoff is not over
        scheduler.advance(0.2 + 0.49)
        assert [shape(r) for r in transcript(client, chat)][2:] == ["system:stream_event:run_started"]
        # When: the backoff is over
        scheduler.advance(0.01)
        rows = transcript(client, chat)
    # Then: the rows are a plain answer's, holding only what the last attempt said
    assert [shape(r) for r in rows][2:] == [
        "system:stream_event:run_started",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    ]
    assert rows[3]["content"]["message"]["content"] == "The whole answer."
    assert rows[-1]["content"]["finish_reason"] == "stop"


def test_the_builtin_retry_scenario_plays_in_v1_as_a_late_plain_answer() -> None:
    scheduler = ManualScheduler()
    duration = ScenarioLibrary.builtin()["retry"].duration
    with mock_client(scheduler) as client:
        chat = new_chat(client, {"scenario": "retry"})
        post(client, chat, "hi")
        scheduler.advance(duration - 0.01)
        assert transcript(client, chat)[-1]["content"].get("event") != "run_finished"
        scheduler.advance(0.01)
        rows = transcript(client, chat)
    assert rows[-1]["content"]["finish_reason"] == "stop"
    assert rows[-3]["content"]["message"]["content"] == (
        "Sorry for the wait: the provider was busy. Here is your answer."
    )
