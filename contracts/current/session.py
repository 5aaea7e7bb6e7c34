"""What the checks of today's API do again and again: create a chat, send, wait for a run, read pages.

Every chat verify creates carries the label `verify:<run-id>`, so that listings can be limited
to verify's own chats on a server that holds others.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx

from contracts.checking import ScenarioContext, expect_status, json_object, snippet
from contracts.current.facts import IDLE_STATUSES, SCENARIO_LABEL
from contracts.current.shapes import RULE as SHAPES_RULE
from contracts.violations import ContractBroken, Violation

__all__ = [
    "create_chat",
    "fits",
    "label_of",
    "list_chats",
    "organization",
    "page",
    "read_chat",
    "send",
    "settle",
    "text",
    "transcript",
    "unique_value",
    "user_texts",
]

Judged = TypeVar("Judged")
# The organization Coder creates first, and the mock's only one (WIRE.md §5, models route).
DEFAULT_ORGANIZATION_NAME = "coder"


def text(value: str) -> list[dict[str, str]]:
    """A `content` of one text part."""
    return [{"type": "text", "text": value}]


def unique_value() -> str:
    """A label value no other verify run used: the one thing --seed does not fix, so that two runs
    against one server never list each other's chats."""
    return uuid.uuid4().hex[:12]


def fits(
    ctx: ScenarioContext, schema: str, value: Judged, where: str, *, command: str | None = None
) -> Judged:
    """`value`, after judging it against the document's `schema`; a misfit is recorded, once per place.

    `where` names the operation or event it was read from (the violation's operation).
    """
    ctx.exercise(SHAPES_RULE)
    ctx.tally.add("payloads_judged")
    problems = ctx.facts.shapes.problems(schema, value)
    if problems:
        seen: set[tuple[str, str]] = ctx.memo.setdefault("misfits", set())
        key = (where, problems[0].split(":", 1)[0])
        if key not in seen:
            seen.add(key)
            ctx.record(
                Violation(
                    SHAPES_RULE,
                    "PayloadDoesNotFit",
                    where,
                    f"not a {schema}: " + "; ".join(problems),
                    command if command is not None else ctx.probe.last_curl,
                    evidence=(f"value: {str(value)[:400]}",),
                )
            )
    return value


def label_of(ctx: ScenarioContext) -> dict[str, str]:
    """The label every chat of this verify run carries."""
    if "label" not in ctx.memo:
        ctx.memo["label"] = {"verify": unique_value()}
    label: dict[str, str] = ctx.memo["label"]
    return label


def organization(ctx: ScenarioContext) -> str:
    """The organization chats are created in: --organization, or the one the models route names.

    The models the route lists are kept in the memo too (`model_ids`), for the Schemathesis phase.
    """
    if "organization" not in ctx.memo:
        name = ctx.organization or DEFAULT_ORGANIZATION_NAME
        response = ctx.send("GET", f"/organizations/{name}/chats/models")
        models = (
            json_object(response, "ModelsNotAnObject").get("models") if response.status_code == 200 else None
        )
        rows = [row for row in models if isinstance(row, dict)] if isinstance(models, list) else []
        ctx.memo["model_ids"] = [row["id"] for row in rows if isinstance(row.get("id"), str)]
        found = ctx.organization or (rows[0].get("organization_id") if rows else None)
        if not isinstance(found, str):
            raise ContractBroken(
                "OrganizationUnknown",
                f"no organization to create chats in: GET /organizations/{name}/chats/models answered "
                f"{response.status_code} without a model; give --organization",
            )
        ctx.memo["organization"] = found
    found_id: str = ctx.memo["organization"]
    return found_id


def create_chat(
    ctx: ScenarioContext,
    message: str = "Hello",
    *,
    scenario: str | None = None,
    **body: Any,
) -> dict[str, Any]:
    """Create a chat (labelled with verify's label, and a scenario hint); a refusal is a violation."""
    labels = {**label_of(ctx), **({SCENARIO_LABEL: scenario} if scenario else {}), **body.pop("labels", {})}
    request = {"organization_id": organization(ctx), "content": text(message), "labels": labels, **body}
    response = ctx.send("POST", "/chats", json_body=request)
    expect_status(response, 201, "ValidChatRefused")
    return fits(ctx, "codersdk.Chat", json_object(response, "ChatNotAnObject"), "POST /chats")


