"""Refusals of today's API (WIRE.md §2 and §5): tokens, {chat}, bodies, privacy, and each route's 400s.

Each check is named for the invariant it guards and raises ContractBroken named for the
violation; a refused request must leave what it named as it was.
"""

from __future__ import annotations

from typing import Any

from contracts.checking import ScenarioContext, expect_status, json_list, json_object
from contracts.current.session import (
    create_chat,
    label_of,
    list_chats,
    organization,
    read_chat,
    settle,
    text,
    transcript,
    unique_value,
)
from contracts.refusals import expect_error, invalid_uuid_message
from contracts.violations import ContractBroken

__all__ = [
    "bodies_are_read_like_go",
    "chat_param_is_a_uuid",
    "chats_are_private",
    "create_refusals_are_coders",
    "send_refusals_are_coders",
    "tokens_are_required",
    "unknown_request_fields_are_ignored",
    "update_refusals_are_coders",
]

# A well-formed Coder token (<10-char id>-<22-char secret>) that no server issued.
UNKNOWN_TOKEN = "zzzzzzzzz0-ZzzzzzzzzzzzzzzzzzzzzZ"
NOT_A_UUID = "not-a-uuid"
# Every {chat} operation of the document, with a body it would accept.
CHAT_OPERATIONS: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/chats/{chat}", None),
    ("PATCH", "/chats/{chat}", {"title": "renamed"}),
    ("GET", "/chats/{chat}/messages", None),
    ("POST", "/chats/{chat}/messages", {"content": text("hello")}),
    ("PATCH", "/chats/{chat}/messages/1", {"content": text("edited")}),
    ("POST", "/chats/{chat}/interrupt", None),
    ("DELETE", "/chats/{chat}/queue/1", None),
    ("POST", "/chats/{chat}/queue/1/promote", None),
)
# WIRE.md §5 `POST /chats`: refusals the document's examples do not show.
INVALID_CLIENT_TYPE = "Invalid client_type."
INVALID_REASONING_EFFORT = "Invalid reasoning_effort value."
REASONING_EFFORT_DETAIL = 'Invalid value "{}", must be one of none, minimal, low, medium, high, xhigh, max'
# WIRE.md §5 `PATCH /chats/{chat}`.
TITLE_TOO_LONG = "Title must be at most 200 characters."
INVALID_PLAN_MODE = "Invalid plan_mode value."


def _path(template: str, chat: str) -> str:
    return template.replace("{chat}", chat)


def tokens_are_required(ctx: ScenarioContext) -> str | None:
    """Every operation answers Coder's 401 without a token, or with one no server issued."""
    body = {"organization_id": ctx.new_uuid(), "content": text("hello")}
    operations = (
        ("GET", "/chats", None),
        ("POST", "/chats", body),
        ("GET", f"/organizations/{ctx.new_uuid()}/chats/models", None),
        *CHAT_OPERATIONS,
    )
    chat = ctx.new_uuid()
    for method, template, json_body in operations:
        path = _path(template, chat)
        response = ctx.anonymous(method, path, json_body=json_body)
        if 200 <= response.status_code < 300:
            raise ContractBroken(
                "MissingTokenAccepted", f"{method} {template} answered {response.status_code}"
            )
        expect_error(
            response,
            401,
            ctx.facts.signed_out,
            kind="MissingTokenNotRejected",
            detail=ctx.facts.no_token_detail,
        )
        response = ctx.send(method, path, token=UNKNOWN_TOKEN, json_body=json_body)
        if 200 <= response.status_code < 300:
            raise ContractBroken(
                "UnknownTokenAccepted", f"{method} {template} answered {response.status_code}"
            )
        expect_error(response, 401, ctx.facts.signed_out, kind="UnknownTokenNotRejected", detail=True)
    return None


def chat_param_is_a_uuid(ctx: ScenarioContext) -> str | None:
    """`{chat}` that google/uuid does not parse is the 400; an unknown chat is the exact 404."""
    for method, template, json_body in CHAT_OPERATIONS:
        response = ctx.send(method, _path(template, NOT_A_UUID), json_body=json_body)
        expect_error(
            response, 400, invalid_uuid_message(NOT_A_UUID), kind="WrongInvalidUUIDError", detail=True
        )
        response = ctx.send(method, _path(template, ctx.new_uuid()), json_body=json_body)
        expect_error(response, 404, ctx.facts.not_found, kind="WrongChatNotFoundError")
    return None


