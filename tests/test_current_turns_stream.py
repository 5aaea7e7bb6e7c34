"""Scenario turns end to end: what `GET /chats/{chat}/stream` and `GET /chats/watch` send.

The `client-tool` and `retry` built-ins played on a virtual clock, read over the WebSockets:
requires_action (its `action_required`, the answer through `POST .../tool-results`, the rest of
the turn) and retries (`retry`, then `preview_reset` as each new attempt starts), in the order
the stream loop sends them (openapi/current/WIRE.md sections 6 and 7).
"""

from __future__ import annotations

import json
from typing import Any

from tests.current_support import ALICE
from tests.test_current_stream import Event, Reader, ended, kinds, mock, stream_path
from tests.test_current_watch import WATCH
from tests.test_current_watch import Reader as WatchReader


def _tool_results(m: Any, chat: str, body: Any) -> Any:
    return m.client.post(f"/api/v2/chats/{chat}/tool-results", headers=ALICE, json=body)


def test_a_client_tool_turn_on_the_stream_waits_with_action_required_then_finishes() -> None:
    with mock() as m:
        chat = m.create("/client-tool Paris")
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            snapshot = reader.frame()
            # When: the turn plays until it waits for the client
            m.scheduler.finish_all()
            waiting = reader.until(lambda es: "action_required" in kinds(es))[len(snapshot) :]
            # Then: the step's text streams, its message is stored, then the status and the call
            assert kinds(waiting) == ["message_part", "message", "preview_reset", "status", "action_required"]
            assert waiting[3]["status"] == {"status": "requires_action"}
            stored_call = waiting[1]["message"]["content"][-1]
            (call,) = waiting[4]["action_required"]["tool_calls"]
            assert call == {
                "tool_call_id": stored_call["tool_call_id"],
                "tool_name": "get_weather",
                "args": '{"query":"/client-tool Paris"}',
            }
            assert json.loads(call["args"]) == stored_call["args"]

            # When: the client answers
            body = {"results": [{"tool_call_id": call["tool_call_id"], "output": {"temp_c": 18}}]}
            assert _tool_results(m, chat, body).status_code == 204
            m.scheduler.finish_all()
            rest = reader.until(ended)[len(snapshot) + len(waiting) :]
    # Then: the result message, running again, the answer streamed and stored, waiting
    assert kinds(rest) == [
        "message",
        "preview_reset",
        "status",
        "message_part",
        "message_part",
        "message_part",
        "message",
        "preview_reset",
        "status",
    ]
    assert rest[0]["message"]["role"] == "tool"
    assert rest[0]["message"]["content"][0]["result"] == {"temp_c": 18}
    assert [e["status"]["status"] for e in rest if e["type"] == "status"] == ["running", "waiting"]


def test_a_stream_joining_a_chat_that_waits_for_the_client_gets_the_pending_calls_in_its_snapshot() -> None:
    with mock() as m:
        chat = m.create("/client-tool Paris")
        m.scheduler.finish_all()
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            snapshot = Reader(ws).frame()
    assert kinds(snapshot) == ["message", "message", "status", "action_required", "preview_reset"]
    assert snapshot[2]["status"] == {"status": "requires_action"}
    (call,) = snapshot[3]["action_required"]["tool_calls"]
    assert call["tool_name"] == "get_weather"


def test_an_interrupt_while_waiting_shows_the_error_result_and_the_turn_going_on() -> None:
    with mock() as m:
        chat = m.create("/client-tool Paris")
        m.scheduler.finish_all()
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            snapshot = reader.frame()
            assert m.client.post(f"/api/v2/chats/{chat}/interrupt", headers=ALICE).status_code == 200
            m.scheduler.finish_all()
            live = reader.until(ended)[len(snapshot) :]
    assert kinds(live)[:3] == ["message", "preview_reset", "status"]
    (part,) = live[0]["message"]["content"]
    assert (part["result"], part["is_error"]) == ({"error": "Tool execution interrupted by user"}, True)
    assert live[-1]["status"] == {"status": "waiting"}


def test_a_retry_turn_on_the_stream_sends_each_retry_then_a_reset_as_the_next_attempt_starts() -> None:
    with mock() as m:
        chat = m.create("/retry please")
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            snapshot = reader.frame()
            # When: the first call fails (at 0.2 s)
            m.scheduler.advance(0.2)
            first = reader.until(lambda es: "retry" in kinds(es))[len(snapshot) :]
            # When: the rest of the turn plays
            m.scheduler.finish_all()
            rest = reader.until(ended)[len(snapshot) + len(first) :]
    assert kinds(first) == ["retry"]
    retry = first[0]["retry"]
    assert list(retry) == ["attempt", "delay_ms", "error", "kind", "provider", "status_code", "retrying_at"]
    assert (retry["attempt"], retry["delay_ms"], retry["kind"], retry["status_code"]) == (
        1,
        1000,
        "overloaded",
        529,
    )
    assert kinds(rest) == [
        "preview_reset",
        "retry",
        "preview_reset",
        "message_part",
        "message_part",
        "message_part",
        "message",
        "preview_reset",
        "status",
    ]
    assert rest[1]["retry"]["attempt"] == 2
    parts: list[Event] = [e for e in rest if e["type"] == "message_part"]
    # the parts belong to the third attempt, numbered from 1 after its reset
    assert [p["message_part"]["seq"] for p in parts] == [1, 2, 3]
    assert {p["message_part"]["generation_attempt"] for p in parts} == {2}


def test_a_stream_joining_during_a_backoff_gets_the_pending_retry_in_its_snapshot() -> None:
    with mock() as m:
        chat = m.create("/retry please")
        m.scheduler.advance(0.5)  # the first attempt failed at 0.2 s; the retry is due at 1.2 s
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            snapshot = Reader(ws).frame()
    assert kinds(snapshot) == ["message", "status", "retry", "preview_reset"]
    assert snapshot[2]["retry"]["attempt"] == 1


def test_the_watch_shows_a_client_tool_turn_as_action_required_with_its_calls() -> None:
    with mock() as m, m.client.websocket_connect(WATCH, headers=dict(ALICE)) as ws:
        reader = WatchReader(ws)
        chat = m.create("/client-tool Paris")
        m.scheduler.finish_all()
        events = reader.until(lambda es: any(e["kind"] == "action_required" for e in es))
        (action,) = [e for e in events if e["kind"] == "action_required"]
        assert action["chat"]["id"] == chat
        assert action["chat"]["status"] == "requires_action"
        assert [c["tool_name"] for c in action["tool_calls"]] == ["get_weather"]
        # When: the client answers, the turn runs to its end
        call_id = action["tool_calls"][0]["tool_call_id"]
        assert (
            _tool_results(m, chat, {"results": [{"tool_call_id": call_id, "output": 1}]}).status_code == 204
        )
        m.scheduler.finish_all()
        after = reader.until(lambda es: es[-1]["chat"]["status"] == "waiting")
    statuses = [e["chat"]["status"] for e in after[after.index(action) + 1 :]]
    assert statuses == ["running", "waiting"]