def send(ctx: ScenarioContext, chat_id: str, message: str, **body: Any) -> dict[str, Any]:
    """Send a message; a refusal of a valid send is a violation."""
    response = ctx.send("POST", f"/chats/{chat_id}/messages", json_body={"content": text(message), **body})
    expect_status(response, 200, "ValidMessageRefused")
    answer = json_object(response, "SendAnswerNotAnObject")
    return fits(ctx, "codersdk.CreateChatMessageResponse", answer, "POST /chats/{chat}/messages")


def read_chat(ctx: ScenarioContext, chat_id: str) -> dict[str, Any]:
    """GET /chats/{chat}, which must answer 200."""
    response = ctx.send("GET", f"/chats/{chat_id}")
    expect_status(response, 200, "ChatUnreadable")
    return fits(ctx, "codersdk.Chat", json_object(response, "ChatNotAnObject"), "GET /chats/{chat}")


def settle(ctx: ScenarioContext, chat_id: str) -> dict[str, Any]:
    """Wait (up to --expect-agent) until the chat's run has ended; the chat as it ended.

    A run that does not end `waiting` or `error` in time is a violation of
    `run_ends_waiting_or_error`; a chat waited for in vain once is not waited for again.
    """
    deadline = ctx.clock() + ctx.agent_timeout
    seen: list[str] = []
    while True:
        chat = read_chat(ctx, chat_id)
        status = chat.get("status")
        if not seen or seen[-1] != status:
            seen.append(str(status))
        if status in IDLE_STATUSES:
            ctx.tally.add("runs_judged")
            return chat
        if chat_id in ctx.gave_up:
            return chat
        if ctx.clock() >= deadline:
            ctx.gave_up.add(chat_id)
            raise ContractBroken(
                "RunNeverEnded",
                f"chat still {status!r} after {ctx.agent_timeout:g} s (--expect-agent); statuses seen: "
                + " -> ".join(seen),
                subject=f"chat {chat_id}",
                rule="run_ends_waiting_or_error",
            )
        ctx.sleep(ctx.poll_every)


def page(ctx: ScenarioContext, chat_id: str, query: str = "") -> dict[str, Any]:
    """One page of the transcript (GET /chats/{chat}/messages), which must answer 200."""
    response = ctx.send("GET", f"/chats/{chat_id}/messages{query}")
    expect_status(response, 200, "TranscriptUnreadable")
    body = fits(
        ctx,
        "codersdk.ChatMessagesResponse",
        json_object(response, "PageNotAnObject"),
        "GET /chats/{chat}/messages",
    )
    for name in ("messages", "queued_messages"):
        if not isinstance(body.get(name), list):
            raise ContractBroken("PageNotAnObject", f"`{name}` is not a list: {snippet(response)}")
    return body


def transcript(ctx: ScenarioContext, chat_id: str) -> list[dict[str, Any]]:
    """Every message of the chat, oldest first (pages of 200, newest first, followed back)."""
    messages: list[dict[str, Any]] = []
    query = "?limit=200"
    while True:
        body = page(ctx, chat_id, query)
        rows = [row for row in body["messages"] if isinstance(row, dict)]
        messages.extend(rows)
        if not body.get("has_more") or not rows:
            return sorted(messages, key=_id_key)
        query = f"?limit=200&before_id={min(_id_key(row) for row in rows)}"


def _id_key(row: dict[str, Any]) -> int:
    value = row.get("id")
    return value if isinstance(value, int) else 0


def user_texts(messages: Sequence[dict[str, Any]]) -> list[str]:
    """The text of each user message, joined by part, in order."""
    return [
        "".join(str(part.get("text", "")) for part in row.get("content") or [] if isinstance(part, dict))
        for row in messages
        if row.get("role") == "user"
    ]


def list_chats(ctx: ScenarioContext, query: str = "", *, token: str | None = None) -> httpx.Response:
    """GET /chats with a query string (already encoded)."""
    return ctx.send("GET", f"/chats{query}", token=token)
