"""The store's change events: what a chat's and an owner's listeners hear, and the stream position."""

from __future__ import annotations

import marshal
from uuid import UUID

from mockserver.core.changes import (
    ChatChanged,
    ChatEvent,
    MessagesDeleted,
    PreviewReset,
    QueueChanged,
    RetryScheduled,
)
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.models import ChatMessage, ChatStatus, LivePart, Role
from mockserver.core.store import ChatStore

ALICE = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])


def _store() -> ChatStore:
    return ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))


def test_an_owner_listener_hears_creation_and_every_field_change_of_its_chats() -> None:
    store = _store()
    heard: list[ChatChanged] = []
    store.subscribe_owner(ALICE.id, heard.append)
    # When
    chat = store.create_chat(
        ALICE, workspace_id=None, title="t", provider="p", model="m", metadata={}, status=ChatStatus.RUNNING
    )
    store.update_chat(chat.id, status=ChatStatus.WAITING)
    # Then
    assert [(c.previous is None, c.chat.status) for c in heard] == [
        (True, ChatStatus.RUNNING),
        (False, ChatStatus.WAITING),
    ]


def test_a_chat_listener_hears_each_change_in_order() -> None:
    store = _store()
    chat = store.create_chat(ALICE, workspace_id=None, title="t", provider="p", model="m", metadata={})
    heard: list[ChatEvent] = []
    store.subscribe(chat.id, heard.append)
    run = UUID(int=9)
    # When
    queued = store.enqueue(chat.id, {"n": 1})
    store.publish_partial(chat.id, run, "text", {"text": "a"})
    store.publish_retry(chat.id, {"attempt": 1})
    store.publish_reset(chat.id)
    store.append_message(chat.id, Role.ASSISTANT, {"n": 2})
    store.pop_queued(chat.id)
    store.clear_queue(chat.id)  # empty already: nothing to say
    store.delete_messages_from(chat.id, 2)
    store.update_chat(chat.id, title="u")
    # Then
    assert [type(e) for e in heard] == [
        QueueChanged,
        LivePart,
        RetryScheduled,
        PreviewReset,
        ChatMessage,
        QueueChanged,
        MessagesDeleted,
        ChatChanged,
    ]
    assert heard[0] == QueueChanged(chat.id, (queued,))
    assert heard[5] == QueueChanged(chat.id, ())


def test_the_stream_position_keeps_the_open_preview_until_the_next_row() -> None:
    store = _store()
    chat = store.create_chat(ALICE, workspace_id=None, title="t", provider="p", model="m", metadata={})
    run = UUID(int=9)
    store.publish_partial(chat.id, run, "text", {"text": "a"})
    store.publish_reset(chat.id)
    store.publish_partial(chat.id, run, "text", {"text": "b"})
    store.publish_retry(chat.id, {"attempt": 1})
    # Then: the preview of the second attempt, the pending retry
    during = store.stream_position(chat.id)
    assert [p.part for p in during.preview] == [{"text": "b"}]
    assert (during.history_version, during.generation_attempt, during.retry) == (1, 1, {"attempt": 1})
    # When: the step's row is stored
    store.append_message(chat.id, Role.ASSISTANT, {"n": 1})
    after = store.stream_position(chat.id)
    assert (after.history_version, after.generation_attempt, after.preview, after.retry) == (2, 0, (), None)
    assert not after.truncated
    store.delete_messages_from(chat.id, 2)
    assert store.stream_position(chat.id).truncated


