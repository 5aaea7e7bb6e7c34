"""The chat list's `q`: coderd's grammar (searchquery.Chats) and its refusals, over the mock's chats."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mockserver.current.chat_search import ChatSearch, parse_chat_search
from mockserver.edge.coder_errors import CoderRefusal
from tests.current_support import ALICE, current_mock


def _refusal(q: str) -> list[dict[str, str]]:
    with pytest.raises(CoderRefusal) as caught:
        parse_chat_search(q)
    assert caught.value.status == 400
    assert caught.value.body["message"] == "Invalid chat search query."
    validations: list[dict[str, str]] = caught.value.body["validations"]
    return validations


def test_the_sidebars_query_is_the_callers_unarchived_chats() -> None:
    assert parse_chat_search("archived:false source:created_by_me") == ChatSearch()


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("archived:true", ChatSearch(archived=True)),
        ("ARCHIVED:1 has_unread:F", ChatSearch(archived=True, has_unread=False)),
        ("pr_status:open,Merged pr_status:draft", ChatSearch(pr_statuses=("open", "merged", "draft"))),
        ('title:"two words"', ChatSearch(title="two words")),
        ("search:refactor", ChatSearch(search="refactor")),
        ("source:shared_with_me", ChatSearch(owned=False, shared=True)),
        ("source:shared_with_me,created_by_me", ChatSearch(owned=True, shared=True)),
        ("pr:42 repo:coder/coder", ChatSearch(pr_number=42, repo="coder/coder")),
        ('diff_url:"https://github.com/o/r/pull/1"', ChatSearch(diff_url="https://github.com/o/r/pull/1")),
        ('title:""', ChatSearch()),
    ],
)
def test_each_term_is_read_as_coderd_reads_it(q: str, expected: ChatSearch) -> None:
    assert parse_chat_search(q) == expected


@pytest.mark.parametrize(
    ("q", "validations"),
    [
        ("hello world", [{"field": "q", "detail": 'unsupported search term: "hello world"'}]),
        ("title:x hello", [{"field": "q", "detail": 'unsupported search term: "hello"'}]),
        ("archived:", [{"field": "q", "detail": "Query element \"archived:\" cannot start or end with ':'"}]),
        ("a:b:c", [{"field": "q", "detail": "Query element \"a:b:c\" can only contain 1 ':'"}]),
        (
            "archived:maybe",
            [
                {
                    "field": "archived",
                    "detail": 'Query param "archived" must be a valid boolean: '
                    'strconv.ParseBool: parsing "maybe": invalid syntax',
                }
            ],
        ),
        (
            "pr_status:open,wip",
            [
                {
                    "field": "pr_status",
                    "detail": 'Query param "pr_status" has invalid values: "wip" is not a valid value',
                }
            ],
        ),
        (
            "source:all",
            [
                {
                    "field": "source",
                    "detail": 'Query param "source" has invalid values: "all" is not a valid value',
                }
            ],
        ),
        ("pr:0", [{"field": "pr", "detail": '"0" is not a valid positive integer'}]),
        ("diff_url:ftp", [{"field": "diff_url", "detail": 'diff_url must use http or https scheme, got ""'}]),
        ("title:a search:b", [{"field": "search", "detail": '"search" cannot be combined with "title"'}]),
        (
            'search:""',
            [{"field": "search", "detail": 'Query param "search" is required and cannot be empty'}],
        ),
        ("colour:red", [{"field": "colour", "detail": '"colour" is not a valid query param'}]),
        (
            "archived:true archived:false",
            [
                {
                    "field": "archived",
                    "detail": 'Query param "archived" provided more than once, found 2 times. '
                    "Only provide 1 instance of this query param.",
                }
            ],
        ),
    ],
)
def test_a_bad_query_is_refused_with_coderds_validations(q: str, validations: list[dict[str, str]]) -> None:
    assert _refusal(q) == validations


def _titles(m: Any, q: str) -> list[str]:
    response = m.client.get("/api/v2/chats", params={"q": q}, headers=ALICE)
    assert response.status_code == 200, response.text
    return sorted(chat["title"] for chat in response.json())


def test_the_list_filters_by_each_term_over_the_callers_chats() -> None:
    with current_mock() as m:
        m.create("Refactor the parser")
        m.create("Write the docs")
        m.finish()
        answers = {
            q: _titles(m, q)
            for q in (
                "archived:false source:created_by_me",
                "title:PARSER",
                "search:docs",
                "search:nothing-matches",
                "has_unread:true",
                "has_unread:false",
                "source:shared_with_me",
                "pr_status:open",
            )
        }
    assert answers == {
        "archived:false source:created_by_me": ["Refactor the parser", "Write the docs"],
        "title:PARSER": ["Refactor the parser"],
        "search:docs": ["Write the docs"],
        "search:nothing-matches": [],
        "has_unread:true": ["Refactor the parser", "Write the docs"],  # the agent answered both
        "has_unread:false": [],
        "source:shared_with_me": [],  # nobody shares chats in the mock
        "pr_status:open": [],  # the mock's chats have no pull request
    }


def test_a_search_is_drawn_chat_by_chat_and_reads_a_transcript_only_for_a_chat_drawn() -> None:
    chats: list[Any] = [SimpleNamespace(title=title, archived=False) for title in ("one", "two", "three")]
    read: list[str] = []

    def has_unread(chat: Any) -> bool:
        read.append(chat.title)
        return True

    shown = parse_chat_search("has_unread:true").select(chats, has_unread=has_unread, texts=lambda c: ())
    assert next(shown) is chats[0] and read == ["one"]  # a page of one reads one transcript
    assert list(shown) == chats[1:] and read == ["one", "two", "three"]


def test_a_filtered_page_is_the_page_of_the_filtered_list() -> None:
    with current_mock() as m:
        for number in range(7):
            m.create(f"{'even' if number % 2 == 0 else 'odd'} {number}", labels={"n": str(number % 3)})
        m.finish()
        everything = m.client.get("/api/v2/chats", headers=ALICE).json()
        assert m.patch(everything[4]["id"], pin_order=1).status_code == 204
        everything = m.client.get("/api/v2/chats", headers=ALICE).json()
        for filters, keep in (
            ({"q": "title:even"}, lambda c: "even" in c["title"]),
            ({"q": "has_unread:true title:odd"}, lambda c: "odd" in c["title"]),
            ({"label": "n:1"}, lambda c: c["labels"] == {"n": "1"}),
            ({}, lambda c: True),
        ):
            expected = [c["id"] for c in everything if keep(c)]
            for offset in (0, 1, 5):
                for limit in (0, 1, 2, 25):
                    params = {**filters, "offset": str(offset), "limit": str(limit)}
                    page = [
                        c["id"] for c in m.client.get("/api/v2/chats", params=params, headers=ALICE).json()
                    ]
                    assert page == expected[offset:][: limit or None], params
            for after in (*expected[:2], everything[-1]["id"]):
                params = {**filters, "after_id": after, "limit": "2"}
                page = [c["id"] for c in m.client.get("/api/v2/chats", params=params, headers=ALICE).json()]
                rest = expected[expected.index(after) + 1 :] if after in expected else []
                assert page == rest[:2], params
