"""Today's API: a turn that waits for the client's tool results, POST .../tool-results, retries.

Every run plays on a virtual clock (ManualScheduler): a test moves time and reads the chat.
The built-in `client-tool` scenario asks the client to run `get_weather`; `retry` fails twice
with a retryable provider error before it answers (openapi/current/WIRE.md sections 5 and 6).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from mockserver import ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.changes import ChatChanged, ChatEvent, PreviewReset, RetryScheduled
from mockserver.core.directory import DEFAULT_ORGANIZATION_ID, DEMO_TOKENS, Directory
from mockserver.core.models import ChatMessage, ChatStatus, LivePart, Role
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.core.store import ChatStore
from mockserver.current.catalog import ModelCatalog
from mockserver.current.engine import ChatEngine, ToolResultsInvalid
from mockserver.current.stream_wire import pending_tool_calls
from mockserver.current.turns import TurnRunner, unanswered_calls
from tests.app_settings import app_settings
from tests.current_support import ALICE, BOB, Current, current_mock, text

STATUS_CONFLICT = "Chat is not waiting for tool results."


def _tool_results(mock: Current, chat_id: str, body: Any) -> Any:
    return mock.post(f"/chats/{chat_id}/tool-results", body)


def _waiting_for_tool(mock: Current) -> tuple[str, str]:
    """A chat whose `client-tool` turn waits in requires_action; its id and the pending call's id."""
    chat = mock.create("/client-tool Paris")
    mock.finish()  # plays until the turn pauses: nothing is left on the clock
    assert mock.status(chat["id"]) == "requires_action"
    call = mock.transcript(chat["id"])[-1]["content"][-1]
    assert call["type"] == "tool-call"
    return str(chat["id"]), str(call["tool_call_id"])


def _roles(transcript: list[dict[str, Any]]) -> list[str]:
    return [message["role"] for message in transcript]


# --- the happy path -------------------------------------------------------------------------


def test_client_tool_turn_waits_in_requires_action_until_the_results_arrive() -> None:
    with current_mock() as mock:
        # When: a turn's model step calls a tool the client runs
        chat = mock.create("/client-tool Paris")
        mock.scheduler.advance(0.1)
        assert mock.status(chat["id"]) == "running"
        mock.finish()

        # Then: the step is stored and the chat waits; nothing more is scheduled
        assert mock.status(chat["id"]) == "requires_action"
        assert mock.scheduler.pending == 0
        messages = mock.transcript(chat["id"])
        assert _roles(messages) == ["user", "assistant"]
        text_part, call = messages[-1]["content"]
        assert text_part["text"] == "Let me look that up on your machine."
        assert (call["type"], call["tool_name"], call["args"]) == (
            "tool-call",
            "get_weather",
            {"query": "/client-tool Paris"},
        )
        assert "created_at" in call

        # When: the client sends the tool's output
        response = _tool_results(
            mock, chat["id"], {"results": [{"tool_call_id": call["tool_call_id"], "output": {"temp_c": 18}}]}
        )

        # Then: 204, the result is a `tool` message, the chat runs again and finishes the turn
        assert response.status_code == 204, response.text
        assert response.content == b""
        assert mock.status(chat["id"]) == "running"
        result = mock.transcript(chat["id"])[-1]
        assert result["role"] == "tool"
        (part,) = result["content"]
        assert (part["type"], part["tool_call_id"], part["tool_name"], part["result"]) == (
            "tool-result",
            call["tool_call_id"],
            "get_weather",
            {"temp_c": 18},
        )
        assert "is_error" not in part
        mock.finish()
        assert mock.status(chat["id"]) == "waiting"
        final = mock.transcript(chat["id"])
        assert _roles(final) == ["user", "assistant", "tool", "assistant"]
        assert "".join(p["text"] for p in final[-1]["content"]) == (
            "Thanks. With what your tool sent back, here is the answer."
        )


def test_an_error_output_and_a_null_output_are_stored_as_sent() -> None:
    with current_mock() as mock:
        chat_id, call_id = _waiting_for_tool(mock)
        response = _tool_results(
            mock, chat_id, {"results": [{"tool_call_id": call_id, "output": None, "is_error": True}]}
        )
        assert response.status_code == 204, response.text
        (part,) = mock.transcript(chat_id)[-1]["content"]
        assert part["result"] is None  # a JSON null is a value for Go's json.RawMessage
        assert part["is_error"] is True


