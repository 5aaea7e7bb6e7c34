"""Today's API within limits: what one request may ask, refused in Coder's words before any work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.current_support import ALICE, Current, current_mock

HUGE = "9" * 5000  # past Python's own limit on integer digits (4300)


@pytest.fixture
def mock() -> Iterator[Current]:
    with current_mock() as current:
        yield current


def _answer(response: Any) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()


def _digits_detail(func: str, text: str) -> str:
    return f'strconv.{func}: parsing "{text}": value out of range'


def test_integers_too_long_for_python_answer_in_gos_words_everywhere(mock: Current) -> None:
    chat = mock.create("/slow hello")["id"]
    messages = f"/api/v2/chats/{chat}/messages"
    answers = {
        name: _answer(mock.client.request(method, path, headers=ALICE))
        for name, method, path in [
            ("before_id", "GET", f"{messages}?before_id={HUGE}"),
            ("after_id", "GET", f"{messages}?after_id={HUGE}"),
            ("limit", "GET", f"{messages}?limit={HUGE}"),
            ("list limit", "GET", f"/api/v2/chats?limit={HUGE}"),
            ("delete queued", "DELETE", f"/api/v2/chats/{chat}/queue/{HUGE}"),
            ("promote queued", "POST", f"/api/v2/chats/{chat}/queue/{HUGE}/promote"),
            ("stream after_id", "GET", f"/api/v2/chats/{chat}/stream?after_id={HUGE}"),
        ]
    }
    for name in ("before_id", "after_id"):
        detail = f'Query param "{name}" must be a valid 64-bit positive integer: '
        assert answers[name] == (
            400,
            {
                "message": "Query parameters have invalid values.",
                "validations": [{"field": name, "detail": detail + _digits_detail("ParseInt", HUGE)}],
            },
        )
    assert answers["limit"][1]["validations"][0]["detail"].endswith(_digits_detail("ParseInt", HUGE))
    assert answers["list limit"][1]["validations"][0]["detail"] == (
        'Query param "limit" must be a valid integer: ' + _digits_detail("Atoi", HUGE)
    )
    for name in ("delete queued", "promote queued"):
        assert answers[name] == (
            400,
            {"message": "Invalid queued message ID.", "detail": _digits_detail("ParseInt", HUGE)},
        )
    assert answers["stream after_id"] == (
        400,
        {"message": "Invalid after_id parameter.", "detail": _digits_detail("ParseInt", HUGE)},
    )
    assert not any("4300" in str(answer) for answer in answers.values())


def test_leading_zeros_do_not_make_an_integer_too_long(mock: Current) -> None:
    chat = mock.create("hello")["id"]
    mock.finish()
    page = mock.client.get(f"/api/v2/chats/{chat}/messages?limit={'0' * 5000}2", headers=ALICE)
    assert page.status_code == 200
    assert len(page.json()["messages"]) == 2