def _idle_chat(ctx: ScenarioContext) -> dict[str, Any]:
    """A chat of verify's whose first run has ended, shared by the checks that only read or are refused."""
    if "idle_chat" not in ctx.memo:
        created = create_chat(ctx, "A chat the refusal checks share", scenario="echo")
        ctx.memo["idle_chat"] = settle(ctx, created["id"])
    chat: dict[str, Any] = ctx.memo["idle_chat"]
    return chat


def bodies_are_read_like_go(ctx: ScenarioContext) -> str | None:
    """A body that is not JSON, or a field of the wrong JSON type, is 400 `Request body must be valid JSON.`."""
    chat = _idle_chat(ctx)["id"]
    cases: tuple[tuple[str, str, bytes | None, Any], ...] = (
        ("POST", "/chats", b"{", None),
        ("POST", "/chats", None, {"organization_id": organization(ctx), "content": "hello"}),
        ("POST", "/chats", None, {"organization_id": 5, "content": text("hello")}),
        ("PATCH", f"/chats/{chat}", b"[1", None),
        ("PATCH", f"/chats/{chat}", None, {"title": 5}),
        ("POST", f"/chats/{chat}/messages", b"not json", None),
        ("POST", f"/chats/{chat}/messages", None, {"content": 7}),
    )
    for method, path, raw, body in cases:
        response = ctx.send(method, path, raw_body=raw, json_body=body)
        if response.status_code >= 500:
            raise ContractBroken("ServerErrorOnBadInput", f"{response.status_code} for body {raw or body!r}")
        expect_error(response, 400, ctx.facts.invalid_json, kind="BadBodyNotRefused", detail=True)
    return None


def unknown_request_fields_are_ignored(ctx: ScenarioContext) -> str | None:
    """Go's decoder ignores fields it does not know: such requests are answered as without them."""
    extra = {"x_verify_unknown": {"nested": [1, 2]}}
    body: dict[str, Any] = {
        "organization_id": organization(ctx),
        "content": [{"type": "text", "text": "unknown fields", **extra}],
        "labels": {**label_of(ctx), "scenario": "echo"},
        **extra,
    }
    response = ctx.send("POST", "/chats", json_body=body)
    expect_status(response, 201, "UnknownFieldRefused")
    chat = json_object(response, "ChatNotAnObject")["id"]
    settle(ctx, chat)
    response = ctx.send("PATCH", f"/chats/{chat}", json_body={"title": "Renamed", **extra})
    expect_status(response, 204, "UnknownFieldRefused")
    if read_chat(ctx, chat).get("title") != "Renamed":
        raise ContractBroken(
            "UnknownFieldChangedTheAnswer", "the title sent beside an unknown field was not set"
        )
    response = ctx.send("POST", f"/chats/{chat}/messages", json_body={"content": text("more"), **extra})
    expect_status(response, 200, "UnknownFieldRefused")
    settle(ctx, chat)
    return None


def chats_are_private(ctx: ScenarioContext) -> str | None:
    """Another user's chat is a 404 (never a 403) on every route, is not listed, and keeps no trace."""
    if ctx.other_token is None:
        return "isolation was not checked: give a second user's token with a second --token"
    chat = _idle_chat(ctx)
    before = transcript(ctx, chat["id"])
    for method, template, json_body in CHAT_OPERATIONS:
        response = ctx.send(method, _path(template, chat["id"]), token=ctx.other_token, json_body=json_body)
        if response.status_code < 400:
            raise ContractBroken(
                "OtherUsersChatReachable",
                f"{method} {template} as another user answered {response.status_code}",
            )
        expect_error(response, 404, ctx.facts.not_found, kind="OtherUsersChatNotHidden")
    response = list_chats(ctx, token=ctx.other_token)
    expect_status(response, 200, "ChatListUnreadable")
    listed = [row.get("id") for row in json_list(response, "ChatListNotAList") if isinstance(row, dict)]
    if chat["id"] in listed:
        raise ContractBroken("OtherUsersChatListed", f"chat {chat['id']} is in another user's list")
    after = transcript(ctx, chat["id"])
    if [row.get("id") for row in after] != [row.get("id") for row in before]:
        raise ContractBroken(
            "OtherUserWroteToChat", f"the transcript went from {len(before)} to {len(after)} messages"
        )
    if read_chat(ctx, chat["id"]).get("title") != chat.get("title"):
        raise ContractBroken("OtherUserWroteToChat", "another user's PATCH renamed the chat")
    return None


