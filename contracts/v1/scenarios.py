"""Coder semantics the schema cannot express (WIRE.md §1-§4), as named scenario checks over HTTP.

Each check is named for the invariant it guards and raises ContractBroken named for the
violation. A check never depends on key order inside JSON values, exact timestamps, fields the
document does not name, or what an agent writes beyond the run's own rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from contracts.checking import ScenarioContext, expect_status, json_list, json_object
from contracts.refusals import expect_error, invalid_uuid_message
from contracts.v1.facts import SYSTEM_PROMPT
from contracts.v1.shapes import chat_view, content_view, row_view
from contracts.violations import ContractBroken

__all__ = [
    "OPERATIONS",
    "UNKNOWN_TOKEN",
    "body_for",
    "chats_are_private",
    "checks_run_in_coder_order",
    "created_chat_reads_back",
    "errors_are_coders",
    "message_ids_increase",
    "new_transcript_is_the_system_prompt",
    "path_of",
    "posted_message_is_listed",
    "tokens_are_required",
]

# A well-formed Coder token (<10-char id>-<22-char secret>) that no server issued.
UNKNOWN_TOKEN = "zzzzzzzzz0-ZzzzzzzzzzzzzzzzzzzzzZ"
NOT_A_UUID = "not-a-uuid"
OPERATIONS = (
    ("POST", "/chats"),
    ("GET", "/chats/{chat}"),
    ("GET", "/chats/{chat}/messages"),
    ("POST", "/chats/{chat}/messages"),
)


def path_of(template: str, chat: str) -> str:
    return template.replace("{chat}", chat)


def body_for(method: str, path: str) -> dict[str, Any] | None:
    if method == "GET":
        return None
    return {"provider": "p", "model": "m"} if path == "/chats" else {"content": "hello"}


# --- the rules ---------------------------------------------------------------------------


def tokens_are_required(ctx: ScenarioContext) -> str | None:
    """Every operation answers 401 with Coder's body without a token, or with an unknown one."""
    chat = ctx.new_uuid()
    for method, template in OPERATIONS:
        path = path_of(template, chat)
        body = body_for(method, template)
        response = ctx.anonymous(method, path, json_body=body)
        if 200 <= response.status_code < 300:
            raise ContractBroken(
                "MissingTokenAccepted", f"{method} {template} answered {response.status_code} without a token"
            )
        expect_error(
            response,
            401,
            ctx.facts.signed_out,
            kind="MissingTokenNotRejected",
            detail=ctx.facts.no_token_detail,
        )
        response = ctx.send(method, path, token=UNKNOWN_TOKEN, json_body=body)
        if 200 <= response.status_code < 300:
            raise ContractBroken(
                "UnknownTokenAccepted",
                f"{method} {template} answered {response.status_code} to an unknown token",
            )
        expect_error(response, 401, ctx.facts.signed_out, kind="UnknownTokenNotRejected", detail=True)
    return None


def checks_run_in_coder_order(ctx: ScenarioContext) -> str | None:
    """Authentication before the {chat} parameter before the body before field checks."""
    # When no token and every other thing is wrong too # Then 401 wins
    for method, template in OPERATIONS:
        response = ctx.anonymous(
            method, path_of(template, NOT_A_UUID), raw_body=b"{" if method == "POST" else None
        )
        expect_error(response, 401, ctx.facts.signed_out, kind="AuthenticationNotFirst", detail=True)
    # When the {chat} parameter is not a UUID and the body is broken # Then the parameter's 400 wins
    response = ctx.send("POST", f"/chats/{NOT_A_UUID}/messages", raw_body=b"{")
    expect_error(
        response, 400, invalid_uuid_message(NOT_A_UUID), kind="PathParameterNotBeforeBody", detail=True
    )
    # When a field has the wrong JSON type and required fields are missing # Then the decode error wins
    response = ctx.send("POST", "/chats", json_body={"provider": 1})
    expect_error(response, 400, ctx.facts.invalid_json, kind="FieldCheckBeforeDecoding", detail=True)
    chat = ctx.create_chat({"provider": "p", "model": "m"})
    response = ctx.send("POST", f"/chats/{chat['id']}/messages", json_body={"content": 7})
    expect_error(response, 400, ctx.facts.invalid_json, kind="FieldCheckBeforeDecoding", detail=True)
    return None