def test_a_queued_message_waits_through_requires_action_and_runs_after_the_turn() -> None:
    with current_mock() as mock:
        chat_id, call_id = _waiting_for_tool(mock)
        # When: a message is sent while the chat waits for the client (A0 -> A1)
        sent = mock.send(chat_id, "and then?")
        assert sent.status_code == 200 and sent.json()["queued"] is True
        assert mock.status(chat_id) == "requires_action"
        # Then: the results resume the turn (A1 -> R1), and the queue head runs after it
        assert (
            _tool_results(mock, chat_id, {"results": [{"tool_call_id": call_id, "output": "ok"}]}).status_code
            == 204
        )
        assert mock.status(chat_id) == "running"
        mock.finish()
        assert mock.status(chat_id) == "waiting"
        messages = mock.transcript(chat_id)
        assert _roles(messages) == ["user", "assistant", "tool", "assistant", "user", "assistant"]
        assert mock.messages(chat_id)["queued_messages"] == []


# --- leaving requires_action without results ---------------------------------------------------


def test_interrupt_answers_the_pending_call_with_an_error_and_the_turn_goes_on() -> None:
    with current_mock() as mock:
        chat_id, call_id = _waiting_for_tool(mock)
        response = mock.post(f"/chats/{chat_id}/interrupt")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "running"
        (part,) = mock.transcript(chat_id)[-1]["content"]
        assert part == {
            **part,
            "type": "tool-result",
            "tool_call_id": call_id,
            "result": {"error": "Tool execution interrupted by user"},
            "is_error": True,
        }
        mock.finish()
        assert mock.status(chat_id) == "waiting"
        # Then: the results endpoint refuses, the chat no longer waits
        late = _tool_results(mock, chat_id, {"results": [{"tool_call_id": call_id, "output": 1}]})
        assert late.status_code == 409
        assert late.json() == {
            "message": STATUS_CONFLICT,
            "detail": 'chat status is "waiting", expected "requires_action"',
        }


def test_a_send_with_interrupt_cancels_the_pending_call_and_runs_after_the_turn() -> None:
    with current_mock() as mock:
        chat_id, _ = _waiting_for_tool(mock)
        sent = mock.send(chat_id, "never mind", busy_behavior="interrupt")
        assert sent.status_code == 200 and sent.json()["queued"] is True
        assert mock.status(chat_id) == "running"  # A0 -> R1
        mock.finish()
        assert mock.status(chat_id) == "waiting"
        roles = _roles(mock.transcript(chat_id))
        assert roles == ["user", "assistant", "tool", "assistant", "user", "assistant"]


def test_an_edit_while_waiting_replaces_the_turn() -> None:
    with current_mock() as mock:
        chat_id, _ = _waiting_for_tool(mock)
        first = mock.transcript(chat_id)[0]
        response = mock.client.patch(
            f"/api/v2/chats/{chat_id}/messages/{first['id']}", headers=ALICE, json={"content": text("hi")}
        )
        assert response.status_code == 200, response.text
        mock.finish()
        assert mock.status(chat_id) == "waiting"
        assert _roles(mock.transcript(chat_id)) == ["user", "assistant"]


# --- refusals, in coderd's order ---------------------------------------------------------------


@pytest.mark.parametrize("body", [b'{"results": []}', b'{"results": null}', b"{}", b"null"])
def test_no_results_is_a_400_before_the_state_is_looked_at(body: bytes) -> None:
    with current_mock() as mock:
        chat = mock.create("/slow hi")  # running, not waiting for anything
        response = mock.client.post(
            f"/api/v2/chats/{chat['id']}/tool-results",
            headers={**ALICE, "Content-Type": "application/json"},
            content=body,
        )
        assert response.status_code == 400
        assert response.json() == {"message": "At least one tool result is required."}


def test_an_archived_chat_refuses_before_the_results_are_looked_at() -> None:
    # The mock decodes a body before its handler runs, so a body Go cannot decode is refused
    # first here; coderd reads the body after the archive check (WIRE.md section 5).
    with current_mock() as mock:
        chat = mock.create()
        mock.finish()
        assert mock.patch(chat["id"], archived=True).status_code == 204
        response = _tool_results(mock, chat["id"], {"results": []})
        assert response.status_code == 400
        assert response.json() == {"message": "Cannot submit tool results to an archived chat."}


