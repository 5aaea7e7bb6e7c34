"""Today's WebSockets' contract: openapi/current/chats.asyncapi.yaml parses, and frames fit it.

The document is parsed by @asyncapi/parser (tools/npm/asyncapi-check.mjs, OpenAPI 3.0 schemas
through @asyncapi/openapi-schema-parser), which prints each message's payload schema as it
resolved it from chats.yaml. One reference it leaves as it was: `codersdk.Chat` holds its
`children`, and the parser keeps that recursive `$ref` (to chats.yaml's components) instead of
unrolling it; the validators here resolve it to chats.yaml's schema, read as JSON Schema.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import coder_chats_openapi
import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker

from tests.current_support import ALICE, Current, current_mock, text
from tests.npm_tools import ROOT, TOOLS, NpmTools

ASYNCAPI = ROOT / "openapi" / "current" / "chats.asyncapi.yaml"
OPENAPI = ROOT / "openapi" / "current" / "chats.yaml"
CHAT_ID = "efc9fe20-a1e5-4a8c-9c48-f1b30c1e4f86"
Json = Any


def as_json_schema(schema: Json) -> Json:
    """An OpenAPI 3.0 schema read as JSON Schema: `nullable: true` also admits `null`."""
    if isinstance(schema, list):
        return [as_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: as_json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") is True and "type" in schema:
        converted["type"] = [schema["type"], "null"]
        if "enum" in schema and None not in schema["enum"]:
            converted["enum"] = [*schema["enum"], None]
    return converted


def _with_recursive_targets(schema: Json, openapi: Json) -> Json:
    """`schema` with chats.yaml's component schemas beside it, for the `$ref`s the parser kept."""
    if '"#/components/schemas/' not in json.dumps(schema):
        return schema
    return {**schema, "components": {"schemas": as_json_schema(openapi["components"]["schemas"])}}


@pytest.fixture(scope="module")
def parsed(npm_tools: NpmTools) -> dict[str, Any]:
    """What the AsyncAPI parser says of the document, and its resolved message payloads."""
    done = npm_tools.run([npm_tools.node, str(TOOLS / "asyncapi-check.mjs"), str(ASYNCAPI)])
    assert done.returncode == 0, f"the AsyncAPI parser refused the document:\n{done.stdout}{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(scope="module")
def validators(parsed: dict[str, Any]) -> dict[str, Draft7Validator]:
    """A validator per message of the document, over the payload schema the parser resolved."""
    openapi = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    checkers: dict[str, Draft7Validator] = {}
    for name, payload in parsed["payloads"].items():
        schema = _with_recursive_targets(payload["schema"] if "schemaFormat" in payload else payload, openapi)
        Draft7Validator.check_schema(schema)
        checkers[name] = Draft7Validator(schema, format_checker=FormatChecker())
    return checkers


def fitting(validators: dict[str, Draft7Validator], frame: Json) -> list[str]:
    """The messages of the document `frame` fits."""
    return sorted(name for name, validator in validators.items() if validator.is_valid(frame))


def _part(kind: str, **fields: Any) -> dict[str, Any]:
    """A ChatMessagePart as Go sends it: the fields without `omitempty` are always there."""
    return {
        "type": kind,
        "text": "",
        "mcp_server_config_id": None,
        "url": "",
        "media_type": "",
        "file_id": None,
        "file_name": "",
        "start_line": 0,
        "end_line": 0,
        "content": "",
        "context_file_path": "",
        "context_file_agent_id": None,
        "skill_name": "",
        **fields,
    }


def _chat(**fields: Any) -> dict[str, Any]:
    """A codersdk.Chat as Go sends it, with one (childless) child."""
    chat = {
        "id": CHAT_ID,
        "organization_id": "7c60d51f-b44e-4682-87d6-449835ea4de6",
        "owner_id": "2a1c7a0e-8d3b-4c1e-9f6a-2b7d4e8c9a10",
        "last_model_config_id": "9b1c7a0e-8d3b-4c1e-9f6a-2b7d4e8c9a10",
        "title": "Look around the workspace",
        "status": "running",
        "last_turn_summary": None,
        "summary": None,
        "created_at": "2026-12-03T07:00:00.000000Z",
        "updated_at": "2026-12-03T07:00:01.000000Z",
        "archived": False,
        "shared": False,
        "pin_order": 0,
        "mcp_server_ids": [],
        "labels": {},
        "has_unread": False,
        "client_type": "api",
        "children": [],
        **fields,
    }
    return {**chat, "children": [{**chat, "id": "0c1c7a0e-8d3b-4c1e-9f6a-2b7d4e8c9a10"}]}