def errors_are_coders(ctx: ScenarioContext) -> str | None:
    """Each refusal has Coder's status and exact message (WIRE.md section 2)."""
    facts = ctx.facts
    for method, template in OPERATIONS[1:]:
        response = ctx.send(method, path_of(template, NOT_A_UUID), json_body=body_for(method, template))
        expect_error(
            response, 400, invalid_uuid_message(NOT_A_UUID), kind="WrongInvalidUUIDError", detail=True
        )
        response = ctx.send(method, path_of(template, ctx.new_uuid()), json_body=body_for(method, template))
        expect_error(response, 404, facts.not_found, kind="WrongChatNotFoundError")
    chats_bodies: Sequence[tuple[bytes | None, Any, str, str | bool | None]] = (
        (b"{", None, facts.invalid_json, True),
        (b"null", None, facts.chat_fields_required, None),
        (b"[1]", None, facts.invalid_json, True),
        (None, {"model": "m"}, facts.chat_fields_required, None),
        (None, {"provider": "p", "model": ""}, facts.chat_fields_required, None),
        (None, {"provider": None, "model": "m"}, facts.chat_fields_required, None),
        (None, {"provider": "p", "model": "m", "workspace_id": 5}, facts.invalid_json, True),
    )
    for raw, body, message, detail in chats_bodies:
        response = ctx.send("POST", "/chats", raw_body=raw, json_body=body)
        if response.status_code >= 500:
            raise ContractBroken("ServerErrorOnBadInput", f"{response.status_code} for body {raw or body!r}")
        expect_error(response, 400, message, kind="WrongBadRequestError", detail=detail)
    response = ctx.send(
        "POST", "/chats", json_body={"provider": "p", "model": "m", "workspace_id": ctx.new_uuid()}
    )
    expect_error(response, 404, facts.not_found, kind="UnknownWorkspaceNotFound")
    chat = ctx.create_chat({"provider": "p", "model": "m"})
    path = f"/chats/{chat['id']}/messages"
    for raw, body, message, detail in (
        (b"{", None, facts.invalid_json, True),
        (b"null", None, facts.content_required, None),
        (None, {}, facts.content_required, None),
        (None, {"content": ""}, facts.content_required, None),
    ):
        response = ctx.send("POST", path, raw_body=raw, json_body=body)
        if response.status_code >= 500:
            raise ContractBroken("ServerErrorOnBadInput", f"{response.status_code} for body {raw or body!r}")
        expect_error(response, 400, message, kind="WrongBadRequestError", detail=detail)
    return None


def chats_are_private(ctx: ScenarioContext) -> str | None:
    """Another user's chat is a 404 (never a 403) on every chat operation."""
    if ctx.other_token is None:
        return "isolation was not checked: give a second user's token with a second --token"
    chat = ctx.create_chat({"provider": "p", "model": "m", "title": "private"})
    transcript = f"/chats/{chat['id']}/messages"
    before = json_list(ctx.send("GET", transcript), "TranscriptNotAList")
    for method, template in OPERATIONS[1:]:
        path = path_of(template, chat["id"])
        response = ctx.send(method, path, token=ctx.other_token, json_body=body_for(method, template))
        if response.status_code < 400:
            raise ContractBroken(
                "OtherUsersChatReadable",
                f"{method} {template} as another user answered {response.status_code}",
            )
        expect_error(response, 404, ctx.facts.not_found, kind="OtherUsersChatNotHidden")
    # Then the other user's attempts left no trace in the owner's transcript
    after = json_list(ctx.send("GET", transcript), "TranscriptNotAList")
    if len(after) != len(before):
        raise ContractBroken(
            "OtherUserWroteToChat", f"the transcript went from {len(before)} to {len(after)} messages"
        )
    return None


def created_chat_reads_back(ctx: ScenarioContext) -> str | None:
    """A created chat answers what was sent, and reads back equal."""
    metadata = {"b": [1, {"y": None, "x": "é"}], "a": True, "n": 1.5, "html": "<b>&amp; &</b>"}
    cases: Sequence[tuple[dict[str, Any], dict[str, Any]]] = (
        (
            {"provider": "anthropic", "model": "claude", "title": "T 1", "metadata": metadata},
            {"title": "T 1", "metadata": metadata},
        ),
        ({"provider": "openai", "model": "gpt", "extra_field": 1}, {"title": None, "metadata": {}}),
        ({"provider": "p", "model": "m", "title": "", "metadata": None}, {"title": None, "metadata": None}),
        (
            {"provider": "p", "model": "m", "title": None, "metadata": [1, "two"]},
            {"title": None, "metadata": [1, "two"]},
        ),
    )
    for sent, expected in cases:
        created = ctx.create_chat(sent)
        for name in ("provider", "model"):
            if created.get(name) != sent[name]:
                raise ContractBroken(
                    "CreatedChatDiffers", f"{name}: sent {sent[name]!r}, got {created.get(name)!r}"
                )
        if created.get("title") != expected["title"]:
            kind = (
                "EmptyTitleSent" if expected["title"] is None and "title" in created else "CreatedChatDiffers"
            )
            raise ContractBroken(
                kind, f"title: expected {expected['title']!r}, got {created.get('title', '<absent>')!r}"
            )
        if expected["title"] is None and "title" in created:
            raise ContractBroken(
                "EmptyTitleSent", f"title must be omitted when empty, got {created['title']!r}"
            )
        if "metadata" not in created or created["metadata"] != expected["metadata"]:
            raise ContractBroken(
                "CreatedChatDiffers",
                f"metadata: expected {expected['metadata']!r}, got {created.get('metadata', '<absent>')!r}",
            )
        if "workspace_id" not in created or created["workspace_id"] is not None:
            raise ContractBroken(
                "WorkspaceIdNotNull",
                f"workspace_id: expected null, got {created.get('workspace_id', '<absent>')!r}",
            )
        if created.get("updated_at") != created.get("created_at"):
            raise ContractBroken("CreatedChatDiffers", "updated_at differs from created_at on create")
        read = json_object(ctx.send("GET", f"/chats/{created['id']}"), "ChatNotAnObject")
        if chat_view(read) != chat_view(created):
            raise ContractBroken("ChatReadsBackDifferent", f"created {created!r}, read back {read!r}")
    return None