def test_a_body_of_the_wrong_json_type_is_coders_json_400() -> None:
    with current_mock() as mock:
        chat_id, _ = _waiting_for_tool(mock)
        response = _tool_results(mock, chat_id, {"results": [{"tool_call_id": 7, "output": 1}]})
        assert response.status_code == 400
        assert response.json()["message"] == "Request body must be valid JSON."
        assert mock.status(chat_id) == "requires_action"


def test_results_for_a_chat_that_is_not_waiting_are_a_409_naming_its_status() -> None:
    with current_mock() as mock:
        chat = mock.create("/slow hi")
        response = _tool_results(mock, chat["id"], {"results": [{"tool_call_id": "call_1", "output": {}}]})
        assert response.status_code == 409
        assert response.json() == {
            "message": STATUS_CONFLICT,
            "detail": 'chat status is "running", expected "requires_action"',
        }


@pytest.mark.parametrize(
    ("results", "message", "detail"),
    [
        (
            [{"tool_call_id": "{call}", "output": 1}, {"tool_call_id": "{call}", "output": 2}],
            "Duplicate tool_call_id in results.",
            'Duplicate tool call ID "{call}".',
        ),
        (
            [{"tool_call_id": "{call}"}],
            "Tool result output must be valid JSON.",
            'Output for tool call "{call}" is not valid JSON.',
        ),
        (
            [None],
            "Tool result output must be valid JSON.",
            'Output for tool call "" is not valid JSON.',
        ),
        (
            [{"tool_call_id": "call_other", "output": 1}],
            "Missing tool result.",
            'Missing result for tool call "{call}".',
        ),
        (
            [{"tool_call_id": "{call}", "output": 1}, {"tool_call_id": "call_other", "output": 2}],
            "Unexpected tool result.",
            'No pending tool call with ID "call_other".',
        ),
        (
            # per result in order: the unknown id is not looked at before the later duplicate
            [
                {"tool_call_id": "call_other", "output": 1},
                {"tool_call_id": "{call}", "output": 1},
                {"tool_call_id": "{call}", "output": 2},
            ],
            "Duplicate tool_call_id in results.",
            'Duplicate tool call ID "{call}".',
        ),
    ],
)
def test_results_that_do_not_answer_the_pending_calls_exactly_are_refused_and_change_nothing(
    results: list[Any], message: str, detail: str
) -> None:
    with current_mock() as mock:
        chat_id, call_id = _waiting_for_tool(mock)
        before = mock.transcript(chat_id)
        filled = [
            None
            if r is None
            else {k: (v.replace("{call}", call_id) if isinstance(v, str) else v) for k, v in r.items()}
            for r in results
        ]
        response = _tool_results(mock, chat_id, {"results": filled})
        assert response.status_code == 400, response.text
        assert response.json() == {"message": message, "detail": detail.replace("{call}", call_id)}
        assert mock.status(chat_id) == "requires_action"
        assert mock.transcript(chat_id) == before


def test_another_users_chat_is_a_404_and_a_bad_id_a_400() -> None:
    with current_mock() as mock:
        chat_id, call_id = _waiting_for_tool(mock)
        body = {"results": [{"tool_call_id": call_id, "output": 1}]}
        theirs = mock.client.post(f"/api/v2/chats/{chat_id}/tool-results", headers=BOB, json=body)
        assert theirs.status_code == 404
        bad = mock.post("/chats/not-a-uuid/tool-results", body)
        assert bad.status_code == 400
        assert bad.json()["message"] == 'Invalid UUID "not-a-uuid".'
        assert mock.status(chat_id) == "requires_action"


# --- what the stream and the watch read ---------------------------------------------------------


def _engine() -> tuple[ChatStore, ChatEngine, ManualScheduler, Directory]:
    scheduler = ManualScheduler()
    new_id = seeded_uuids(3)
    store = ChatStore(clock=SteppingClock(), new_id=new_id)
    runner = TurnRunner(store, scheduler, ScenarioLibrary.builtin(), clock=SteppingClock(), new_id=new_id)
    engine = ChatEngine(store, runner, scheduler, ModelCatalog(DEFAULT_ORGANIZATION_ID), queue_limit=20)
    return store, engine, scheduler, Directory.from_tokens(DEMO_TOKENS)