def _event(kind: str, **payload: Any) -> dict[str, Any]:
    return {"type": kind, "chat_id": CHAT_ID, **payload}


MESSAGE = {
    "id": 3,
    "chat_id": CHAT_ID,
    "created_at": "2026-12-03T07:00:01.000000Z",
    "role": "assistant",
    "content": [_part("text", text="The workspace has three files.")],
    "usage": {"input_tokens": 812, "output_tokens": 24},
}
QUEUED = {
    "id": 1,
    "chat_id": CHAT_ID,
    "content": [_part("text", text="and then?")],
    "created_at": MESSAGE["created_at"],
}
# One event of each kind, shaped as codersdk.ChatStreamEvent marshals it.
EVENTS = {
    "message_part": _event(
        "message_part", message_part={"role": "assistant", "part": _part("text", text="The "), "seq": 1}
    ),
    "message": _event("message", message=MESSAGE),
    "status": _event("status", status={"status": "waiting"}),
    "error": _event(
        "error",
        error={"message": "The model provider is overloaded.", "kind": "overloaded", "retryable": True},
    ),
    "queue_update": _event("queue_update", queued_messages=[QUEUED]),
    "queue_update (now empty)": _event("queue_update"),
    "retry": _event(
        "retry",
        retry={
            "attempt": 1,
            "delay_ms": 1000,
            "error": "rate limited",
            "kind": "rate_limit",
            "retrying_at": "2026-12-03T07:00:02Z",
        },
    ),
    "action_required": _event(
        "action_required",
        action_required={
            "tool_calls": [{"tool_call_id": "toolu_01", "tool_name": "read_file", "args": '{"path":"a"}'}]
        },
    ),
    "preview_reset": _event("preview_reset"),
    "history_reset": _event("history_reset"),
}


def test_the_current_asyncapi_document_parses_without_errors_or_warnings(parsed: dict[str, Any]) -> None:
    serious = [d for d in parsed["diagnostics"] if d["severity"] in ("error", "warning")]
    assert serious == []
    assert sorted(parsed["payloads"]) == ["streamFrame", "watchEvent"]


def test_the_current_asyncapi_document_takes_its_frames_from_the_openapi_document_by_ref() -> None:
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    payloads = {name: message["payload"] for name, message in document["components"]["messages"].items()}
    assert {name: payload["schema"] for name, payload in payloads.items()} == {
        "streamFrame": {"$ref": "./chats.yaml#/components/schemas/codersdk.ChatStreamFrame"},
        "watchEvent": {"$ref": "./chats.yaml#/components/schemas/codersdk.ChatWatchEvent"},
    }
    assert {payload["schemaFormat"] for payload in payloads.values()} == {
        "application/vnd.oai.openapi;version=3.0.0"
    }
    assert "schemas" not in document["components"]  # nothing of chats.yaml copied here
    assert {channel["address"] for channel in document["channels"].values()} == {
        "/chats/{chat}/stream",
        "/chats/watch",
    }
    stream_query = document["channels"]["chatStream"]["bindings"]["ws"]["query"]["properties"]
    assert stream_query["after_id"]["format"] == "int64"
    # and it is package data, beside the document it refers to
    packaged = coder_chats_openapi.current_asyncapi_document()
    assert packaged.read_text(encoding="utf-8") == ASYNCAPI.read_text(encoding="utf-8")
    assert coder_chats_openapi.current_document().is_file()


def test_a_frame_of_every_stream_event_kind_fits_the_stream_frame(
    validators: dict[str, Draft7Validator],
) -> None:
    # Each kind alone, then all of them in one batch (a frame carries up to 256 events)
    for kind, event in EVENTS.items():
        assert fitting(validators, [event]) == ["streamFrame"], kind
    assert fitting(validators, list(EVENTS.values())) == ["streamFrame"]


