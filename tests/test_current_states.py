"""Today's chat status machine, transition by transition (openapi/current/WIRE.md section 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.current_support import ALICE, Current, current_mock, text, text_of


@pytest.fixture
def mock() -> Iterator[Current]:
    with current_mock() as current:
        yield current


def test_a_new_chat_runs_its_first_message_then_waits(mock: Current) -> None:
    # When a chat is created
    chat = mock.create("Hello")
    # Then it runs (CreateChat: N -> R0) and its transcript holds the user message
    assert chat["status"] == "running"
    assert [m["role"] for m in mock.transcript(chat["id"])] == ["user"]
    # When its turn ends (FinishTurn: R0 -> W)
    mock.finish()
    assert mock.status(chat["id"]) == "waiting"
    user, assistant = mock.transcript(chat["id"])
    assert text_of(user) == "Hello"
    assert text_of(assistant) == "You said: Hello"
    assert (
        assistant["usage"]["total_tokens"]
        == assistant["usage"]["input_tokens"] + assistant["usage"]["output_tokens"]
    )


def test_send_to_an_idle_chat_stores_and_runs_it(mock: Current) -> None:
    chat = mock.create()
    mock.finish()
    # When a message is sent to a waiting chat (SendMessage: W -> R0)
    response = mock.send(chat["id"], "Again")
    # Then it is stored, not queued, and the chat runs
    assert response.status_code == 200
    body = response.json()
    assert body["queued"] is False
    assert text_of(body["message"]) == "Again"
    assert body["messages"] == [body["message"]]
    assert "queued_message" not in body
    assert mock.status(chat["id"]) == "running"


def test_send_while_running_queues_and_the_queue_head_runs_next(mock: Current) -> None:
    chat = mock.create("/slow first")
    # When a message is sent while the chat runs (SendMessage: R0 -> R1)
    body = mock.send(chat["id"], "second").json()
    # Then it waits in the queue
    assert body["queued"] is True
    assert "message" not in body
    assert text_of({"content": body["queued_message"]["content"]}) == "second"
    page = mock.messages(chat["id"])
    assert [q["id"] for q in page["queued_messages"]] == [body["queued_message"]["id"]]
    # When the running turn ends (FinishTurn: R1 -> R0): the queue head becomes a message and runs
    mock.finish()
    assert mock.status(chat["id"]) == "waiting"
    assert mock.messages(chat["id"])["queued_messages"] == []
    texts = [text_of(m) for m in mock.transcript(chat["id"]) if m["role"] == "user"]
    assert texts == ["/slow first", "second"]


def test_send_with_interrupt_stops_the_turn_and_runs_the_queued_message(mock: Current) -> None:
    chat = mock.create("/slow first")
    mock.scheduler.advance(1.2)  # the slow answer has streamed its first chunks
    # When a message is sent with busy_behavior interrupt (SendMessage: R0 -> I1)
    body = mock.send(chat["id"], "stop and do this", busy_behavior="interrupt").json()
    assert body["queued"] is True
    assert mock.status(chat["id"]) == "interrupting"
    # When the interruption finishes (FinishInterruption: I1 -> R0), and the queued turn (an echo) ends
    mock.scheduler.advance(0)
    # Then the streamed part of the answer was kept and the queued message ran
    assert mock.status(chat["id"]) == "waiting"
    roles = [(m["role"], text_of(m)) for m in mock.transcript(chat["id"])]
    assert roles == [
        ("user", "/slow first"),
        ("assistant", "Thinking about "),
        ("user", "stop and do this"),
        ("assistant", "You said: stop and do this"),
    ]


def test_interrupt_stops_a_running_turn_and_keeps_what_it_streamed(mock: Current) -> None:
    chat = mock.create("/slow tell me")
    mock.scheduler.advance(1.7)
    # When the chat is interrupted (Interrupt: R0 -> I0)
    response = mock.post(f"/chats/{chat['id']}/interrupt")
    assert response.status_code == 200
    assert response.json()["status"] == "interrupting"
    # Then (FinishInterruption: I0 -> W) it waits, with the partial answer stored
    mock.scheduler.advance(0)
    assert mock.status(chat["id"]) == "waiting"
    partial = mock.transcript(chat["id"])[-1]
    assert partial["role"] == "assistant"
    assert text_of(partial) == 'Thinking about "/slow tell me" '
    # And the stopped turn writes nothing more
    mock.finish()
    assert len(mock.transcript(chat["id"])) == 2


@pytest.mark.parametrize("when", ["waiting", "interrupting"])
def test_interrupt_of_a_chat_not_running_is_409(mock: Current, when: str) -> None:
    chat = mock.create("/slow x")
    if when == "waiting":
        mock.finish()
        state = "W"
    else:
        mock.post(f"/chats/{chat['id']}/interrupt")
        state = "I0"
    response = mock.post(f"/chats/{chat['id']}/interrupt")
    assert response.status_code == 409
    assert response.json() == {
        "message": "Chat is not in an interruptible state.",
        "detail": f"chat state transition Interrupt not allowed from state {state}",
    }


def test_a_failing_turn_leaves_the_chat_in_error_and_a_send_recovers_it(mock: Current) -> None:
    chat = mock.create("/upstream-error now")
    # When the turn fails (FinishError: R0 -> E0)
    mock.finish()
    errored = mock.chat(chat["id"])
    assert errored["status"] == "error"
    assert errored["last_error"] == {
        "message": "anthropic: 529 Overloaded: the model is overloaded, try again later",
        "kind": "generic",
        "provider": "anthropic",
        "retryable": True,
    }
    assert [m["role"] for m in mock.transcript(chat["id"])] == ["user"]  # a failed step stores nothing
    # When a message is sent (SendMessage: E0 -> R0): it runs and the error is cleared
    assert mock.send(chat["id"], "try again").json()["queued"] is False
    running = mock.chat(chat["id"])
    assert running["status"] == "running"
    assert "last_error" not in running


def test_an_errored_chat_with_a_queue_runs_its_head_on_the_next_send(mock: Current) -> None:
    chat = mock.create("/upstream-error now")
    head = mock.send(chat["id"], "queued first").json()["queued_message"]
    # When the turn fails with a message queued (FinishError: R1 -> E1): the queue is kept
    mock.finish()
    assert mock.status(chat["id"]) == "error"
    assert [q["id"] for q in mock.messages(chat["id"])["queued_messages"]] == [head["id"]]
    # When another message is sent (SendMessage: E1 -> R1)
    body = mock.send(chat["id"], "queued second").json()
    # Then the old head runs now (its message is in `messages`) and the new one waits
    assert body["queued"] is True
    assert [text_of(m) for m in body["messages"]] == ["queued first"]
    assert text_of({"content": body["queued_message"]["content"]}) == "queued second"
    assert mock.status(chat["id"]) == "running"


def test_delete_queued_message(mock: Current) -> None:
    chat = mock.create("/slow x")
    first = mock.send(chat["id"], "one").json()["queued_message"]["id"]
    second = mock.send(chat["id"], "two").json()["queued_message"]["id"]
    # When a queued message is deleted (DeleteQueuedMessage: R1 -> R1)
    assert mock.client.delete(f"/api/v2/chats/{chat['id']}/queue/{first}", headers=ALICE).status_code == 204
    assert [q["id"] for q in mock.messages(chat["id"])["queued_messages"]] == [second]
    # When an id the queue does not hold is deleted: 404
    missing = mock.client.delete(f"/api/v2/chats/{chat['id']}/queue/{first}", headers=ALICE)
    assert (missing.status_code, missing.json()) == (404, {"message": "Queued message not found."})
    # When the last one goes (R1 -> R0), then the turn ends: only the first message was answered
    mock.client.delete(f"/api/v2/chats/{chat['id']}/queue/{second}", headers=ALICE)
    mock.finish()
    assert [text_of(m) for m in mock.transcript(chat["id"]) if m["role"] == "user"] == ["/slow x"]


def test_queue_operations_on_a_chat_without_a_queue_are_409(mock: Current) -> None:
    chat = mock.create()
    mock.finish()
    deleted = mock.client.delete(f"/api/v2/chats/{chat['id']}/queue/1", headers=ALICE)
    assert deleted.status_code == 409
    assert deleted.json() == {
        "message": "Chat has no queued messages to delete.",
        "detail": "chat state transition DeleteQueuedMessage not allowed from state W",
    }
    promoted = mock.post(f"/chats/{chat['id']}/queue/1/promote")
    assert promoted.status_code == 409
    assert promoted.json() == {
        "message": "Chat has no queued messages to promote.",
        "detail": "chat state transition PromoteQueuedMessage not allowed from state W",
    }


def test_promote_on_a_running_chat_interrupts_and_runs_the_promoted_message_next(mock: Current) -> None:
    chat = mock.create("/slow x")
    mock.send(chat["id"], "one")
    second = mock.send(chat["id"], "two").json()["queued_message"]["id"]
    # When the second queued message is promoted (PromoteQueuedMessage: R1 -> I1)
    response = mock.post(f"/chats/{chat['id']}/queue/{second}/promote")
    assert (response.status_code, response.json()) == (202, {"message": "Queued message promotion accepted."})
    assert mock.status(chat["id"]) == "interrupting"
    # Then, the interruption done, it runs before the first (each an echo, over at once)
    mock.scheduler.advance(0)
    users = [text_of(m) for m in mock.transcript(chat["id"]) if m["role"] == "user"]
    assert users == ["/slow x", "two", "one"]
    assert mock.messages(chat["id"])["queued_messages"] == []


def test_promote_on_an_errored_chat_runs_the_message_at_once(mock: Current) -> None:
    chat = mock.create("/upstream-error x")
    mock.send(chat["id"], "one")
    second = mock.send(chat["id"], "two").json()["queued_message"]["id"]
    mock.finish()
    assert mock.status(chat["id"]) == "error"
    # When a queued message is promoted (PromoteQueuedMessage: E1 -> R1)
    assert mock.post(f"/chats/{chat['id']}/queue/{second}/promote").status_code == 202
    assert mock.status(chat["id"]) == "running"
    users = [text_of(m) for m in mock.transcript(chat["id"]) if m["role"] == "user"]
    assert users == ["/upstream-error x", "two"]
    missing = mock.post(f"/chats/{chat['id']}/queue/999/promote")
    assert (missing.status_code, missing.json()) == (404, {"message": "Queued message not found."})


def test_edit_truncates_what_follows_and_runs_the_replacement(mock: Current) -> None:
    chat = mock.create("first")
    mock.finish()
    mock.send(chat["id"], "second")
    mock.finish()
    before = mock.transcript(chat["id"])
    first_id = before[0]["id"]
    # When the first user message is edited (EditMessage: W -> R0)
    response = mock.client.patch(
        f"/api/v2/chats/{chat['id']}/messages/{first_id}",
        headers=ALICE,
        json={"content": text("first, edited")},
    )
    assert response.status_code == 200
    body = response.json()
    # Then it and every later message are gone, and the replacement (a new id) runs
    assert body["deleted_message_ids"] == [m["id"] for m in before]
    assert body["message"]["id"] > before[-1]["id"]
    assert text_of(body["message"]) == "first, edited"
    assert body["messages"] == [body["message"]]
    assert mock.status(chat["id"]) == "running"
    mock.finish()
    assert [text_of(m) for m in mock.transcript(chat["id"])] == ["first, edited", "You said: first, edited"]


def test_edit_while_running_with_a_queue_clears_the_queue_and_drops_the_turn(mock: Current) -> None:
    chat = mock.create("/slow x")
    mock.send(chat["id"], "queued")
    first_id = mock.transcript(chat["id"])[0]["id"]
    # When the running chat's message is edited (EditMessage: R1 -> R0)
    response = mock.client.patch(
        f"/api/v2/chats/{chat['id']}/messages/{first_id}",
        headers=ALICE,
        json={"content": text("edited")},
    )
    assert response.status_code == 200
    assert mock.messages(chat["id"])["queued_messages"] == []
    mock.finish()
    assert [text_of(m) for m in mock.transcript(chat["id"])] == ["edited", "You said: edited"]


def test_archive_hides_the_chat_and_unarchive_brings_it_back(mock: Current) -> None:
    chat = mock.create()
    # When a running chat is archived: 409 (SetArchived only from W, E0, E1)
    busy = mock.patch(chat["id"], archived=True)
    assert busy.status_code == 409
    assert busy.json() == {
        "message": "Cannot archive an active chat. Interrupt or wait for the chat to finish first.",
        "detail": "chat state transition SetArchived not allowed from state R0",
    }
    mock.finish()
    # When the idle chat is archived (SetArchived: W -> XW)
    assert mock.patch(chat["id"], archived=True).status_code == 204
    assert mock.chat(chat["id"])["archived"] is True
    # Then the default list hides it and `archived:true` shows it
    assert mock.client.get("/api/v2/chats", headers=ALICE).json() == []
    archived = mock.client.get("/api/v2/chats?q=archived:true", headers=ALICE).json()
    assert [c["id"] for c in archived] == [chat["id"]]
    # When it is unarchived (SetArchived: XW -> W)
    assert mock.patch(chat["id"], archived=False).status_code == 204
    assert [c["id"] for c in mock.client.get("/api/v2/chats", headers=ALICE).json()] == [chat["id"]]
