"""Today's API within limits: what one request may ask, refused in Coder's words before any work."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import DEMO_TOKENS, SteppingClock, create_app, seeded_uuids
from mockserver.command.capacity_options import store_limits, store_line
from mockserver.command.cli import build_parser
from mockserver.core.directory import Directory
from mockserver.core.golang import encode_json
from mockserver.core.models import Role
from mockserver.core.store import ChatStore
from mockserver.current.encoded import EncodedRows
from mockserver.current.stream import snapshot_frames
from mockserver.edge.csrf import BAD_TOKEN, MISMATCHED_AUTH
from mockserver.edge.limits import Limits
from tests.app_settings import app_settings
from tests.current_support import ALICE, ORG, Current, current_mock, text

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


def _parts(count: int, text: str = "x") -> list[dict[str, str]]:
    return [{"type": "text", "text": text} for _ in range(count)]


def _stored(mock: Current) -> tuple[list[str], int]:
    """The chats listed and the messages of each: what a refused request must leave alone."""
    chats = mock.client.get("/api/v2/chats", headers=ALICE).json()
    ids = [chat["id"] for chat in chats]
    total = sum(len(mock.messages(chat_id, "?limit=200")["messages"]) for chat_id in ids)
    return ids, total


def test_a_message_of_more_parts_than_the_limit_is_400_before_any_part_is_read() -> None:
    with current_mock(limits=Limits(max_message_parts=3)) as mock:
        chat = mock.create("hello")["id"]
        mock.finish()
        before = _stored(mock)
        # The fourth part is not even a part: the count is refused first
        over = [*_parts(3), {"type": "nonsense"}]
        answers = [
            mock.client.post("/api/v2/chats", headers=ALICE, json={"organization_id": ORG, "content": over}),
            mock.client.post(f"/api/v2/chats/{chat}/messages", headers=ALICE, json={"content": over}),
            mock.client.patch(f"/api/v2/chats/{chat}/messages/1", headers=ALICE, json={"content": over}),
        ]
        at_the_limit = mock.client.post(
            f"/api/v2/chats/{chat}/messages", headers=ALICE, json={"content": _parts(3)}
        )
        after = _stored(mock)
    for answer in answers:
        assert _answer(answer) == (
            400,
            {
                "message": "Content has too many parts.",
                "detail": "content has 4 parts; the mock takes at most 3 (--max-message-parts).",
            },
        )
    assert after[0] == before[0] and after[1] == before[1] + 1  # only the post at the limit stored
    assert at_the_limit.status_code == 200


def test_a_message_past_the_byte_limit_counts_every_parts_text_in_utf8() -> None:
    with current_mock(limits=Limits(max_message_bytes=10)) as mock:
        before = _stored(mock)
        content = [
            {"type": "text", "text": "\u00e9\u00e9\u00e9"},  # 6 bytes
            {"type": "file-reference", "file_name": "a.go", "content": "x"},  # 5 bytes
        ]
        over = mock.client.post(
            "/api/v2/chats", headers=ALICE, json={"organization_id": ORG, "content": content}
        )
        after = _stored(mock)
        at = mock.client.post(
            "/api/v2/chats", headers=ALICE, json={"organization_id": ORG, "content": content[:1] + _parts(4)}
        )
    assert _answer(over) == (
        400,
        {
            "message": "Content is too long.",
            "detail": "content is 11 bytes (UTF-8); the mock takes at most 10 (--max-message-bytes).",
        },
    )
    assert after == before
    assert at.status_code == 201


def test_v1_keeps_its_own_message_limit_words() -> None:
    assert "max_message_parts" in {field.name for field in fields(Limits)}
    with TestClient(create_app(app_settings(limits=Limits(max_message_bytes=4)))) as client:
        chat = client.post("/api/v2/chats", headers=ALICE, json={"provider": "p", "model": "m"}).json()["id"]
        over = client.post(f"/api/v2/chats/{chat}/messages", headers=ALICE, json={"content": "12345"})
    assert _answer(over) == (
        400,
        {
            "message": "content is too long",
            "detail": "content is 5 bytes; the mock takes at most 4 (--max-message-bytes).",
        },
    )


LABEL_CASES = [
    ({f"k{i}": "v" for i in range(51)}, ["too many labels (51); maximum is 50"]),
    ({"": "v"}, ["label key must not be empty"]),
    (
        {"k" * 65: "v"},
        [f'label key "{"k" * 65}" exceeds maximum length of 64 bytes'],
    ),
    (
        {"-bad key": ""},
        [
            'label key "-bad key" contains invalid characters; must match ^[a-zA-Z0-9][a-zA-Z0-9._/-]*$',
            'label value for key "-bad key" must not be empty',
        ],
    ),
    (
        {"ok\n": "v"},
        ['label key "ok\\n" contains invalid characters; must match ^[a-zA-Z0-9][a-zA-Z0-9._/-]*$'],
    ),
    ({"k": "v" * 257}, ['label value for key "k" exceeds maximum length of 256 bytes']),
]


@pytest.mark.parametrize(
    ("labels", "details"),
    LABEL_CASES,
    ids=["51", "empty key", "long key", "bad key", "newline", "long value"],
)
def test_labels_are_held_to_coderds_rules_on_create_and_update(
    mock: Current, labels: dict[str, str], details: list[str]
) -> None:
    chat = mock.create("hello", labels={"team": "a"})["id"]
    created = mock.client.post(
        "/api/v2/chats", headers=ALICE, json={"organization_id": ORG, "content": text("x"), "labels": labels}
    )
    updated = mock.patch(chat, labels=labels)
    expected = (
        400,
        {"message": "Invalid labels.", "validations": [{"field": "labels", "detail": d} for d in details]},
    )
    assert _answer(created) == expected
    assert _answer(updated) == expected
    assert mock.chat(chat)["labels"] == {"team": "a"}
    assert len(mock.client.get("/api/v2/chats", headers=ALICE).json()) == 1


def test_labels_at_coderds_limits_are_taken(mock: Current) -> None:
    labels = {f"k{i}": "v" for i in range(49)} | {"a/b.c_d-" + "k" * 55: "v" * 256}
    chat = mock.create("hello", labels=labels)
    assert chat["labels"] == labels


@pytest.mark.parametrize("path", ["/chats", "/chats/{chat}/tool-results"])
def test_bodies_coderd_reads_with_a_256_kib_limit_are_413_past_it(mock: Current, path: str) -> None:
    chat = mock.create("hello")["id"]
    before = _stored(mock)
    padding = "x" * 262_144
    body = {"organization_id": ORG, "content": text("x"), "unknown": padding}
    over = mock.client.post("/api/v2" + path.format(chat=chat), headers=ALICE, json=body)
    after = _stored(mock)
    assert _answer(over) == (
        413,
        {"message": "Request body too large.", "detail": "Maximum request body size is 262144 bytes."},
    )
    assert after == before


def test_a_body_at_the_256_kib_limit_is_read(mock: Current) -> None:
    body = {"organization_id": ORG, "content": text("x"), "unknown": ""}
    size = len(json.dumps(body, separators=(",", ":")))
    body["unknown"] = "x" * (262_144 - size)
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) == 262_144
    answer = mock.client.post(
        "/api/v2/chats", headers={**ALICE, "Content-Type": "application/json"}, content=raw
    )
    assert answer.status_code == 201


# Coder's development pair (site/vite.config.mts, site/src/api/api.ts): the cookie, and the
# same token masked with a one-time pad as the header carries it.
CSRF_COOKIE = "JXm9hOUdZctWt0ZZGAy9xiS/gxMKYOThdxjjMnMUyn4="
CSRF_MASKED = "KNKvagCBEHZK7ihe2t7fj6VeJ0UyTDco1yVUJE8N06oNqxLu5Zx1vRxZbgfC0mJJgeGkVjgs08mgPbcWPBkZ1A=="
SESSION = ALICE["Coder-Session-Token"]


def test_a_cross_site_text_plain_post_with_the_session_cookie_is_refused_before_anything(
    mock: Current,
) -> None:
    chat = mock.create("hello")["id"]
    mock.finish()
    before = _stored(mock)
    cookie = {
        "Cookie": f"coder_session_token={SESSION}",
        "Content-Type": "text/plain",
        "Origin": "https://evil.example",
    }
    body = json.dumps({"organization_id": ORG, "content": text("pwned")})
    answers = [
        mock.client.post("/api/v2/chats", headers=cookie, content=body),
        mock.client.post(f"/api/v2/chats/{chat}/messages", headers=cookie, content=body),
        mock.client.patch(f"/api/v2/chats/{chat}", headers=cookie, content='{"title": "pwned"}'),
        mock.client.delete(f"/api/v2/chats/{chat}/queue/1", headers=cookie),
        # A session cookie that names no one is refused the same: the check comes before authentication
        mock.client.post(
            "/api/v2/chats", headers={**cookie, "Cookie": "coder_session_token=nobody"}, content=body
        ),
    ]
    after = _stored(mock)
    for answer in answers:
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "text/plain; charset=utf-8"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.text == BAD_TOKEN + "\n"
    assert after == before
    assert mock.chat(chat)["title"] == "hello"


def test_a_cookie_and_a_different_header_token_get_coderds_mismatch_words(mock: Current) -> None:
    headers = {"Cookie": f"coder_session_token={SESSION}", "Coder-Session-Token": "other-token"}
    answer = mock.client.post(
        "/api/v2/chats", headers=headers, json={"organization_id": ORG, "content": text("x")}
    )
    assert (answer.status_code, answer.text) == (400, MISMATCHED_AUTH + "\n")


@pytest.mark.parametrize(
    ("extra", "query"),
    [
        (
            {
                "X-CSRF-TOKEN": CSRF_MASKED,
                "Cookie": f"coder_session_token={SESSION}; csrf_token={CSRF_COOKIE}",
            },
            "",
        ),
        (
            {
                "X-CSRF-TOKEN": CSRF_COOKIE,
                "Cookie": f"coder_session_token={SESSION}; csrf_token={CSRF_COOKIE}",
            },
            "",
        ),
        ({"Cookie": f"coder_session_token={SESSION}", "Coder-Session-Token": SESSION}, ""),
        ({"Cookie": f"coder_session_token={SESSION}"}, f"?coder_session_token={SESSION}"),
        ({"Cookie": f"coder_session_token={SESSION}", "Authorization": f"Bearer {SESSION}"}, ""),
        ({"Coder-Session-Token": SESSION}, ""),
    ],
    ids=["masked csrf token", "plain csrf token", "same header", "same query", "bearer", "no cookie"],
)
def test_writes_a_page_on_another_site_cannot_forge_are_let_through(
    mock: Current, extra: dict[str, str], query: str
) -> None:
    answer = mock.client.post(
        f"/api/v2/chats{query}", headers=extra, json={"organization_id": ORG, "content": text("x")}
    )
    assert answer.status_code == 201, answer.text


def test_a_csrf_token_that_does_not_match_its_cookie_is_refused(mock: Current) -> None:
    other = base64.b64encode(b"\x01" * 32).decode()
    for cookie in (f"csrf_token={other}", "csrf_token=not-base64", ""):
        headers = {"Cookie": f"coder_session_token={SESSION}; {cookie}", "X-CSRF-TOKEN": CSRF_MASKED}
        answer = mock.client.post(
            "/api/v2/chats", headers=headers, json={"organization_id": ORG, "content": text("x")}
        )
        assert (answer.status_code, answer.text) == (400, BAD_TOKEN + "\n")


def test_reads_with_the_cookie_alone_and_v1_writes_are_not_checked(mock: Current) -> None:
    cookie = {"Cookie": f"coder_session_token={SESSION}"}
    assert mock.client.get("/api/v2/chats", headers=cookie).status_code == 200
    with TestClient(create_app(app_settings())) as client:
        created = client.post("/api/v2/chats", headers=cookie, json={"provider": "p", "model": "m"})
    assert created.status_code == 201


def test_a_long_page_and_a_long_chat_list_go_out_in_pieces_byte_for_byte_as_one_encoding(
    mock: Current,
) -> None:
    chat = mock.create("hello")["id"]
    mock.finish()
    for n in range(4):  # 180 kB each, 420 kB encoded ("<" is escaped): pieces of 256 KiB
        assert mock.send(chat, f"{n} " + "\u00e9<" * 60_000).status_code == 200
        mock.finish()
    for n in range(600):  # about 500 bytes each: two pieces
        mock.create(f"chat {n}")
    page = mock.client.get(f"/api/v2/chats/{chat}/messages?limit=200", headers=ALICE)
    chats = mock.client.get("/api/v2/chats", headers=ALICE)
    small = mock.client.get(f"/api/v2/chats/{chat}/messages?before_id=2&limit=1", headers=ALICE)
    for answer in (page, chats):
        assert answer.status_code == 200
        assert "content-length" not in answer.headers  # sent in pieces
        assert answer.content == encode_json(answer.json())
    assert len(page.json()["messages"]) == 10 and page.json()["has_more"] is False
    assert len(chats.json()) == 601
    assert small.headers["content-length"] == str(len(small.content))  # one piece: whole
    assert small.content == encode_json(small.json())


def test_snapshot_frames_hold_at_most_256_events_and_close_past_the_size() -> None:
    events = [f'"{n}"' for n in range(600)]
    frames = list(snapshot_frames(iter(events)))
    assert [len(json.loads(f)) for f in frames] == [256, 256, 88]
    assert [e for f in frames for e in json.loads(f)] == [json.loads(e) for e in events]
    big = ['"' + "x" * 100 + '"'] * 5
    sized = list(snapshot_frames(iter(big), most_chars=250))
    assert [len(json.loads(f)) for f in sized] == [3, 2]  # closed once a frame passed 250 characters
    assert all(f.endswith("]\n") for f in sized)


def test_the_banner_says_when_the_store_is_unbounded_and_what_caps_it() -> None:
    parser = build_parser()
    unbounded = store_line(store_limits(parser.parse_args(["serve"])))
    capped = store_line(
        store_limits(parser.parse_args(["serve", "--max-chats", "20", "--max-messages", "500"]))
    )
    assert unbounded.startswith("store: unbounded, every chat and message is kept")
    assert "--max-chats / --max-messages" in unbounded
    assert capped == "store: at most 20 chats and 500 messages, the oldest chats evicted past that"


def test_an_invalid_uuid_is_echoed_whole_as_coderd_does_within_the_head_limit(mock: Current) -> None:
    raw = "a" * 10_000  # coderd's ParseUUIDParam quotes the whole segment; only the head limit bounds it
    answer = mock.client.get(f"/api/v2/chats/{raw}", headers=ALICE)
    assert _answer(answer) == (
        400,
        {"message": f'Invalid UUID "{raw}".', "detail": "invalid UUID length: 10000"},
    )


def test_encoded_messages_kept_for_later_pages_are_held_to_a_character_budget() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    alice = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
    chat = store.create_chat(
        alice, workspace_id=None, title="t", provider="p", model="m", metadata={}, system_prompt=None
    )
    rows = [
        store.append_message(chat.id, Role.USER, {"parts": [{"type": "text", "text": str(n) * 1000}]})
        for n in range(10)
    ]
    encoded = EncodedRows(message_chars=5000)
    texts = [encoded.message(row) for row in rows]
    assert all(json.loads(text)["id"] == row.id for text, row in zip(texts, rows, strict=True))
    # Then: only the newest texts that fit are kept; an old one is encoded again, a new one reused
    assert encoded.message(rows[-1]) is texts[-1]
    assert encoded.message(rows[0]) is not texts[0]
    assert encoded.message(rows[0]) == texts[0]