def new_transcript_is_the_system_prompt(ctx: ScenarioContext) -> str | None:
    """A new chat's transcript is exactly one `system` message, the system prompt."""
    chat = ctx.create_chat({"provider": "p", "model": "m"})
    response = ctx.send("GET", f"/chats/{chat['id']}/messages")
    expect_status(response, 200, "TranscriptUnreadable")
    messages = json_list(response, "TranscriptNotAList")
    if len(messages) != 1:
        raise ContractBroken(
            "SystemPromptMissing", f"expected exactly the system prompt, got {len(messages)} messages"
        )
    first = messages[0]
    if (
        not isinstance(first, dict)
        or first.get("role") != "system"
        or content_view(first.get("content")) != dict(SYSTEM_PROMPT)
    ):
        raise ContractBroken(
            "SystemPromptMissing", f"expected a system message {dict(SYSTEM_PROMPT)!r}, got {first!r}"
        )
    if first.get("chat_id") != chat["id"]:
        raise ContractBroken("WrongChatId", f"message chat_id {first.get('chat_id')!r} is not {chat['id']!r}")
    return None


def posted_message_is_listed(ctx: ScenarioContext) -> str | None:
    """A posted message is stored as Coder's user envelope carrying the run id, and is listed as answered."""
    chat = ctx.create_chat({"provider": "p", "model": "m"})
    for text in ("Why does the build fail?", "   "):
        answer = ctx.post(chat["id"], text)
        run_id, message = answer.get("run_id"), answer.get("message")
        if not isinstance(run_id, str) or not _is_uuid(run_id):
            raise ContractBroken("RunIdMissing", f"run_id must be a UUID string, got {run_id!r}")
        if not isinstance(message, dict):
            raise ContractBroken("PostedMessageMissing", f"message must be an object, got {message!r}")
        expected_content = {
            "type": "message",
            "run_id": run_id,
            "message": {"id": "", "content": "", "role": "user", "parts": [{"type": "text", "text": text}]},
        }
        if message.get("role") != "user" or message.get("chat_id") != chat["id"]:
            raise ContractBroken(
                "PostedMessageDiffers", f"expected role user in chat {chat['id']}, got {message!r}"
            )
        if content_view(message.get("content")) != expected_content:
            kind = (
                "EnvelopeRunIdDiffers"
                if isinstance(message.get("content"), dict) and message["content"].get("run_id") != run_id
                else "PostedMessageDiffers"
            )
            raise ContractBroken(
                kind, f"expected content {expected_content!r}, got {message.get('content')!r}"
            )
        listed = json_list(ctx.send("GET", f"/chats/{chat['id']}/messages"), "TranscriptNotAList")
        same = [row for row in listed if isinstance(row, dict) and row.get("id") == message.get("id")]
        if not same:
            raise ContractBroken(
                "PostedMessageLost", f"message id {message.get('id')!r} is not in the transcript"
            )
        if row_view(same[0]) != row_view(message):
            raise ContractBroken("ListedMessageDiffers", f"posted {message!r}, listed {same[0]!r}")
    return None


def message_ids_increase(ctx: ScenarioContext) -> str | None:
    """Message ids are unique integers that rise within a chat; lists are by id ascending."""
    first = ctx.create_chat({"provider": "p", "model": "m"})
    second = ctx.create_chat({"provider": "p", "model": "m"})
    posted: list[int] = []
    for index in range(3):
        for chat in (first, second):
            message = ctx.post(chat["id"], f"message {index}").get("message")
            if chat is first and isinstance(message, dict):
                posted.append(message.get("id"))  # type: ignore[arg-type]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in posted) or posted != sorted(
        set(posted)
    ):
        raise ContractBroken("MessageIdsNotIncreasing", f"ids of successive posts: {posted!r}")
    seen: set[int] = set()
    for chat in (first, second):
        listed = json_list(ctx.send("GET", f"/chats/{chat['id']}/messages"), "TranscriptNotAList")
        ids = [row.get("id") if isinstance(row, dict) else None for row in listed]
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ContractBroken("MessageIdNotInteger", f"ids listed: {ids!r}")
        if len(set(ids)) != len(ids) or seen & set(ids):
            raise ContractBroken("DuplicateMessageIds", f"ids listed: {ids!r}")
        if ids != sorted(ids):  # type: ignore[type-var]  # all ints, checked above
            raise ContractBroken("MessagesNotAscending", f"ids listed: {ids!r}")
        seen |= set(ids)  # type: ignore[arg-type]
    return None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
