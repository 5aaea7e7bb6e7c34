"""Today's API: each built-in scenario's turn as the changes a chat's stream is made of.

The store tells a chat's listeners every change (core/changes.py); the stream and the watch
turn those into events. Here a listener records each change with the virtual second it happened
at, so the order and the timing of a scenario's chunks, delays, tool calls, failures, retries
and requires_action are pinned down without a WebSocket.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from mockserver import ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.changes import ChatChanged, ChatEvent, PreviewReset, QueueChanged, RetryScheduled
from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from mockserver.core.models import ChatMessage, LivePart
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.store import ChatStore
from tests.app_settings import app_settings
from tests.current_support import ALICE, text


@dataclass
class Recorder:
    """A chat's changes as `(virtual second, what)`, `what` short enough to compare at a glance."""

    scheduler: ManualScheduler
    seen: list[tuple[float, str]] = field(default_factory=list)

    def __call__(self, event: ChatEvent) -> None:
        what = _describe(event)
        if what:
            self.seen.append((round(self.scheduler.now, 3), what))


def _describe(event: ChatEvent) -> str:
    match event:
        case LivePart(part=part):
            return f"part {part['type']} {part['text']!r}"
        case ChatMessage(role=role, content=content):
            kinds = ",".join(p["type"] for p in content["parts"])
            return f"message {role.value} [{kinds}]"
        case ChatChanged(chat=chat, previous=previous) if previous is not None:
            return f"status {chat.status.value}" if chat.status is not previous.status else ""
        case RetryScheduled(retry=retry):
            return f"retry {retry['attempt']} {retry['delay_ms']}ms"
        case PreviewReset(generation_attempt=attempt):
            return f"reset {attempt}"
        case QueueChanged(queue=queue):
            return f"queue {len(queue)}"
    return ""


@contextmanager
def _recorded(message: str) -> Iterator[tuple[TestClient, Recorder, UUID]]:
    """A current-API mock with a chat just created for `message`, its changes recorded from then on."""
    scheduler = ManualScheduler()
    new_id = seeded_uuids(11)
    store = ChatStore(clock=SteppingClock(), new_id=new_id)
    app = create_app(
        app_settings(api="current", validate_responses=True),
        clock=SteppingClock(),
        new_id=new_id,
        scheduler=scheduler,
        store=store,
    )
    recorder = Recorder(scheduler)
    with TestClient(app) as client:
        response = client.post(
            "/api/v2/chats",
            headers=ALICE,
            json={"organization_id": str(DEFAULT_ORGANIZATION_ID), "content": text(message)},
        )
        assert response.status_code == 201, response.text
        chat_id = UUID(response.json()["id"])
        store.subscribe(chat_id, recorder)
        yield client, recorder, chat_id


EXPECTED: dict[str, list[tuple[float, str]]] = {
    "echo": [
        (0.0, "part text 'You said: /echo now'"),
        (0.0, "message assistant [text]"),
        (0.0, "status waiting"),
    ],
    "tool-use": [
        (0.3, "part reasoning 'I should look at the workspace before answering.'"),
        (0.3, "message assistant [reasoning,tool-call]"),
        (0.7, "message tool [tool-result]"),
        (1.0, "message assistant [tool-call]"),
        (1.2, "message tool [tool-result]"),
        (1.5, "part text 'The workspace has three files. '"),
        (1.6, "part text 'I could not read main.go: '"),
        (1.7, "part text 'permission denied.'"),
        (1.7, "message assistant [text]"),
        (1.7, "status waiting"),
    ],
    "upstream-error": [
        (0.5, "status error"),
    ],
    "retry": [
        (0.2, "retry 1 1000ms"),
        (1.2, "reset 1"),
        (1.2, "retry 2 2000ms"),
        (3.2, "reset 2"),
        (3.3, "part text 'Sorry for the wait: '"),
        (3.4, "part text 'the provider was busy. '"),
        (3.5, "part text 'Here is your answer.'"),
        (3.5, "message assistant [text]"),
        (3.5, "status waiting"),
    ],
    "client-tool": [
        (0.2, "part text 'Let me look that up on your machine.'"),
        (0.2, "message assistant [text,tool-call]"),
        (0.2, "status requires_action"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_scenarios_turn_changes_the_chat_in_order_on_the_virtual_clock(name: str) -> None:
    with _recorded(f"/{name} now") as (_, recorder, _chat):
        # When: time runs until nothing is left on the clock
        recorder.scheduler.run_until_idle()
    # Then
    assert recorder.seen == EXPECTED[name]


def test_the_scenarios_time_is_when_its_turn_ends() -> None:
    library = ScenarioLibrary.builtin()
    for name in ("tool-use", "retry", "slow", "reasoning", "length"):
        with _recorded(f"/{name} now") as (_, recorder, _chat):
            recorder.scheduler.run_until_idle()
        assert recorder.seen[-1] == (library[name].duration, "status waiting"), name


def test_a_client_tool_turn_goes_on_from_where_it_paused_once_answered() -> None:
    with _recorded("/client-tool now") as (client, recorder, chat_id):
        recorder.scheduler.run_until_idle()
        call = client.get(f"/api/v2/chats/{chat_id}/messages", headers=ALICE).json()["messages"][0]
        call_id = call["content"][-1]["tool_call_id"]
        recorder.seen.clear()
        # When: the answer comes 10 virtual seconds after the pause (at 0.2 s)
        recorder.scheduler.advance(10)
        response = client.post(
            f"/api/v2/chats/{chat_id}/tool-results",
            headers=ALICE,
            json={"results": [{"tool_call_id": call_id, "output": {"ok": True}}]},
        )
        assert response.status_code == 204
        recorder.scheduler.run_until_idle()
    # Then: the scenario's later steps keep their own delays, counted from the answer
    assert recorder.seen == [
        (10.2, "message tool [tool-result]"),
        (10.2, "status running"),
        (10.5, "part text 'Thanks. '"),
        (10.6, "part text 'With what your tool sent back, '"),
        (10.7, "part text 'here is the answer.'"),
        (10.7, "message assistant [text]"),
        (10.7, "status waiting"),
    ]


def test_a_fail_step_with_a_kind_and_status_code_is_the_chats_last_error_in_chaterror_order(
    tmp_path: Path,
) -> None:
    (tmp_path / "limited.yaml").write_text(
        "match:\n  - regex: '^/limited'\n"
        "steps:\n"
        "  - delay: 0.1\n"
        "  - fail: {code: upstream_error, message: 'slow down: {text}', retryable: true,"
        " kind: rate_limit, status_code: 429}\n",
        encoding="utf-8",
    )
    scheduler = ManualScheduler()
    library = ScenarioLibrary.builtin().with_directory(tmp_path)
    app = create_app(
        app_settings(api="current", validate_responses=True),
        clock=SteppingClock(),
        new_id=seeded_uuids(2),
        scheduler=scheduler,
        library=library,
    )
    with TestClient(app) as client:
        created = client.post(
            "/api/v2/chats",
            headers=ALICE,
            json={"organization_id": str(DEFAULT_ORGANIZATION_ID), "content": text("/limited x")},
        )
        scheduler.run_until_idle()
        chat = client.get(f"/api/v2/chats/{created.json()['id']}", headers=ALICE).json()
    assert chat["status"] == "error"
    assert list(chat["last_error"].items()) == [
        ("message", "slow down: /limited x"),
        ("kind", "rate_limit"),
        ("provider", "anthropic"),
        ("retryable", True),
        ("status_code", 429),
    ]
