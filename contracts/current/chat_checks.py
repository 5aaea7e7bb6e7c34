"""Chats and transcripts as stored (WIRE.md §3, §5): read-back, the archive filter, archived refusals.

Chats and messages are open objects: only the fields the document names are compared, and
only those a run cannot change (a chat's status, `updated_at` and `has_unread` move with it).
"""

from __future__ import annotations

from typing import Any

from contracts.checking import ScenarioContext, expect_status, json_list
from contracts.current.session import (
    create_chat,
    label_of,
    list_chats,
    organization,
    read_chat,
    send,
    settle,
    transcript,
    unique_value,
    user_texts,
)
from contracts.refusals import expect_error
from contracts.violations import ContractBroken

__all__ = [
    "archived_chat_refuses_changes",
    "chat_list_hides_archived",
    "created_chat_reads_back",
    "listed_ids",
    "transcript_holds_what_was_sent",
]

# What a run does not change of a chat (WIRE.md §3 `Chat`); not the title, which coderd may
# derive again once the first turn has run (`chatprompt.FallbackTitle` first, WIRE.md §5).
STABLE_CHAT_FIELDS = ("id", "organization_id", "owner_id", "labels", "archived", "created_at")


def stable_view(chat: Any) -> Any:
    """A chat's fields that a run leaves alone."""
    if not isinstance(chat, dict):
        return chat
    return {name: chat[name] for name in STABLE_CHAT_FIELDS if name in chat}


def listed_ids(ctx: ScenarioContext, query: str) -> list[Any]:
    """The ids GET /chats lists for this query string."""
    response = list_chats(ctx, query)
    expect_status(response, 200, "ChatListUnreadable")
    return [
        row.get("id") if isinstance(row, dict) else row for row in json_list(response, "ChatListNotAList")
    ]


def _label_query(labels: dict[str, str]) -> str:
    return "&".join(f"label={key}:{value}" for key, value in labels.items())


def created_chat_reads_back(ctx: ScenarioContext) -> str | None:
    """A new chat answers `running`, unarchived, with its labels; GET and the list read it back."""
    mine = {"case": unique_value()}
    chat = create_chat(ctx, "  Why does the build fail?  ", scenario="echo", labels=mine)
    labels = {**label_of(ctx), "scenario": "echo", **mine}
    expected = {"organization_id": organization(ctx), "labels": labels, "archived": False}
    for name, value in expected.items():
        if chat.get(name) != value:
            raise ContractBroken(
                "CreatedChatDiffers", f"{name}: expected {value!r}, got {chat.get(name, '<absent>')!r}"
            )
    if chat.get("status") != "running":
        raise ContractBroken(
            "NewChatNotRunning", f"a new chat is `running` (CreateChat N -> R0), got {chat.get('status')!r}"
        )
    read = read_chat(ctx, chat["id"])
    if stable_view(read) != stable_view(chat):
        raise ContractBroken(
            "ChatReadsBackDifferent", f"created {stable_view(chat)!r}, read back {stable_view(read)!r}"
        )
    if listed_ids(ctx, "?" + _label_query(mine)) != [chat["id"]]:
        raise ContractBroken(
            "CreatedChatNotListed", f"chat {chat['id']} is not the one chat listed with label {mine!r}"
        )
    settle(ctx, chat["id"])
    return None


def transcript_holds_what_was_sent(ctx: ScenarioContext) -> str | None:
    """The user's messages are stored with their text trimmed, listed under their ids, ids rising."""
    chat = create_chat(ctx, "  first question \n", scenario="echo")
    settle(ctx, chat["id"])
    answer = send(ctx, chat["id"], "\tsecond question  ")
    message = answer.get("message")
    if answer.get("queued") is not False or not isinstance(message, dict):
        raise ContractBroken(
            "SendNotRun", f"a send to an idle chat answers `queued: false` and the message: {answer!r}"
        )
    if message.get("role") != "user" or user_texts([message]) != ["second question"]:
        raise ContractBroken(
            "SentMessageDiffers", f"expected the user's trimmed text 'second question', got {message!r}"
        )
    settle(ctx, chat["id"])
    messages = transcript(ctx, chat["id"])
    ids = [row.get("id") for row in messages]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids) or len(set(ids)) != len(ids):
        raise ContractBroken("MessageIdsNotUnique", f"ids listed: {ids!r}")
    if any(row.get("chat_id") != chat["id"] for row in messages):
        raise ContractBroken("WrongChatId", f"a message of another chat is listed in {chat['id']}")
    if user_texts(messages) != ["first question", "second question"]:
        raise ContractBroken("UserMessagesDiffer", f"user messages listed: {user_texts(messages)!r}")
    listed = next((row for row in messages if row.get("id") == message.get("id")), None)
    if listed is None or user_texts([listed]) != user_texts([message]):
        raise ContractBroken(
            "SentMessageNotListed", f"message {message.get('id')!r} is not listed as answered"
        )
    sent_ids = [row["id"] for row in messages if row.get("role") == "user"]
    if sent_ids != sorted(sent_ids):
        raise ContractBroken("MessageIdsNotRising", f"user message ids in order of sending: {sent_ids!r}")
    return None