def test_the_pending_calls_are_named_as_stream_tool_calls_with_args_as_json_text() -> None:
    store, engine, scheduler, directory = _engine()
    owner = directory.authenticate(DEMO_TOKENS["alice"])
    chat = engine.create(
        owner,
        title="t",
        model=engine.catalog.default,
        labels={},
        parts=text('/client-tool <Paris & "Lyon">'),
        workspace_id=None,
        attributes={},
    )
    assert pending_tool_calls(store.messages_of(chat.id)) == []
    scheduler.run_until_idle()
    (call,) = pending_tool_calls(store.messages_of(chat.id))
    assert call["tool_name"] == "get_weather"
    assert call["tool_call_id"].startswith("call_")
    # Go's json.Marshal: compact, HTML characters escaped
    assert call["args"] == '{"query":"/client-tool \\u003cParis \\u0026 \\"Lyon\\"\\u003e"}'
    assert store.chat(chat.id).status.value == "requires_action"


# --- retries ----------------------------------------------------------------------------------


@contextmanager
def _with_store(scheduler: ManualScheduler) -> Iterator[tuple[TestClient, ChatStore]]:
    """A current-API mock over a store the test can subscribe to."""
    new_id = seeded_uuids(5)
    store = ChatStore(clock=SteppingClock(), new_id=new_id)
    app = create_app(
        app_settings(api="current", validate_responses=True),
        clock=SteppingClock(),
        new_id=new_id,
        scheduler=scheduler,
        store=store,
    )
    with TestClient(app) as client:
        yield client, store


def test_a_retry_scenario_publishes_each_retry_then_a_new_attempt_then_the_answer() -> None:
    scheduler = ManualScheduler()
    events: list[ChatEvent] = []
    with _with_store(scheduler) as (client, store):
        created = client.post(
            "/api/v2/chats",
            headers=ALICE,
            json={"organization_id": str(DEFAULT_ORGANIZATION_ID), "content": text("/retry please")},
        )
        assert created.status_code == 201, created.text
        chat_id = UUID(created.json()["id"])
        store.subscribe(chat_id, events.append)

        def kinds_until(seconds: float) -> list[str]:
            scheduler.advance(seconds)
            seen = [_kind(e) for e in events]
            events.clear()
            return [k for k in seen if k]

        # Then: at 0.2 s the first call fails; the retry is announced and nothing else changes
        assert kinds_until(0.2) == ["retry"]
        first = store.stream_position(chat_id).retry
        assert {k: first[k] for k in ("attempt", "delay_ms", "error", "kind", "provider", "status_code")} == {
            "attempt": 1,
            "delay_ms": 1000,
            "error": "Anthropic is temporarily overloaded.",
            "kind": "overloaded",
            "provider": "anthropic",
            "status_code": 529,
        }
        assert list(first) == [
            "attempt",
            "delay_ms",
            "error",
            "kind",
            "provider",
            "status_code",
            "retrying_at",
        ]
        # 1 s later the second attempt starts and fails at once (attempt 2, a 2 s backoff)
        assert kinds_until(1.0) == ["reset", "retry"]
        second = store.stream_position(chat_id).retry
        assert (second["attempt"], second["delay_ms"]) == (2, 2000)
        assert store.stream_position(chat_id).generation_attempt == 1
        # 2 s later the third attempt streams its answer, and the stored message ends the retry
        assert kinds_until(2.0) == ["reset"]
        assert kinds_until(0.3) == ["part", "part", "part", "message", "status"]
        assert store.stream_position(chat_id).retry is None
        response = client.get(f"/api/v2/chats/{chat_id}", headers=ALICE)
        assert response.json()["status"] == "waiting"


def test_a_retry_drops_what_the_failed_attempt_streamed_of_the_open_step(tmp_path: Path) -> None:
    (tmp_path / "flaky.yaml").write_text(
        "match:\n  - regex: '^/flaky'\n"
        "steps:\n"
        "  - text: [Half an ans, wer]\n    every: 0.1\n"
        "  - retry: {message: boom, delay: 0.5}\n"
        "  - text: The whole answer.\n"
        "  - finish: stop\n",
        encoding="utf-8",
    )
    with _library_mock(tmp_path) as mock:
        chat = mock.create("/flaky")
        mock.finish()
        answer = mock.transcript(chat["id"])[-1]
        assert [p["text"] for p in answer["content"]] == ["The whole answer."]


def _kind(event: ChatEvent) -> str:
    if isinstance(event, RetryScheduled):
        return "retry"
    if isinstance(event, PreviewReset):
        return "reset"
    if isinstance(event, LivePart):
        return "part"
    if isinstance(event, ChatMessage):
        return "message"
    if isinstance(event, ChatChanged) and event.previous is not None:
        return "status" if event.chat.status is not event.previous.status else ""
    return ""


