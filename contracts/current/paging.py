"""Paging (WIRE.md §5): the chat list by limit, offset and after_id; the transcript by cursors and limit.

The list's order lives in SQL that was not read, so the checks compare pages with the full
listing of the same query, never with an order of their own. Every chat paged is idle first,
so that no run moves it while the pages are read.
"""

from __future__ import annotations

from typing import Any

from contracts.checking import ScenarioContext
from contracts.current.chat_checks import listed_ids
from contracts.current.session import create_chat, page, send, settle, transcript, unique_value
from contracts.refusals import expect_error
from contracts.violations import ContractBroken

__all__ = ["chat_list_pages", "transcript_pages"]


def chat_list_pages(ctx: ScenarioContext) -> str | None:
    """limit, offset and after_id cut the full list where they say; values that do not parse are the 400."""
    mine = {"paged": unique_value()}
    chats = [create_chat(ctx, f"paged chat {index}", scenario="echo", labels=mine) for index in range(3)]
    for chat in chats:
        settle(ctx, chat["id"])
    query = f"?label=paged:{mine['paged']}"
    full = listed_ids(ctx, query)
    if sorted(full) != sorted(chat["id"] for chat in chats):
        raise ContractBroken(
            "LabelFilterWrong", f"the label filter listed {full!r}, not the three chats made"
        )
    cases: tuple[tuple[str, list[Any]], ...] = (
        ("&limit=1", full[:1]),
        ("&limit=2", full[:2]),
        ("&limit=0", full),
        ("&offset=1", full[1:]),
        ("&offset=1&limit=1", full[1:2]),
        ("&offset=3", []),
        (f"&after_id={full[0]}", full[1:]),
        (f"&after_id={full[1]}&limit=1", full[2:3]),
        (f"&after_id={full[2]}", []),
        ("&limit=&offset=", full),
    )
    for extra, expected in cases:
        got = listed_ids(ctx, query + extra)
        if got != expected:
            raise ContractBroken(
                "WrongChatPage", f"GET /chats{query}{extra} listed {got!r}, expected {expected!r}"
            )
    for name, value in (("limit", "x"), ("offset", "1.5"), ("after_id", "not-a-uuid")):
        response = ctx.send("GET", f"/chats{query}&{name}={value}")
        expect_error(response, 400, ctx.facts.invalid_query, kind="BadPagingNotRefused", field=name)
    return None


def transcript_pages(ctx: ScenarioContext) -> str | None:
    """Newest first by default, ascending after `after_id` alone; `has_more` says a row was left; bad ones 400."""
    facts = ctx.facts
    chat = create_chat(ctx, "page one", scenario="echo")
    settle(ctx, chat["id"])
    for text in ("page two", "page three"):
        send(ctx, chat["id"], text)
        settle(ctx, chat["id"])
    ids = [row["id"] for row in transcript(ctx, chat["id"])]
    if len(ids) < 3:
        raise ContractBroken("TranscriptTooShort", f"three sends left {len(ids)} messages")
    newest = list(reversed(ids))
    n = len(ids)
    cases: tuple[tuple[str, list[Any], bool], ...] = (
        ("", newest[:50], n > 50),
        ("?limit=1", newest[:1], True),
        (f"?limit={n}", newest, False),
        (f"?limit={n - 1}", newest[: n - 1], True),
        (f"?before_id={ids[-1]}", newest[1:51], n - 1 > 50),
        (f"?before_id={ids[-1]}&limit=1", newest[1:2], True),
        (f"?after_id={ids[0]}", ids[1:51], n - 1 > 50),
        (f"?after_id={ids[0]}&limit=1", ids[1:2], True),
        (f"?after_id={ids[-1]}", [], False),
        (f"?after_id={ids[0]}&before_id={ids[-1]}", newest[1:-1], False),
        (f"?before_id={ids[0]}", [], False),
    )
    path = f"/chats/{chat['id']}/messages"
    for query, expected, more in cases:
        body = page(ctx, chat["id"], query)
        got = [row.get("id") if isinstance(row, dict) else row for row in body["messages"]]
        if got != expected or body.get("has_more") is not more:
            raise ContractBroken(
                "WrongTranscriptPage",
                f"GET {path}{query} listed {got!r} has_more={body.get('has_more')!r}, "
                f"expected {expected!r} has_more={more}",
            )
        if query and "_id=" in query and body["queued_messages"]:
            raise ContractBroken("QueueOnACursorPage", f"GET {path}{query} listed queued messages")
    refusals: tuple[tuple[str, str, str | None], ...] = (
        ("?limit=0", facts.invalid_limit, None),
        ("?limit=201", facts.invalid_limit, None),
        (f"?after_id={ids[1]}&before_id={ids[1]}", facts.cursors_transposed, None),
        (f"?after_id={ids[2]}&before_id={ids[1]}", facts.cursors_transposed, None),
        ("?limit=x", facts.invalid_query, "limit"),
        ("?before_id=-1", facts.invalid_query, "before_id"),
        ("?after_id=1e3", facts.invalid_query, "after_id"),
    )
    for query, message, field in refusals:
        response = ctx.send("GET", path + query)
        expect_error(response, 400, message, kind="BadPagingNotRefused", field=field)
    return None