def create_refusals_are_coders(ctx: ScenarioContext) -> str | None:
    """POST /chats refuses each wrong body with coderd's status, message and detail, creating nothing."""
    facts = ctx.facts
    org = organization(ctx)
    label = label_of(ctx)
    marker = {"refused": unique_value()}
    good = {"organization_id": org, "content": text("hello"), "labels": {**label, **marker}}
    cases: tuple[tuple[dict[str, Any], int, str, str | bool | None], ...] = (
        ({"organization_id": None}, 400, facts.organization_required, None),
        ({"organization_id": "00000000-0000-0000-0000-000000000000"}, 400, facts.organization_required, None),
        ({"organization_id": ctx.new_uuid()}, 403, facts.not_a_member, None),
        ({"content": []}, 400, facts.content_required, facts.content_required_detail),
        ({"content": None}, 400, facts.content_required, facts.content_required_detail),
        ({"content": text("  \t ")}, 400, facts.invalid_part, "content[0].text cannot be empty."),
        (
            {"content": [*text("ok"), {"type": "Image"}]},
            400,
            facts.invalid_part,
            'content[1].type "Image" is not supported.',
        ),
        ({"client_type": "cli"}, 400, INVALID_CLIENT_TYPE, True),
        (
            {"reasoning_effort": "extreme"},
            400,
            INVALID_REASONING_EFFORT,
            REASONING_EFFORT_DETAIL.format("extreme"),
        ),
    )
    for change, status, message, detail in cases:
        response = ctx.send("POST", "/chats", json_body={**good, **change})
        if response.status_code >= 500:
            raise ContractBroken("ServerErrorOnBadInput", f"{response.status_code} for {change!r}")
        expect_error(response, status, message, kind="WrongCreateRefusal", detail=detail)
    # Then none of them created a chat
    response = list_chats(ctx, f"?label=refused:{marker['refused']}")
    expect_status(response, 200, "ChatListUnreadable")
    if json_list(response, "ChatListNotAList"):
        raise ContractBroken("RefusedCreateStoredAChat", "a refused POST /chats left a chat in the list")
    return None


def update_refusals_are_coders(ctx: ScenarioContext) -> str | None:
    """PATCH /chats/{chat} refuses each wrong field with coderd's 400, changing nothing."""
    facts = ctx.facts
    chat = _idle_chat(ctx)
    before = read_chat(ctx, chat["id"])
    cases: tuple[tuple[dict[str, Any], str], ...] = (
        ({"title": "   "}, facts.title_empty),
        ({"title": "x" * 201}, TITLE_TOO_LONG),
        ({"pin_order": -1}, facts.pin_negative),
        ({"plan_mode": "fast"}, INVALID_PLAN_MODE),
        # Not sent: a valid field beside a bad one. coderd applies fields as it goes (WIRE.md §5),
        # so what such a request leaves changed is the server's to choose.
    )
    for body, message in cases:
        response = ctx.send("PATCH", f"/chats/{chat['id']}", json_body=body)
        expect_error(response, 400, message, kind="WrongUpdateRefusal")
    after = read_chat(ctx, chat["id"])
    for name in ("title", "pin_order", "archived"):
        if after.get(name) != before.get(name):
            raise ContractBroken(
                "RefusedUpdateChangedTheChat", f"{name}: {before.get(name)!r} became {after.get(name)!r}"
            )
    return None


def send_refusals_are_coders(ctx: ScenarioContext) -> str | None:
    """POST /chats/{chat}/messages refuses each wrong body with coderd's 400, storing nothing."""
    facts = ctx.facts
    chat = _idle_chat(ctx)
    before = transcript(ctx, chat["id"])
    cases: tuple[tuple[dict[str, Any], str, str | bool | None], ...] = (
        ({"content": []}, facts.content_required, facts.content_required_detail),
        ({"content": text("")}, facts.invalid_part, "content[0].text cannot be empty."),
        ({"content": text("hi"), "busy_behavior": "later"}, facts.invalid_busy, facts.invalid_busy_detail),
    )
    for body, message, detail in cases:
        response = ctx.send("POST", f"/chats/{chat['id']}/messages", json_body=body)
        expect_error(response, 400, message, kind="WrongSendRefusal", detail=detail)
    after = transcript(ctx, chat["id"])
    if len(after) != len(before):
        raise ContractBroken(
            "RefusedSendStoredAMessage", f"the transcript went from {len(before)} to {len(after)}"
        )
    return None
