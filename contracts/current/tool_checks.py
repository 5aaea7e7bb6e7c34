"""The client-tool path (WIRE.md §5 `POST /chats/{chat}/tool-results`, §6 `requires_action`, §7.1).

A chat that declares a tool in `unsafe_dynamic_tools` has that tool run by the client: when the
model calls it the chat waits in `requires_action`, its stream says so with `action_required`, and
`POST .../tool-results` resumes the run. The declared tool is the one the `tool-use` scenario's
first step calls (`list_files`); a server whose agent never calls it is not judged.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.checking import ScenarioContext
from contracts.current.session import create_chat, read_chat, settle, transcript
from contracts.current.stream_checks import connect
from contracts.current.stream_log import StreamLog, read_until, run_ended, status_of
from contracts.refusals import expect_error
from contracts.violations import ContractBroken

__all__ = ["client_tool_waits_for_its_result"]

RULE = "client_tool_waits_for_its_result"
# The tool the `tool-use` scenario calls first, declared as the client's.
DECLARED_TOOL = {
    "name": "list_files",
    "description": "Lists the files of a directory on the client's machine.",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}
# WIRE.md §5: the transition CompleteRequiresAction refused from any other valid state.
NOT_WAITING = "Chat is not waiting for tool results."


def _not_waiting_detail(status: str) -> str:
    return f'chat status is "{status}", expected "requires_action"'


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _action_index(log: StreamLog) -> int | None:
    return next((i for i, e in enumerate(log.events) if e.get("type") == "action_required"), None)


def _pending_calls(log: StreamLog, index: int) -> list[dict[str, Any]]:
    """The `action_required` event's tool calls, each `{tool_call_id, tool_name, args}` with `args` a JSON string."""
    event = log.events[index]
    statuses = [status_of(e) for e in log.events[:index] if e.get("type") == "status"]
    if not statuses or statuses[-1] != "requires_action":
        raise ContractBroken(
            "ActionRequiredWithoutStatus",
            f"`action_required` came after status {statuses[-1] if statuses else None!r}, not `requires_action`",
            evidence=log.rows(log.events[max(0, index - 6) : index + 1]),
        )
    body = event.get("action_required")
    calls = body.get("tool_calls") if isinstance(body, dict) else None
    if not isinstance(calls, list) or not calls:
        raise ContractBroken(
            "ActionRequiredWithoutCalls",
            f"`action_required` names no tool_calls: {json.dumps(event)[:300]}",
        )
    for call in calls:
        args = call.get("args") if isinstance(call, dict) else None
        valid = isinstance(args, str) and _is_json(args)
        if not (isinstance(call, dict) and isinstance(call.get("tool_call_id"), str) and valid):
            raise ContractBroken(
                "ToolCallMalformed",
                "each pending call is {tool_call_id, tool_name, args} with args a JSON string; got "
                + json.dumps(call)[:300],
            )
    return calls


def client_tool_waits_for_its_result(ctx: ScenarioContext) -> str | None:
    """A declared tool's call waits in `requires_action` for POST .../tool-results (204), then the run ends."""
    chat = create_chat(
        ctx,
        "a run that calls a tool the client declared",
        scenario="tool-use",
        unsafe_dynamic_tools=[DECLARED_TOOL],
    )["id"]
    with connect(ctx, chat) as socket:
        log = read_until(
            ctx,
            socket,
            chat,
            lambda log: _action_index(log) is not None or run_ended(log),
            what="status `requires_action` or the run's end",
            rule=RULE,
        )
        index = _action_index(log)
        if index is None:
            settle(ctx, chat)
            return (
                f"the run ended without calling the declared tool `{DECLARED_TOOL['name']}` "
                "(the agent ignored `scenario: tool-use`): requires_action was not exercised"
            )
        calls = _pending_calls(log, index)
        ids = [call["tool_call_id"] for call in calls]
        status = read_chat(ctx, chat).get("status")
        if status != "requires_action":
            raise ContractBroken(
                "NotRequiresAction", f"the stream sent action_required for {ids!r}; GET says {status!r}"
            )
        results = [
            {"tool_call_id": call_id, "output": {"files": ["README.md"]}, "is_error": False}
            for call_id in ids
        ]
        response = ctx.send("POST", f"/chats/{chat}/tool-results", json_body={"results": results})
        if response.status_code != 204:
            raise ContractBroken(
                "ToolResultsRefused",
                f"results for the pending calls {ids!r} answered {response.status_code}, not 204: "
                f"{response.text[:200]}",
            )
        resumed = len(log.events)
        read_until(
            ctx,
            socket,
            chat,
            lambda log: any(
                e.get("type") == "status" and status_of(e) in ("waiting", "error")
                for e in log.events[resumed:]
            ),
            log=log,
            what="the run's end after the tool results",
            rule=RULE,
        )
    ended = settle(ctx, chat)
    answered = {
        part.get("tool_call_id")
        for event in log.events[resumed:]
        if event.get("type") == "message" and isinstance(event.get("message"), dict)
        for message in (event["message"],)
        if message.get("role") == "tool"
        for part in message.get("content") or []
        if isinstance(part, dict) and part.get("type") == "tool-result"
    }
    if not set(ids) <= answered:
        raise ContractBroken(
            "ToolResultNotStreamed",
            f"after the 204 the stream sent tool results for {sorted(map(str, answered))!r}, not all of {ids!r}",
            evidence=log.rows(log.events[resumed:]),
        )
    stored = {
        part.get("tool_call_id")
        for row in transcript(ctx, chat)
        if row.get("role") == "tool"
        for part in row.get("content") or []
        if isinstance(part, dict)
    }
    if not set(ids) <= stored:
        raise ContractBroken(
            "ToolResultNotStored", f"the transcript holds no tool result for some of {ids!r}"
        )
    if ended.get("status") != "waiting":
        return f"the resumed run ended {ended.get('status')!r}: the refusal of a second submission was not judged"
    again = ctx.send("POST", f"/chats/{chat}/tool-results", json_body={"results": results})
    expect_error(
        again, 409, NOT_WAITING, kind="ToolResultsAcceptedTwice", detail=_not_waiting_detail("waiting")
    )
    return None
