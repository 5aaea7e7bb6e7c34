"""A stored row gives back exactly what was stored: its content, role and time (packed to fit 1M rows)."""

from __future__ import annotations

import marshal
import math
import random
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.models import Chat, ChatMessage, Role
from mockserver.core.store import ChatStore

ALICE = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
CHAT = UUID("6c1f9a3e-2b4d-4e8f-9a0b-1c2d3e4f5a6b")
NOW = datetime(2026, 11, 27, 10, 21, 19, 10535, tzinfo=UTC)

# JSON as Go's decoder and the generations build it: any nesting of dicts, lists (and tuples,
# which the mock's own rows use), strings with any code point, ints of any size, floats.
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(exclude_categories=())),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, a tuple is not a list, key order kept)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return math.copysign(1.0, a) == math.copysign(1.0, b) and a == b
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(content=_json, role=st.sampled_from(Role))
def test_a_row_gives_back_its_content_of_the_same_types_and_its_role(content: Any, role: Role) -> None:
    row = ChatMessage(CHAT, 7, NOW, role, content)
    assert _same(row.content, content)
    assert row.role is role
    assert (row.chat_id, row.id, row.created_at) == (CHAT, 7, NOW)


@settings(max_examples=200, deadline=None)
@given(content=_json, role=st.sampled_from(Role))
def test_a_row_of_a_content_given_packed_is_the_row_of_the_content(content: Any, role: Role) -> None:
    # Given a content marshal packs, and its stream
    packed = marshal.dumps(content)
    # When a row is made of the stream, and one of the content
    row = ChatMessage.of_packed(CHAT, 7, NOW, role, packed)
    # Then both are the same row, stored the same way
    assert _same(row.content, content)
    assert row == ChatMessage(CHAT, 7, NOW, role, content)
    assert row.row == ChatMessage(CHAT, 7, NOW, role, content).row
    assert (row.chat_id, row.id, row.created_at, row.role) == (CHAT, 7, NOW, role)


def test_a_row_of_a_content_given_packed_at_another_offset_is_kept_as_the_content() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    row = ChatMessage.of_packed(CHAT, 1, moment, Role.USER, marshal.dumps({"a": [1, "b"]}))
    assert row.row == (Role.USER, moment, {"a": [1, "b"]})


def test_a_row_gives_back_its_utc_time_exactly_for_any_moment() -> None:
    rng = random.Random(26)
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    span = (last - first) // timedelta(microseconds=1)
    moments = [first, last, NOW, NOW + timedelta(microseconds=999_999), NOW.replace(fold=1)]
    moments += [first + timedelta(microseconds=rng.randrange(span)) for _ in range(20_000)]
    for moment in moments:
        back = ChatMessage(CHAT, 1, moment, Role.USER, {}).created_at
        assert back == moment
        assert back.tzinfo is UTC
        assert back.fold == moment.fold
        assert back.isoformat() == moment.isoformat()


def test_a_time_with_another_offset_or_none_is_kept_as_it_was() -> None:
    for moment in (
        datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 3, 1, 12, 0, 0, 5),
    ):
        row = ChatMessage(CHAT, 1, moment, Role.TOOL_CALL, {"a": [1]})
        assert row.created_at is moment
        assert (row.role, row.content) == (Role.TOOL_CALL, {"a": [1]})


def test_a_content_marshal_cannot_pack_is_kept_as_the_value_itself() -> None:
    marker = object()
    row = ChatMessage(CHAT, 1, NOW, Role.TOOL, {"value": marker})
    assert row.content["value"] is marker
    assert row.role is Role.TOOL
    assert row.created_at == NOW


def test_each_read_of_a_stored_row_is_a_fresh_copy_so_changing_it_changes_nothing_stored() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(1))
    chat = store.create_chat(
        ALICE, workspace_id=None, title="", provider="p", model="m", metadata={}, system_prompt=None
    )
    sent = {"parts": [{"type": "text", "text": "hi"}]}
    stored = store.append_message(chat.id, Role.USER, sent)
    sent["parts"][0]["text"] = "changed by the caller"
    read = store.messages_of(chat.id)[0].content
    read["parts"].append({"type": "text", "text": "changed by a reader"})
    # Then
    assert store.messages_of(chat.id)[0].content == {"parts": [{"type": "text", "text": "hi"}]}
    assert stored == store.messages_of(chat.id)[0]


def test_rows_are_equal_when_their_fields_and_contents_are() -> None:
    shared = "a text held elsewhere too"  # marshal packs an object referenced twice differently
    first = ChatMessage(CHAT, 1, NOW, Role.USER, {"a": shared, "b": shared})
    second = ChatMessage(
        CHAT, 1, NOW, Role.USER, {"a": "a text held elsewhere too", "b": "a text held elsewhere too"}
    )
    assert first == second
    assert first != ChatMessage(CHAT, 1, NOW, Role.ASSISTANT, {"a": shared, "b": shared})
    assert first != ChatMessage(CHAT, 1, NOW, Role.USER, {"a": shared})


def test_a_row_matches_a_class_pattern_by_its_fields_as_before() -> None:
    match ChatMessage(CHAT, 3, NOW, Role.USER, {"parts": []}):
        case ChatMessage(chat_id, message_id, created_at, role, content):
            assert (chat_id, message_id, created_at, role, content) == (
                CHAT,
                3,
                NOW,
                Role.USER,
                {"parts": []},
            )
        case _:
            raise AssertionError("no match")


def test_a_chat_holds_each_field_it_was_built_with_and_replace_changes_only_the_one_named() -> None:
    # Given a chat built with a distinct value for every field (its __init__ sets each slot itself)
    values = {field.name: f"value of {field.name}" for field in fields(Chat)}
    chat = Chat(**values)
    # Then each field reads back its own value, and a replace changes the one it names only
    assert {name: getattr(chat, name) for name in values} == values
    replaced = replace(chat, title="new")
    assert {name: getattr(replaced, name) for name in values} == {**values, "title": "new"}