@contextmanager
def _library_mock(folder: Path) -> Iterator[Current]:
    """A current-API mock whose library adds the scenario files of `folder`."""
    scheduler = ManualScheduler()
    library = ScenarioLibrary.builtin().with_directory(folder)
    app = create_app(
        app_settings(api="current", validate_responses=True),
        clock=SteppingClock(),
        new_id=seeded_uuids(9),
        scheduler=scheduler,
        library=library,
    )
    with TestClient(app) as client:
        yield Current(client, scheduler)


def test_a_run_on_an_immediate_scheduler_pauses_and_resumes_in_the_request() -> None:
    app = create_app(
        app_settings(api="current"),
        clock=SteppingClock(),
        new_id=seeded_uuids(4),
        scheduler=ImmediateScheduler(),
    )
    with TestClient(app) as client:
        mock = Current(client, ManualScheduler())
        chat = mock.create("/client-tool x")
        assert mock.status(chat["id"]) == "requires_action"
        call = mock.transcript(chat["id"])[-1]["content"][-1]
        response = _tool_results(
            mock, chat["id"], {"results": [{"tool_call_id": call["tool_call_id"], "output": 1}]}
        )
        assert response.status_code == 204
        assert mock.status(chat["id"]) == "waiting"


def _restored_waiting_chat(store: ChatStore, directory: Directory) -> UUID:
    """A chat that waits for the client with no turn of the mock behind it (as a fixture loads it)."""
    owner = directory.authenticate(DEMO_TOKENS["alice"])
    chat = store.create_chat(
        owner,
        workspace_id=None,
        title="restored",
        provider="anthropic",
        model="claude-sonnet-4-5",
        metadata={},
        system_prompt=None,
        status=ChatStatus.REQUIRES_ACTION,
    )
    store.append_message(chat.id, Role.USER, {"parts": text("hi")})
    calls = [
        {"type": "tool-call", "tool_call_id": "call_server", "tool_name": "ls", "args": {}},
        {"type": "tool-call", "tool_call_id": "call_client", "tool_name": "ask", "args": {"q": 1}},
    ]
    store.append_message(chat.id, Role.ASSISTANT, {"parts": calls})
    answered = {"type": "tool-result", "tool_call_id": "call_server", "tool_name": "ls", "result": []}
    store.append_message(chat.id, Role.TOOL, {"parts": [answered]})
    return chat.id


def test_a_restored_waiting_chat_reads_its_pending_calls_from_the_transcript_and_ends_when_answered() -> None:
    store, engine, _, directory = _engine()
    chat_id = _restored_waiting_chat(store, directory)
    assert [c["tool_call_id"] for c in unanswered_calls(store.messages_of(chat_id))] == ["call_client"]
    with pytest.raises(ToolResultsInvalid, match='Missing result for tool call "call_client"'):
        engine.submit_tool_results(chat_id, [{"tool_call_id": "call_server", "output": 1}])
    engine.submit_tool_results(chat_id, [{"tool_call_id": "call_client", "output": "yes"}])
    assert store.chat(chat_id).status is ChatStatus.WAITING
    last = store.messages_of(chat_id)[-1]
    assert last.role is Role.TOOL
    assert last.content["parts"][0]["tool_name"] == "ask"


def test_interrupting_a_restored_waiting_chat_answers_its_calls_with_an_error_and_ends_the_turn() -> None:
    store, engine, _, directory = _engine()
    chat_id = _restored_waiting_chat(store, directory)
    after = engine.interrupt(chat_id)
    assert after.status is ChatStatus.RUNNING  # the chat as the transition left it
    assert store.chat(chat_id).status is ChatStatus.WAITING
    (part,) = store.messages_of(chat_id)[-1].content["parts"]
    assert (part["tool_call_id"], part["result"], part["is_error"]) == (
        "call_client",
        {"error": "Tool execution interrupted by user"},
        True,
    )


# --- tools the chat declares the client runs (unsafe_dynamic_tools) -------------------------------


