"""Today's rows as JSON text, written in pieces, read exactly as the wire shapes encoded at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from mockserver.core.golang import encode_json_text
from mockserver.core.models import Chat, ChatMessage, ChatStatus, Role
from mockserver.current.catalog import ModelCatalog
from mockserver.current.encoded import EncodedRows, encode_chat, encode_message
from mockserver.current.wire import chat_json, message_json

CHAT = UUID("6c1f9a3e-2b4d-4e8f-9a0b-1c2d3e4f5a6b")
NOW = datetime(2026, 11, 27, 10, 21, 19, 10535, tzinfo=UTC)

# Any text, the characters Go escapes for HTML among them.
_text = st.text(alphabet=st.characters(exclude_categories=[]) | st.sampled_from('<>&\u2028\u2029"\\'))
_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
# Parts as they are stored: a type and a text alone (in either order), or with other fields.
_part = st.one_of(
    st.builds(lambda kind, text: {"type": kind, "text": text}, st.sampled_from(["text", "reasoning"]), _text),
    st.builds(lambda kind, text: {"text": text, "type": kind}, st.sampled_from(["text", "reasoning"]), _text),
    st.builds(lambda kind: {"type": kind}, st.sampled_from(["text", "file"])),
    st.builds(
        lambda kind, text, extra: {"type": kind, "text": text, **extra},
        st.sampled_from(["reasoning", "tool-call", "tool-result", "text"]),
        _text,
        st.dictionaries(
            st.sampled_from(["created_at", "tool_call_id", "tool_name", "args", "result", "is_error"]),
            _value,
            min_size=1,
        ),
    ),
    st.builds(lambda value: {"type": "text", "text": value}, _value),
)
_content = st.fixed_dictionaries(
    {"parts": st.lists(_part, max_size=3)},
    optional={
        "created_by": st.sampled_from(["", str(CHAT)]),
        "model_config_id": st.sampled_from(["", "9a1b2c3d-0000-4000-8000-000000000001"]),
        "usage": st.dictionaries(st.sampled_from(["input_tokens", "output_tokens"]), st.integers(0, 9999)),
    },
)


@settings(max_examples=300, deadline=None)
@given(content=_content, role=st.sampled_from(list(Role)), message_id=st.integers(1, 2**40))
def test_a_message_encoded_in_pieces_is_its_wire_shape_encoded_at_once(
    content: dict[str, Any], role: Role, message_id: int
) -> None:
    message = ChatMessage(CHAT, message_id, NOW, role, content)

    assert encode_message(message) == encode_json_text(message_json(message))


@settings(max_examples=100, deadline=None)
@given(content=_content, message_id=st.integers(1, 2**40))
def test_a_message_encoded_from_the_content_it_was_stored_with_is_its_wire_shape(
    content: dict[str, Any], message_id: int
) -> None:
    message = ChatMessage(CHAT, message_id, NOW, Role.USER, content)
    rows = EncodedRows()

    assert rows.message(message, content) == encode_json_text(message_json(message))
    assert rows.message(ChatMessage(CHAT, message_id + 1, NOW, Role.USER, content)) == encode_json_text(
        message_json(ChatMessage(CHAT, message_id + 1, NOW, Role.USER, content))
    )


_chat = st.builds(
    Chat,
    id=st.uuids(),
    created_at=st.just(NOW),
    updated_at=st.datetimes(timezones=st.just(UTC)),
    organization_id=st.uuids(),
    owner_id=st.uuids(),
    workspace_id=st.none() | st.uuids(),
    title=_text,
    provider=st.just("openai"),
    model=st.just("gpt-4o"),
    metadata=st.fixed_dictionaries(
        {},
        optional={
            "mode": st.sampled_from(["", "root"]) | _value,
            "plan_mode": st.sampled_from(["", "plan"]),
            "client_type": st.sampled_from(["ui", "api"]) | _value,
            "dynamic_tools": st.lists(_text, max_size=2),
        },
    ),
    status=st.sampled_from(list(ChatStatus)),
    archived=st.booleans(),
    pin_order=st.integers(0, 2**31),
    labels=st.dictionaries(_text, _text, max_size=3),
    last_error=st.none() | st.dictionaries(st.sampled_from(["message", "kind", "status_code"]), _value),
)


@settings(max_examples=300, deadline=None)
@given(chat=_chat, has_unread=st.booleans())
def test_a_chat_encoded_in_pieces_is_its_wire_shape_encoded_at_once(chat: Chat, has_unread: bool) -> None:
    model = ModelCatalog(DEFAULT_ORGANIZATION_ID).default

    assert encode_chat(chat, model, has_unread=has_unread) == encode_json_text(
        chat_json(chat, model, has_unread=has_unread)
    )