def test_rows_written_at_once_are_stored_and_counted_as_one_by_one() -> None:
    unwatched, watched = _store(), _store()
    heard: list[ChatEvent] = []
    rows = [(Role.SYSTEM, {"n": 1}), (Role.ASSISTANT, {"n": 2}), (Role.SYSTEM, {"n": 3})]
    for store in (unwatched, watched):
        chat = store.create_chat(ALICE, workspace_id=None, title="t", provider="p", model="m", metadata={})
        if store is watched:
            store.subscribe(chat.id, heard.append)
        store.publish_partial(chat.id, UUID(int=9), "text", {"text": "a"})
        # When
        store.append_messages(chat.id, rows)
        # Then
        messages = store.messages_of(chat.id)
        assert [(m.id, m.role, m.content) for m in messages[1:]] == [
            (2 + i, role, content) for i, (role, content) in enumerate(rows)
        ]
        assert len({m.created_at for m in messages}) == 4  # each row read the clock
        assert store.message_count == 4
        position = store.stream_position(chat.id)
        assert (position.history_version, position.preview) == (4, ())
    assert [type(e) for e in heard] == [LivePart, ChatMessage, ChatMessage, ChatMessage]


def test_rows_given_packed_are_stored_and_heard_as_the_same_rows_given_whole() -> None:
    rows = [(Role.SYSTEM, {"n": 1}), (Role.ASSISTANT, {"n": [2, "two"]}), (Role.SYSTEM, {"n": None})]
    packed = [(role, marshal.dumps(content)) for role, content in rows]
    for watched in (False, True):
        whole, given_packed = _store(), _store()
        heard: dict[ChatStore, list[ChatEvent]] = {whole: [], given_packed: []}
        for store in (whole, given_packed):
            chat = store.create_chat(
                ALICE, workspace_id=None, title="t", provider="p", model="m", metadata={}
            )
            if watched:
                store.subscribe(chat.id, heard[store].append)
            # When
            if store is whole:
                first = store.append_message(chat.id, Role.USER, {"text": "hi"})
                store.append_messages(chat.id, rows)
            else:
                first = store.append_packed_message(chat.id, Role.USER, marshal.dumps({"text": "hi"}))
                store.append_packed_messages(chat.id, packed)
            assert first == store.messages_of(chat.id)[1]  # after the system prompt
        # Then the same rows, ids, times, counts and events
        assert whole.messages_of(whole.chats_of(ALICE)[0].id) == given_packed.messages_of(
            given_packed.chats_of(ALICE)[0].id
        )
        assert whole.message_count == given_packed.message_count == 5
        assert heard[whole] == heard[given_packed]
        assert len(heard[whole]) == (4 if watched else 0)


def _created_with_message(store: ChatStore) -> tuple[object, ...]:
    chat = store.create_chat_with_message(
        ALICE,
        {"parts": []},
        workspace_id=None,
        title="t",
        provider="p",
        model="m",
        metadata={},
        labels={"k": "v"},
        status=ChatStatus.RUNNING,
    )
    return (
        chat,
        store.chat(chat.id),
        tuple(store.list_messages(ALICE, chat.id)),
        store.stream_position(chat.id),
    )


def test_a_chat_created_with_its_message_is_the_chat_created_then_written_then_touched() -> None:
    by_steps = _store()
    chat = by_steps.create_chat(
        ALICE,
        workspace_id=None,
        title="t",
        provider="p",
        model="m",
        metadata={},
        labels={"k": "v"},
        system_prompt=None,
        status=ChatStatus.RUNNING,
    )
    by_steps.append_message(chat.id, Role.USER, {"parts": []})
    touched = by_steps.update_chat(chat.id)
    expected = (
        touched,
        touched,
        tuple(by_steps.list_messages(ALICE, chat.id)),
        by_steps.stream_position(chat.id),
    )
    followed = _store()
    heard: list[ChatChanged] = []
    followed.subscribe_owner(ALICE.id, heard.append)
    # When
    unseen = _created_with_message(_store())
    seen = _created_with_message(followed)
    # Then: the same chat (both instants), row and stream position, built once or in steps
    assert unseen == expected
    assert seen == expected
    assert touched.created_at < expected[2][0].created_at < touched.updated_at
    assert [(c.previous is None, c.chat.updated_at) for c in heard] == [
        (True, touched.created_at),
        (False, touched.updated_at),
    ]