def chat_list_hides_archived(ctx: ScenarioContext) -> str | None:
    """An archived chat leaves the default list; `q=archived:true` lists it; unarchived it returns."""
    mine = {"archive": unique_value()}
    chat = create_chat(ctx, "to be archived", scenario="echo", labels=mine)
    settle(ctx, chat["id"])
    default, archived = "?" + _label_query(mine), "?q=archived:true&" + _label_query(mine)
    response = ctx.send("PATCH", f"/chats/{chat['id']}", json_body={"archived": True})
    expect_status(response, 204, "ArchiveRefused")
    if read_chat(ctx, chat["id"]).get("archived") is not True:
        raise ContractBroken("ArchiveNotStored", "GET answers `archived` other than true after the archive")
    if chat["id"] in listed_ids(ctx, default):
        raise ContractBroken("ArchivedChatListed", "an archived chat is in the default list")
    if listed_ids(ctx, archived) != [chat["id"]]:
        raise ContractBroken("ArchivedChatNotFound", "`q=archived:true` does not list the archived chat")
    response = ctx.send("PATCH", f"/chats/{chat['id']}", json_body={"archived": False})
    expect_status(response, 204, "UnarchiveRefused")
    if listed_ids(ctx, default) != [chat["id"]]:
        raise ContractBroken("UnarchivedChatNotListed", "an unarchived chat is not back in the default list")
    if listed_ids(ctx, archived):
        raise ContractBroken(
            "UnarchivedChatListedAsArchived", "`q=archived:true` still lists the unarchived chat"
        )
    return None


def archived_chat_refuses_changes(ctx: ScenarioContext) -> str | None:
    """Send, edit, interrupt, promote and a second archive on an archived chat are their 400s; nothing changes."""
    facts = ctx.facts
    chat = create_chat(ctx, "archived, then poked", scenario="echo")
    settle(ctx, chat["id"])
    before = transcript(ctx, chat["id"])
    first = before[0].get("id") if before else 1
    response = ctx.send("PATCH", f"/chats/{chat['id']}", json_body={"archived": True})
    expect_status(response, 204, "ArchiveRefused")
    cases: tuple[tuple[str, str, Any, str], ...] = (
        (
            "POST",
            f"/chats/{chat['id']}/messages",
            {"content": [{"type": "text", "text": "hi"}]},
            facts.send_archived,
        ),
        (
            "PATCH",
            f"/chats/{chat['id']}/messages/{first}",
            {"content": [{"type": "text", "text": "hi"}]},
            facts.edit_archived,
        ),
        ("POST", f"/chats/{chat['id']}/interrupt", None, facts.interrupt_archived),
        ("POST", f"/chats/{chat['id']}/queue/1/promote", None, facts.promote_archived),
        ("PATCH", f"/chats/{chat['id']}", {"archived": True}, facts.already_archived),
    )
    for method, path, body, message in cases:
        response = ctx.send(method, path, json_body=body)
        expect_error(response, 400, message, kind="ArchivedChatNotRefused")
    after = transcript(ctx, chat["id"])
    if [row.get("id") for row in after] != [row.get("id") for row in before]:
        raise ContractBroken(
            "ArchivedChatChanged", f"the transcript went from {len(before)} to {len(after)} messages"
        )
    if read_chat(ctx, chat["id"]).get("status") not in ("waiting", "error"):
        raise ContractBroken("ArchivedChatChanged", "an archived chat started running")
    return None
