"""The watch WebSocket's contract: openapi/chats.asyncapi.yaml parses, and the mock's frames fit it.

The document is parsed by @asyncapi/parser (tools/npm/asyncapi-check.mjs, OpenAPI 3.0 schemas
through @asyncapi/openapi-schema-parser), which prints each message's payload schema as it
resolved it, chats.yaml's ChatMessage included; the frames are validated against those.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import coder_chats_openapi
import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker

from mockserver.core.scheduler import ManualScheduler
from tests.agent_support import ALICE, mock_client, new_chat, post, shape, transcript
from tests.npm_tools import ROOT, TOOLS, NpmTools

ASYNCAPI = ROOT / "openapi" / "chats.asyncapi.yaml"
# The live partials of a `tool-use` run: its reasoning (one chunk) and its answer (three chunks).
TOOL_USE_PARTIALS = 4
Frame = dict[str, Any]


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
    checkers: dict[str, Draft7Validator] = {}
    for name, payload in parsed["payloads"].items():
        schema = payload["schema"] if "schemaFormat" in payload else payload
        Draft7Validator.check_schema(schema)
        checkers[name] = Draft7Validator(schema, format_checker=FormatChecker())
    return checkers


def _messages_fitting(validators: dict[str, Draft7Validator], frame: Frame) -> list[str]:
    return sorted(name for name, validator in validators.items() if validator.is_valid(frame))


def _tool_use_frames() -> tuple[list[Frame], list[dict[str, Any]]]:
    """Every frame a watcher (after_id=0) gets while a `tool-use` run plays, and the transcript."""
    scheduler = ManualScheduler()
    with mock_client(scheduler) as client:
        chat = new_chat(client, {"scenario": "tool-use"})
        with client.websocket_connect(f"/api/v2/chats/{chat}/messages/watch-ws", headers=dict(ALICE)) as ws:
            post(client, chat, "What is in the workspace?")
            scheduler.run_until_idle()
            rows = transcript(client, chat)
            frames = [json.loads(ws.receive_text()) for _ in range(len(rows) + TOOL_USE_PARTIALS)]
    return frames, rows


def test_the_asyncapi_document_parses_without_errors_or_warnings(parsed: dict[str, Any]) -> None:
    serious = [d for d in parsed["diagnostics"] if d["severity"] in ("error", "warning")]
    assert serious == []
    assert sorted(parsed["payloads"]) == ["livePart", "storedRow"]


def test_the_asyncapi_document_takes_the_row_schema_from_the_openapi_document_by_ref() -> None:
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    stored = document["components"]["messages"]["storedRow"]["payload"]
    assert stored["schemaFormat"] == "application/vnd.oai.openapi;version=3.0.0"
    assert stored["schema"]["properties"]["data"] == {
        "$ref": "./chats.yaml#/components/schemas/codersdk.ChatMessage"
    }
    assert "schemas" not in document["components"]  # nothing of chats.yaml copied here
    # and it is package data, as is the document it refers to
    packaged = coder_chats_openapi.asyncapi_document()
    assert packaged.read_text(encoding="utf-8") == ASYNCAPI.read_text(encoding="utf-8")
    assert coder_chats_openapi.document().is_file()


def test_every_frame_of_a_tool_use_run_fits_one_message_of_the_asyncapi_document(
    validators: dict[str, Draft7Validator],
) -> None:
    # When: a watcher follows a chat while a tool-use run plays
    frames, rows = _tool_use_frames()
    # Then: each frame fits exactly its message: a stored row, or a live partial
    fits = [(_messages_fitting(validators, frame), frame) for frame in frames]
    assert [frame for names, frame in fits if len(names) != 1] == []
    stored = [frame["data"] for names, frame in fits if names == ["storedRow"]]
    partials = [frame["data"] for names, frame in fits if names == ["livePart"]]
    # and the frames are the whole run: every row once, in id order, and its streamed chunks
    assert stored == rows
    assert {shape(row) for row in rows} == {
        "system:system_prompt",
        "user:message",
        "system:stream_event:run_started",
        "tool_call:tool_call",
        "tool_result:tool_result",
        "assistant:message",
        "system:stream_event:usage",
        "system:stream_event:run_finished",
    }
    assert [p["type_id"] for p in partials] == ["g", "0", "0", "0"]


def test_frames_off_the_document_fit_no_message(validators: dict[str, Draft7Validator]) -> None:
    frames, _ = _tool_use_frames()
    row = next(f for f in frames if "id" in f["data"] and f["data"]["role"] == "tool_call")
    part = next(f for f in frames if "type_id" in f["data"])
    run_finished = next(f for f in frames if f["data"].get("content", {}).get("event") == "run_finished")

    def broken(frame: Frame, path: tuple[str, ...], value: Any) -> Frame:
        changed = copy.deepcopy(frame)
        target = changed
        for key in path[:-1]:
            target = target[key]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return changed

    cases = {
        "not a data frame": broken(row, ("type",), "error"),
        "unknown role": broken(row, ("data", "role"), "robot"),
        "unknown envelope": broken(row, ("data", "content", "type"), "tool_use"),
        "tool call without args": broken(row, ("data", "content", "args"), None),
        "id as a string": broken(row, ("data", "id"), "7"),
        "run_finished without finish_reason": broken(
            run_finished, ("data", "content", "finish_reason"), None
        ),
        "partial without run_id": broken(part, ("data", "run_id"), None),
        "partial run_id not a uuid": broken(part, ("data", "run_id"), "run-1"),
    }
    fitting = {case: _messages_fitting(validators, frame) for case, frame in cases.items()}
    assert {case: names for case, names in fitting.items() if names} == {}