def test_watch_events_with_a_chat_and_its_children_fit_the_watch_event(
    validators: dict[str, Draft7Validator],
) -> None:
    assert fitting(validators, {"kind": "created", "chat": _chat()}) == ["watchEvent"]
    assert fitting(validators, {"kind": "deleted", "chat": _chat(archived=True, status="waiting")}) == [
        "watchEvent"
    ]
    required = {
        "kind": "action_required",
        "chat": _chat(status="requires_action"),
        "tool_calls": [{"tool_call_id": "toolu_01", "tool_name": "read_file", "args": "{}"}],
    }
    assert fitting(validators, required) == ["watchEvent"]


def test_frames_off_the_document_fit_no_message(validators: dict[str, Draft7Validator]) -> None:
    child_without_children = _chat()
    del child_without_children["children"][0]["children"]
    cases: dict[str, Json] = {
        "an event, not an array of events": EVENTS["status"],
        "an empty frame": [],
        "257 events in one frame": [EVENTS["preview_reset"]] * 257,
        "unknown event type": [_event("typing")],
        "message_part without its payload": [_event("message_part")],
        "status event carrying a message": [_event("status", message=MESSAGE)],
        "unknown status": [_event("status", status={"status": "done"})],
        "chat_id not a uuid": [{**EVENTS["status"], "chat_id": "chat-1"}],
        "retry without retrying_at": [_event("retry", retry={"attempt": 1, "delay_ms": 1, "error": "x"})],
        "tool call args as an object": [
            _event(
                "action_required",
                action_required={"tool_calls": [{"tool_call_id": "a", "tool_name": "b", "args": {}}]},
            )
        ],
        "message id as a string": [_event("message", message={**MESSAGE, "id": "3"})],
        "part without Go's always-sent fields": [
            _event("message_part", message_part={"part": {"type": "text", "text": "x"}})
        ],
        "watch: unknown kind": {"kind": "updated", "chat": _chat()},
        "watch: no chat": {"kind": "created"},
        "watch: a child chat without children": {"kind": "created", "chat": child_without_children},
    }
    fits = {case: fitting(validators, copy.deepcopy(frame)) for case, frame in cases.items()}
    assert {case: names for case, names in fits.items() if names} == {}


# --- what the mock sends ------------------------------------------------------------------------


