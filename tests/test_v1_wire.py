"""The seed's write answers, formatted around their values, are the bytes encoding them whole gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.golang import encode_json
from mockserver.core.models import Chat, Role
from mockserver.core.store import ChatStore
from mockserver.v1.agent import user_message_envelope
from mockserver.v1.wire import chat_answer, chat_json, message_json, posted_message_answer

ALICE = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
NOW = datetime(2026, 11, 27, 10, 21, 19, 10535, tzinfo=UTC)

# What a client may send: any valid text (Go's HTML escapes, U+2028/9, controls, quotes, emoji).
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]))
_tricky = st.sampled_from(["", "<b>&amp;</b>", 'say "hi"\\', "line\u2028sep\u2029", "\x00\x1f\x7f", "é🙂"])
_strings = _text | _tricky
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_strings, inner, max_size=3),
    max_leaves=10,
)


@given(
    title=_strings,
    provider=_strings,
    model=_strings,
    metadata=_json,
    workspace=st.none() | st.uuids(version=4),
    updated_later=st.booleans(),
    spelt=st.booleans(),
)
def test_a_chat_answer_is_its_chat_json_encoded(
    title: str,
    provider: str,
    model: str,
    metadata: Any,
    workspace: UUID | None,
    updated_later: bool,
    spelt: bool,
) -> None:
    chat = Chat(
        id=UUID(int=7, version=4),
        created_at=NOW,
        updated_at=NOW + timedelta(microseconds=990_000) if updated_later else NOW,
        organization_id=ALICE.organization_id,
        owner_id=ALICE.id,
        workspace_id=workspace,
        title=title,
        provider=provider,
        model=model,
        metadata=metadata,
    )
    known = (
        {ALICE.id.int: str(ALICE.id), ALICE.organization_id.int: str(ALICE.organization_id)}
        if spelt
        else None
    )
    assert chat_answer(chat, known) == encode_json(chat_json(chat, known))


@given(text=_strings, seconds=st.integers(min_value=0, max_value=10**6))
def test_a_posted_message_answer_is_its_row_encoded(text: str, seconds: int) -> None:
    # A time with and without a fraction: Go trims the fraction's zeros.
    start = NOW.replace(microsecond=0) + timedelta(seconds=seconds)
    store = ChatStore(clock=SteppingClock(start, timedelta(microseconds=250_000)), new_id=seeded_uuids(3))
    chat = store.create_chat(ALICE, workspace_id=None, title="", provider="p", model="m", metadata={})
    run = "0b7e1c52-6f0e-4c8e-9d55-3f7a3c1e2d4b"
    for _ in range(4):
        message = store.append_message(chat.id, Role.USER, user_message_envelope(run, text))
        assert posted_message_answer(run, message, text) == encode_json(
            {"run_id": run, "message": message_json(message)}
        )