def test_a_scenario_tool_the_chat_declared_is_run_by_the_client() -> None:
    with current_mock() as mock:
        # When: the chat declares `list_files` as its own tool and runs the tool-use scenario
        chat = mock.create(
            "/tool-use please",
            unsafe_dynamic_tools=[{"name": "list_files", "input_schema": {"type": "object"}}],
        )
        mock.finish()
        # Then: the first step's call of list_files waits for the client, not the scenario's result
        assert mock.status(chat["id"]) == "requires_action"
        step = mock.transcript(chat["id"])[-1]
        assert [p["type"] for p in step["content"]] == ["reasoning", "tool-call"]
        call = step["content"][-1]
        body = {"results": [{"tool_call_id": call["tool_call_id"], "output": ["only.txt"]}]}
        assert _tool_results(mock, chat["id"], body).status_code == 204
        mock.finish()
        # and the rest of the scenario (read_file stays the server's) plays after the answer
        assert mock.status(chat["id"]) == "waiting"
        results = [m["content"][0] for m in mock.transcript(chat["id"]) if m["role"] == "tool"]
        assert [(r["tool_name"], r["result"]) for r in results] == [
            ("list_files", ["only.txt"]),
            ("read_file", {"error": "open main.go: permission denied"}),
        ]


@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        (
            [{"name": f"t{i}"} for i in range(251)],
            {"message": "Too many dynamic tools.", "detail": "Maximum 250 dynamic tools per chat."},
        ),
        ([{"name": "a"}, {"name": ""}], {"message": "Dynamic tool name must not be empty."}),
        ([None], {"message": "Dynamic tool name must not be empty."}),
        (
            [{"name": "a"}, {"name": "b"}, {"name": "a"}],
            {"message": "Duplicate dynamic tool name.", "detail": 'Tool "a" appears more than once.'},
        ),
    ],
)
def test_declared_tools_are_checked_as_post_chats_checks_them(tools: list[Any], expected: Any) -> None:
    with current_mock() as mock:
        response = mock.post(
            "/chats",
            {
                "organization_id": str(DEFAULT_ORGANIZATION_ID),
                "content": text("x"),
                "unsafe_dynamic_tools": tools,
            },
        )
        assert response.status_code == 400
        assert response.json() == expected
        assert mock.client.get("/api/v2/chats", headers=ALICE).json() == []


@pytest.mark.parametrize("ending", ["fail", "interrupt"])
def test_a_turn_that_ends_during_a_retry_leaves_no_retry_pending(tmp_path: Path, ending: str) -> None:
    (tmp_path / "gives-up.yaml").write_text(
        "match:\n  - regex: '^/gives-up'\n"
        "steps:\n"
        "  - retry: {message: busy, delay: 1}\n"
        "  - fail: {code: upstream_error, message: still busy, retryable: true}\n",
        encoding="utf-8",
    )
    scheduler = ManualScheduler()
    new_id = seeded_uuids(6)
    store = ChatStore(clock=SteppingClock(), new_id=new_id)
    library = ScenarioLibrary.builtin().with_directory(tmp_path)
    app = create_app(
        app_settings(api="current"),
        clock=SteppingClock(),
        new_id=new_id,
        scheduler=scheduler,
        store=store,
        library=library,
    )
    with TestClient(app) as client:
        mock = Current(client, scheduler)
        chat = mock.create("/gives-up")
        chat_id = UUID(chat["id"])
        scheduler.advance(0.5)
        assert store.stream_position(chat_id).retry is not None
        events: list[ChatEvent] = []
        store.subscribe(chat_id, events.append)
        if ending == "interrupt":
            assert mock.post(f"/chats/{chat['id']}/interrupt").status_code == 200
        mock.finish()
        assert mock.status(chat["id"]) == ("error" if ending == "fail" else "waiting")
        assert store.stream_position(chat_id).retry is None
        assert not [e for e in events if isinstance(e, RetryScheduled)]  # cleared silently


def test_promoting_a_queued_message_while_waiting_answers_the_call_with_an_error_and_runs_it() -> None:
    with current_mock() as mock:
        chat_id, call_id = _waiting_for_tool(mock)
        queued = mock.send(chat_id, "/echo instead").json()["queued_message"]
        # When: the queued message is promoted (A1 -> R0)
        response = mock.post(f"/chats/{chat_id}/queue/{queued['id']}/promote")
        assert response.status_code == 202, response.text
        # Then: the pending call is answered with an error, and the promoted message runs
        assert mock.status(chat_id) == "running"
        tool, user = mock.transcript(chat_id)[-2:]
        assert (tool["role"], tool["content"][0]["tool_call_id"], tool["content"][0]["is_error"]) == (
            "tool",
            call_id,
            True,
        )
        assert user["role"] == "user"
        mock.finish()
        assert mock.status(chat_id) == "waiting"
        assert _roles(mock.transcript(chat_id)) == ["user", "assistant", "tool", "user", "assistant"]
