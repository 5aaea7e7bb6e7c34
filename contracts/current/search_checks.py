"""The list's search query `q` (WIRE.md §5 `GET /chats` 2): what it selects and how it refuses.

The document can say `q` is a string; it cannot say that `title:` selects by title, that keys are
read in any case, that `archived:true` lists only archived chats, nor which words are refused.
Every listing here is limited by a label of the check's own, so other chats never interfere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from contracts.checking import ScenarioContext, expect_status, json_object_or_none
from contracts.current.chat_checks import listed_ids
from contracts.current.session import create_chat, list_chats, settle, unique_value
from contracts.refusals import expect_error
from contracts.violations import ContractBroken

__all__ = ["search_filters_as_written", "search_refusals_are_coders"]


def _search(label: dict[str, str], q: str) -> str:
    """A list query: the search `q` and the check's label."""
    (key, value), *_ = label.items()
    return "?" + urlencode({"q": q, "label": f"{key}:{value}"})


def search_filters_as_written(ctx: ScenarioContext) -> str | None:
    """`title:` selects by title (a quoted value keeps its space, a key reads in any case);
    `archived:true` lists only the archived chats, `archived:false` only the others."""
    mine = {"search": unique_value()}
    word = "t" + unique_value()
    titled = create_chat(ctx, "a chat searched by title", scenario="echo", labels=mine)["id"]
    other = create_chat(ctx, "a chat with another title", scenario="echo", labels=mine)["id"]
    for chat, title in ((titled, f"Searched {word} here"), (other, "Never searched")):
        settle(ctx, chat)
        response = ctx.send("PATCH", f"/chats/{chat}", json_body={"title": title})
        expect_status(response, 204, "RenameRefused")
    for q in (f"title:{word}", f'title:"{word} here"', f"TITLE:{word}"):
        found = listed_ids(ctx, _search(mine, q))
        if found != [titled]:
            raise ContractBroken(
                "TitleSearchMissed",
                f"q={q} should list only chat {titled} (titled 'Searched {word} here'), listed {found!r}",
            )
    response = ctx.send("PATCH", f"/chats/{titled}", json_body={"archived": True})
    expect_status(response, 204, "ArchiveRefused")
    for q, expected in (("archived:true", [titled]), ("archived:false", [other])):
        found = listed_ids(ctx, _search(mine, q))
        if found != expected:
            raise ContractBroken(
                "ArchivedSearchWrong",
                f"q={q} should list {expected!r} of the label's two chats, listed {found!r}",
            )
    return None


def _details(response: Any) -> list[str]:
    body = json_object_or_none(response)
    rows = body.get("validations") if isinstance(body, dict) else None
    return [str(row.get("detail")) for row in rows or [] if isinstance(row, dict)]


def search_refusals_are_coders(ctx: ScenarioContext) -> str | None:
    """A `q` the search cannot read is 400 `Invalid chat search query.` with a validation saying why:
    an unknown key, a value that does not parse, a `:` at an edge or twice, words without a key."""
    mine = {"search": unique_value()}
    cases = (
        ("colour:red", '"colour" is not a valid query param'),
        (
            "archived:maybe",
            'Query param "archived" must be a valid boolean: strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
        (":title", "Query element \":title\" cannot start or end with ':'"),
        ("a:b:c", "Query element \"a:b:c\" can only contain 1 ':'"),
        ("hello world", 'unsupported search term: "hello world"'),
    )
    for q, detail in cases:
        response = list_chats(ctx, _search(mine, q))
        expect_error(response, 400, ctx.facts.invalid_search, kind="SearchNotRefused")
        if detail not in _details(response):
            raise ContractBroken(
                "SearchRefusalUnexplained",
                f"q={q}: expected a validation with detail {detail!r}, got {_details(response)!r}",
            )
    return None
