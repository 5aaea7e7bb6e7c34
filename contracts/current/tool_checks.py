"""The client-tool path (WIRE.md §5 `POST /chats/{chat}/tool-results`, §6 `requires_action`, §7.1).

A chat that declares a tool in `unsafe_dynamic_tools` has that tool run by the client: when the
model calls it the chat waits in `requires_action`, its stream says so with `action_required`, and
`POST .../tool-results` resumes the run. The declared tool is the one the `tool-use` scenario's
first step calls (`list_files`); a server whose agent never calls it is not judged.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any

from contracts.checking import ScenarioContext
from contracts.current.facts import IDLE_STATUSES
from contracts.current.session import create_chat, fits, read_chat, settle, transcript
from contracts.current.stream_checks import connect
from contracts.current.stream_log import StreamLog, read_until, run_ended, status_of
from contracts.current.stream_socket import StreamRefused, StreamSocket
from contracts.current.watch_checks import watch
from contracts.refusals import expect_error
from contracts.violations import ContractBroken

__all__ = ["client_tool_waits_for_its_result", "watch_tells_action_required"]

RULE = "client_tool_waits_for_its_result"
WATCH_RULE = "watch_tells_action_required"
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


def _watch_until_action(ctx: ScenarioContext, socket: StreamSocket, chat: str) -> dict[str, Any] | None:
    """The watcher's `action_required` of `chat`; None when a `status_change` says its run ended first."""
    deadline = ctx.clock() + ctx.agent_timeout
    seen: list[str] = []
    while True:
        frame = socket.receive(ctx.read_slice)
        if frame is not None and frame.text is None:
            raise ContractBroken(
                "WatchClosed", f"the watcher closed ({frame.close_code}) before {chat} waited"
            )
        if frame is not None:
            event = frame.value
            if not isinstance(event, dict) or not isinstance(event.get("chat"), dict):
                continue  # the frame grammar is watch_reports_the_callers_chats's
            ctx.tally.add("watch_events_read")
            fits(ctx, "codersdk.ChatWatchEvent", event, f"GET /chats/watch ({event.get('kind')})")
            if event["chat"].get("id") != chat:
                continue
            seen.append(f"{event.get('kind')} {event['chat'].get('status')}")
            if event.get("kind") == "action_required":
                return event
            if event.get("kind") == "status_change" and event["chat"].get("status") in IDLE_STATUSES:
                if "status_change requires_action" in seen:
                    raise ContractBroken(
                        "ActionRequiredNotWatched",
                        "the chat went requires_action and ended with no `action_required` watch event",
                        evidence=seen[-12:],
                    )
                return None
            continue
        if ctx.clock() >= deadline:
            raise ContractBroken(
                "ActionRequiredNotWatched",
                f"no `action_required` of chat {chat} within {ctx.agent_timeout:g} s (--expect-agent); "
                f"GET says {read_chat(ctx, chat).get('status')!r}",
                evidence=seen[-12:],
            )
        read_chat(ctx, chat)  # a poll meanwhile (and what moves a virtual clock)
        ctx.sleep(ctx.poll_every)


def _pending_in_transcript(ctx: ScenarioContext, chat: str) -> list[Any]:
    """The declared tool's calls of the last assistant message, in order."""
    assistant = [row for row in transcript(ctx, chat) if row.get("role") == "assistant"]
    parts = assistant[-1].get("content") or [] if assistant else []
    return [
        part.get("tool_call_id")
        for part in parts
        if isinstance(part, dict)
        and part.get("type") == "tool-call"
        and part.get("tool_name") == DECLARED_TOOL["name"]
    ]


def watch_tells_action_required(ctx: ScenarioContext) -> str | None:
    """The watcher tells a run that waits for the client: `action_required` with the pending `tool_calls`."""
    with ExitStack() as stack:
        try:
            socket = stack.enter_context(watch(ctx, ctx.token))
        except StreamRefused as refused:
            raise ContractBroken("WatchRefused", f"the watcher was refused: {refused}") from None
        chat = create_chat(
            ctx,
            "a watched run that calls a tool the client declared",
            scenario="tool-use",
            unsafe_dynamic_tools=[DECLARED_TOOL],
        )["id"]
        event = _watch_until_action(ctx, socket, chat)
    if event is None:
        settle(ctx, chat)
        return (
            f"the run ended without calling the declared tool `{DECLARED_TOOL['name']}` "
            "(the agent ignored `scenario: tool-use`): the watcher's action_required was not exercised"
        )
    calls = event.get("tool_calls")
    pending = _pending_in_transcript(ctx, chat)
    told = (
        [call.get("tool_call_id") for call in calls if isinstance(call, dict)]
        if isinstance(calls, list)
        else []
    )
    results = [{"tool_call_id": i, "output": {"files": []}, "is_error": False} for i in pending]
    if results:  # let the run end whatever the verdict
        ctx.send("POST", f"/chats/{chat}/tool-results", json_body={"results": results})
    settle(ctx, chat)
    if not told or sorted(map(str, told)) != sorted(map(str, pending)):
        raise ContractBroken(
            "ActionRequiredWithoutCalls",
            f"the watcher's action_required names tool_calls {told!r}; the pending calls are {pending!r}",
            evidence=[json.dumps(event)[:300]],
        )
    if not all(
        isinstance(call, dict) and isinstance(call.get("args"), str) and _is_json(call["args"])
        for call in calls or []
    ):
        raise ContractBroken("ToolCallMalformed", f"a watched tool call's args is no JSON string: {calls!r}")
    return None
