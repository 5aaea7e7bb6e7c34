"""The control plane's input is bounded: patterns match without backtracking, latency has a ceiling."""

from __future__ import annotations

import asyncio
import re

import pytest
from starlette.testclient import TestClient

from mockserver.control.faults import MAX_LATENCY_MS, MAX_RULES, FaultMiddleware, FaultRule, Faults
from mockserver.control.paths import PathPattern
from mockserver.core.stopping import Stopping


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/chats", "/api/v2/chats", True),
        ("/chats", "/api/v2/chats/x", False),
        ("/chats/{chat}", "/api/v2/chats/abc", True),
        ("/chats/{chat}", "/api/v2/chats/", False),  # {name} is one segment, not empty
        ("/chats/*", "/api/v2/chats/", True),  # * may be empty
        ("/chats/*/messages", "/api/v2/chats/a/b/messages", False),  # * is one segment only
        ("/chats/**", "/api/v2/chats/a/b/messages", True),
        ("/chats/**", "/api/v2/chats", False),  # ** is one segment or more
        ("/chats/**/messages", "/api/v2/chats/a/messages", True),
        ("/chats/**/messages", "/api/v2/chats/messages", False),
        ("/chats/**/**/messages", "/api/v2/chats/a/messages", False),  # two or more
        ("/chats/**/**/messages", "/api/v2/chats/a/b/c/messages", True),
        ("/**/messages/**", "/api/v2/chats/a/messages/watch-ws", True),
        ("/chats/a*b*c", "/api/v2/chats/axxbyyc", True),
        ("/chats/a*b*c", "/api/v2/chats/abcab", False),
        ("/chats/ab*ba", "/api/v2/chats/aba", False),  # the pieces may not overlap
        ("/chats/x{id}y", "/api/v2/chats/xy", False),
        ("/api/**", "/api/v2/chats", True),
        ("/api/v2/ui/**", "/api/v2/ui/swagger-ui.css", True),
        ("**", "/anything/at/all", True),
    ],
)
def test_path_patterns_match_segment_by_segment(pattern: str, path: str, matches: bool) -> None:
    assert PathPattern(pattern).matches(path) is matches


def test_a_pattern_of_many_double_stars_against_a_long_path_is_answered_at_once() -> None:
    # The case: each `**` was `.*` in a regex, and 30 of them held the CPU for minutes.
    # Segment by segment, the answer costs the path's segments times the pattern's.
    pattern = PathPattern("/**" * 30 + "/x")
    path = "/api/v2" + "/a" * 200

    assert pattern.matches(path) is False
    assert pattern.matches(path + "/x") is True


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("/chats/a**", "'**' stands for whole segments"),
        ("/" + "a" * 1100, "at most 1024 characters"),
        ("/a" * 70, "at most 64 segments"),
        ("chats", "starts with '/'"),
    ],
)
def test_a_pattern_that_cannot_be_matched_as_written_is_refused(pattern: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        PathPattern(pattern)


@pytest.mark.parametrize(
    "rule",
    [
        {"latency_ms": MAX_LATENCY_MS + 1},
        {"latency_ms": 10**30},
        {"path": "/chats/x**", "status": 500},
        {"path": "/" + "x" * 2000, "status": 500},
    ],
    ids=["a minute and a millisecond", "1e30", "** inside a segment", "a 2000-character path"],
)
def test_a_rule_that_cannot_be_honoured_is_400_and_not_added(
    client: TestClient, rule: dict[str, object]
) -> None:
    answer = client.post("/__mock/faults", json=rule)

    assert answer.status_code == 400
    assert set(answer.json()) <= {"message", "detail"}
    assert client.get("/__mock/faults").json() == {"faults": []}


@pytest.mark.parametrize("method", ["BREW", "GETS", "", "GET /", "G\u00c9T"])
def test_a_rule_naming_no_http_method_is_400(client: TestClient, method: str) -> None:
    answer = client.post("/__mock/faults", json={"method": method, "status": 500})

    assert answer.status_code == 400
    assert answer.json()["message"] == "Invalid fault rule."
    assert answer.json()["detail"].startswith("method must be one of GET, HEAD, POST")
    assert client.get("/__mock/faults").json() == {"faults": []}


@pytest.mark.parametrize("method", ["patch", "OPTIONS", "*"])
def test_a_rule_naming_an_http_method_in_any_case_or_every_method_is_taken(
    client: TestClient, method: str
) -> None:
    assert client.post("/__mock/faults", json={"method": method, "status": 500}).status_code == 201


def test_a_rule_at_the_latency_ceiling_is_taken(client: TestClient) -> None:
    assert client.post("/__mock/faults", json={"latency_ms": MAX_LATENCY_MS}).status_code == 201


def test_rules_past_the_most_in_force_are_400(client: TestClient) -> None:
    for _ in range(MAX_RULES):
        assert client.post("/__mock/faults", json={"status": 500, "path": "/nowhere"}).status_code == 201

    answer = client.post("/__mock/faults", json={"status": 500})

    assert answer.status_code == 400
    assert answer.json() == {
        "message": "Invalid fault rule.",
        "detail": f"at most {MAX_RULES} fault rules are in force at once; remove some first",
    }


def test_a_start_up_file_with_an_infinite_latency_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="finite"):
        FaultRule.from_json({"latency_ms": float("inf")})


def test_a_request_held_by_a_latency_rule_is_let_go_when_the_server_begins_to_stop() -> None:
    stopping = Stopping()
    answered: list[int] = []

    async def inner(scope: object, receive: object, send: object) -> None:
        answered.append(200)

    layer = FaultMiddleware(
        inner, faults=Faults([FaultRule(latency_ms=MAX_LATENCY_MS)]), sleep=stopping.sleep
    )

    async def scenario() -> None:
        request = asyncio.ensure_future(
            layer({"type": "http", "method": "GET", "path": "/api/v2/chats"}, _never, _never)
        )
        await asyncio.sleep(0)  # the request is held by the rule's minute
        # When
        stopping.begin()
        await request

    asyncio.run(scenario())
    # Then it went on at once, and was answered
    assert answered == [200]


async def _never(*_: object) -> None:
    raise AssertionError("not used")  # pragma: no cover