class Frames:
    """Every text frame one WebSocket of the mock sent, parsed, read until a condition holds."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.raw: list[str] = []
        self.values: list[Json] = []

    def read(self) -> Json:
        raw = self.ws.receive_text()
        self.raw.append(raw)
        self.values.append(json.loads(raw))
        return self.values[-1]

    def events(self) -> list[dict[str, Any]]:
        """The stream events of every frame read, in order (stream frames are arrays)."""
        return [event for frame in self.values for event in frame]

    def until_status(self, *statuses: str, after: int = 0) -> list[dict[str, Any]]:
        """Read until a `status` event with one of `statuses` past the first `after` events."""
        while not any(
            e["type"] == "status" and e["status"]["status"] in statuses for e in self.events()[after:]
        ):
            self.read()
        return self.events()


def _stream(mock: Current, chat: str) -> Any:
    return mock.client.websocket_connect(f"/api/v2/chats/{chat}/stream", headers=dict(ALICE))


def test_every_frame_of_a_tool_use_run_fits_the_stream_frame_and_carries_the_whole_run(
    validators: dict[str, Draft7Validator],
) -> None:
    # When: a stream follows a chat while a tool-use run plays
    with current_mock() as mock:
        chat = mock.create("/tool-use What is in the workspace?")["id"]
        with _stream(mock, chat) as ws:
            frames = Frames(ws)
            frames.read()  # the snapshot
            mock.finish()
            events = frames.until_status("waiting", after=len(frames.events()))
        stored = mock.transcript(chat)
    # Then: every frame is a newline-ended JSON array that fits the document's stream frame
    assert [raw for raw in frames.raw if not raw.endswith("]\n")] == []
    assert [frame for frame in frames.values if fitting(validators, frame) != ["streamFrame"]] == []
    # and the frames are the whole run: each stored message once, in id order, and its parts
    messages = [e["message"] for e in events if e["type"] == "message"]
    assert messages == stored
    assert {
        part["part"]["type"] for part in (e["message_part"] for e in events if e["type"] == "message_part")
    } >= {
        "reasoning",
        "text",
    }
    assert {"tool-call", "tool-result"} <= {part["type"] for m in stored for part in m.get("content", [])}


def test_frames_of_a_queued_message_a_failed_run_and_an_edit_fit_the_stream_frame(
    validators: dict[str, Draft7Validator],
) -> None:
    with current_mock() as mock:
        chat = mock.create("/tool-use look")["id"]
        with _stream(mock, chat) as ws:
            frames = Frames(ws)
            frames.read()
            # When: a message is queued behind the run, which then fails on its turn
            assert mock.send(chat, "/upstream-error and now?").json()["queued"] is True
            mock.finish()
            frames.until_status("error", after=len(frames.events()))
            # and a user message is edited (the history is rewritten) and runs again
            first_user = next(m for m in mock.transcript(chat) if m["role"] == "user")
            edited = mock.client.patch(
                f"/api/v2/chats/{chat}/messages/{first_user['id']}",
                headers=ALICE,
                json={"content": text("again")},
            )
            assert edited.status_code == 200, edited.text
            mock.finish()
            events = frames.until_status("waiting", after=len(frames.events()))
    assert [frame for frame in frames.values if fitting(validators, frame) != ["streamFrame"]] == []
    assert {e["type"] for e in events} >= {
        "message",
        "message_part",
        "status",
        "queue_update",
        "error",
        "preview_reset",
        "history_reset",
    }


def test_every_frame_of_the_chat_watcher_fits_the_watch_event(validators: dict[str, Draft7Validator]) -> None:
    with (
        current_mock() as mock,
        mock.client.websocket_connect("/api/v2/chats/watch", headers=dict(ALICE)) as ws,
    ):
        frames = Frames(ws)
        # When: a chat is created, runs, is renamed and archived
        chat = mock.create("/tool-use look")["id"]
        mock.finish()
        assert mock.patch(chat, title="Renamed").status_code == 204
        assert mock.patch(chat, archived=True).status_code == 204
        while not any(frame["kind"] == "deleted" for frame in frames.values):
            frames.read()
    assert [raw for raw in frames.raw if not raw.endswith("}\n")] == []
    assert [frame for frame in frames.values if fitting(validators, frame) != ["watchEvent"]] == []
    assert {frame["kind"] for frame in frames.values} >= {
        "created",
        "status_change",
        "title_change",
        "deleted",
    }


def test_frames_of_a_client_tool_turn_and_of_retries_fit_the_stream_frame(
    validators: dict[str, Draft7Validator],
) -> None:
    with current_mock() as mock:
        # When: a turn waits for the client's tool result, which the client then posts
        chat = mock.create("/client-tool Paris")["id"]
        with _stream(mock, chat) as ws:
            frames = Frames(ws)
            frames.read()
            mock.finish()
            while not any(e["type"] == "action_required" for e in frames.events()):
                frames.read()
            (call,) = next(e for e in frames.events() if e["type"] == "action_required")["action_required"][
                "tool_calls"
            ]
            answered = mock.post(
                f"/chats/{chat}/tool-results",
                {"results": [{"tool_call_id": call["tool_call_id"], "output": {"temp_c": 18}}]},
            )
            assert answered.status_code == 204, answered.text
            mock.finish()
            client_tool = frames.until_status("waiting", after=len(frames.events()))
        # and a run whose model call fails twice and is retried
        retried = mock.create("/retry please")["id"]
        with _stream(mock, retried) as ws:
            retry_frames = Frames(ws)
            retry_frames.read()
            mock.finish()
            retries = retry_frames.until_status("waiting", after=len(retry_frames.events()))
    every = [*frames.values, *retry_frames.values]
    assert [frame for frame in every if fitting(validators, frame) != ["streamFrame"]] == []
    assert "action_required" in {e["type"] for e in client_tool}
    assert [e["retry"]["attempt"] for e in retries if e["type"] == "retry"] == [1, 2]


def test_the_watchers_action_required_fits_the_watch_event(validators: dict[str, Draft7Validator]) -> None:
    with (
        current_mock() as mock,
        mock.client.websocket_connect("/api/v2/chats/watch", headers=dict(ALICE)) as ws,
    ):
        frames = Frames(ws)
        mock.create("/client-tool Paris")
        mock.finish()
        while not any(frame["kind"] == "action_required" for frame in frames.values):
            frames.read()
    assert [frame for frame in frames.values if fitting(validators, frame) != ["watchEvent"]] == []
    required = next(frame for frame in frames.values if frame["kind"] == "action_required")
    assert [call["tool_name"] for call in required["tool_calls"]] == ["get_weather"]
