"""Runs under coderd's status machine (WIRE.md §4, §5): how a run ends, the queue, interrupts, edits.

A busy chat is asked of a scripted agent with the label `scenario: slow`. A server whose runs
end before verify's next request never shows a busy chat: the checks that need one say so in a
note and leave their rule not exercised, instead of failing a server for being fast.
"""

from __future__ import annotations

from typing import Any

from contracts.checking import ScenarioContext, expect_status, json_object
from contracts.current.facts import CHAT_STATUSES, transition_detail
from contracts.current.session import (
    create_chat,
    fits,
    page,
    read_chat,
    send,
    settle,
    text,
    transcript,
    user_texts,
)
from contracts.current.stream_checks import connect
from contracts.current.stream_log import StreamLog, has_status, read_until, run_ended, status_of
from contracts.refusals import expect_error
from contracts.violations import ContractBroken

__all__ = [
    "busy_chat_cannot_be_archived",
    "edit_truncates_what_follows",
    "idle_chat_refuses_busy_operations",
    "interrupt_stops_the_run",
    "promoted_message_runs_next",
    "queue_holds_messages_sent_while_busy",
    "run_ends_waiting_or_error",
    "send_runs_an_idle_chat",
]

_BUSY_STATES = ("R0", "R1", "I0", "I1", "A0", "A1")  # WIRE.md §4: the states SetArchived is refused from


def run_ends_waiting_or_error(ctx: ScenarioContext) -> str | None:
    """A run ends `waiting`; one that fails ends `error` with `last_error`, and a send runs it again."""
    chat = create_chat(ctx, "a run that ends well", scenario="echo")
    ended = settle(ctx, chat["id"])
    if ended.get("status") != "waiting":
        raise ContractBroken(
            "RunEndedWrong", f"a run that wrote its answer ends `waiting`, got {ended.get('status')!r}"
        )
    failing = create_chat(ctx, "a run that fails", scenario="upstream-error")
    ended = settle(ctx, failing["id"])
    if ended.get("status") not in CHAT_STATUSES:
        raise ContractBroken("UnknownStatus", f"status {ended.get('status')!r} is not a ChatStatus")
    if ended.get("status") != "error":
        answers = [row for row in transcript(ctx, failing["id"]) if row.get("role") != "user"]
        if not answers:
            # A run that wrote nothing did not succeed: whatever failed it, it ends `error`.
            raise ContractBroken(
                "FailedRunNotError",
                f"the run wrote no answer and ended {ended.get('status')!r} with last_error "
                f"{ended.get('last_error')!r}: a failed run ends `error` with `last_error`",
                subject=f"chat {failing['id']}",
            )
        return "no run failed (the agent answered `scenario: upstream-error`): `error` was not exercised"
    last_error = ended.get("last_error")
    if not isinstance(last_error, dict) or not isinstance(last_error.get("message"), str):
        raise ContractBroken(
            "ErrorWithoutLastError", f"a chat in `error` carries `last_error`, got {last_error!r}"
        )
    answer = send(ctx, failing["id"], "try again")
    if answer.get("queued") is not False:
        raise ContractBroken(
            "ErroredChatQueued", f"a send to an errored chat runs (E0 -> R0), answered {answer!r}"
        )
    settle(ctx, failing["id"])
    return None


def idle_chat_refuses_busy_operations(ctx: ScenarioContext) -> str | None:
    """Interrupt, delete and promote on a `waiting` chat are the 409s whose detail names the transition."""
    facts = ctx.facts
    chat = create_chat(ctx, "idle, then interrupted", scenario="echo")
    if settle(ctx, chat["id"]).get("status") != "waiting":
        return "the chat did not end `waiting`"
    response = ctx.send("POST", f"/chats/{chat['id']}/interrupt")
    expect_error(
        response,
        409,
        facts.not_interruptible,
        kind="IdleChatNotRefused",
        detail=transition_detail("Interrupt", "W"),
    )
    # An unknown queued id on a chat without a queue: whether the state (409) or the lookup (404)
    # answers first was not read (WIRE.md §5), so either is Coder's.
    cases = (
        ("DELETE", "queue/1", facts.nothing_to_delete, "DeleteQueuedMessage"),
        ("POST", "queue/1/promote", facts.nothing_to_promote, "PromoteQueuedMessage"),
    )
    for method, tail, message, transition in cases:
        response = ctx.send(method, f"/chats/{chat['id']}/{tail}")
        if response.status_code == 404:
            expect_error(response, 404, facts.queued_not_found, kind="IdleChatNotRefused")
        else:
            expect_error(
                response, 409, message, kind="IdleChatNotRefused", detail=transition_detail(transition, "W")
            )
    if read_chat(ctx, chat["id"]).get("status") != "waiting":
        raise ContractBroken("RefusalChangedStatus", "a refused operation moved the chat out of `waiting`")
    return None


def busy_chat_cannot_be_archived(ctx: ScenarioContext) -> str | None:
    """Archiving a running chat is the 409 (`SetArchived` from a busy state) and leaves it unarchived."""
    chat = create_chat(ctx, "busy, then archived", scenario="slow")
    response = ctx.send("PATCH", f"/chats/{chat['id']}", json_body={"archived": True})
    after = read_chat(ctx, chat["id"])
    if response.status_code == 409:
        expect_error(response, 409, ctx.facts.archive_active, kind="WrongArchiveConflict", detail=True)
        detail = str(response.json().get("detail"))
        if detail not in {transition_detail("SetArchived", state) for state in _BUSY_STATES}:
            raise ContractBroken(
                "WrongArchiveConflict", f"detail {detail!r} names no busy state of SetArchived"
            )
        if after.get("archived") is not False:
            raise ContractBroken("BusyChatArchived", "the refused archive archived the chat")
        settle(ctx, chat["id"])
        return None
    expect_status(response, 204, "ArchiveRefused")
    if after.get("archived") is True and after.get("status") not in ("waiting", "error"):
        raise ContractBroken(
            "BusyChatArchived",
            f"the archive was accepted and the chat is archived and {after.get('status')!r}",
        )
    settle(ctx, chat["id"])
    return "the run had ended before the archive (the agent ignored `scenario: slow`): not exercised"


def send_runs_an_idle_chat(ctx: ScenarioContext) -> str | None:
    """A send to a `waiting` chat stores the message and runs it: `queued: false`, the message, no queue."""
    chat = create_chat(ctx, "first", scenario="echo")
    settle(ctx, chat["id"])
    answer = send(ctx, chat["id"], "second")
    message = answer.get("message")
    if answer.get("queued") is not False or "queued_message" in answer or not isinstance(message, dict):
        raise ContractBroken("IdleSendQueued", f"a send to an idle chat runs at once, answered {answer!r}")
    inserted = answer.get("messages")
    if inserted is not None and [row.get("id") for row in inserted if isinstance(row, dict)] != [
        message.get("id")
    ]:
        raise ContractBroken(
            "InsertedMessagesDiffer", f"`messages` is not the one message stored: {inserted!r}"
        )
    first_page = page(ctx, chat["id"])
    if first_page["queued_messages"]:
        raise ContractBroken("IdleSendQueued", f"the queue holds {first_page['queued_messages']!r}")
    settle(ctx, chat["id"])
    if user_texts(transcript(ctx, chat["id"])) != ["first", "second"]:
        raise ContractBroken(
            "SentMessageNotStored", f"user messages: {user_texts(transcript(ctx, chat['id']))!r}"
        )
    return None


def _queue_ids(ctx: ScenarioContext, chat_id: str) -> list[Any]:
    return [row.get("id") for row in page(ctx, chat_id)["queued_messages"] if isinstance(row, dict)]


def _queued(ctx: ScenarioContext, chat_id: str, message: str, **body: Any) -> dict[str, Any] | None:
    """Send to a busy chat: the queued message, or None when the chat was idle (the send ran)."""
    answer = send(ctx, chat_id, message, **body)
    if answer.get("queued") is not True:
        return None
    queued = answer.get("queued_message")
    if not isinstance(queued, dict) or not isinstance(queued.get("id"), int) or "message" in answer:
        raise ContractBroken(
            "QueuedAnswerWrong",
            f"`queued: true` answers the queued_message alone, got {answer!r}",
            rule="queue_holds_messages_sent_while_busy",
        )
    if queued.get("chat_id") != chat_id or user_texts([{"role": "user", **queued}]) != [message]:
        raise ContractBroken(
            "QueuedAnswerWrong",
            f"the queued message is not the one sent: {queued!r}",
            rule="queue_holds_messages_sent_while_busy",
        )
    return queued


def queue_holds_messages_sent_while_busy(ctx: ScenarioContext) -> str | None:
    """A send to a busy chat is queued and listed; a queued message can be deleted; the queue runs after the turn."""
    facts = ctx.facts
    chat = create_chat(ctx, "busy for a while", scenario="slow")
    first = _queued(ctx, chat["id"], "queued first")
    if first is None:
        settle(ctx, chat["id"])
        return (
            "the chat was idle at the send (the agent ignored `scenario: slow`): the queue was not exercised"
        )
    second = _queued(ctx, chat["id"], "queued then deleted")
    if second is None:
        settle(ctx, chat["id"])
        return "the chat went idle between two sends: deleting from the queue was not exercised"
    listed = _queue_ids(ctx, chat["id"])
    if second["id"] not in listed and read_chat(ctx, chat["id"]).get("status") in ("waiting", "error"):
        settle(ctx, chat["id"])
        return "the run and the queue behind it had ended before the listing: the queue was not exercised"
    # The first may have left the queue to run already (its turn came); what is queued is in order.
    expected = [first["id"], second["id"]] if first["id"] in listed else [second["id"]]
    if [i for i in listed if i in (first["id"], second["id"])] != expected:
        raise ContractBroken(
            "QueueNotListed", f"queued_messages ids {listed!r}, sent {first['id']}, {second['id']}"
        )
    response = ctx.send("DELETE", f"/chats/{chat['id']}/queue/{second['id']}")
    expect_status(response, 204, "QueuedDeleteRefused")
    if second["id"] in _queue_ids(ctx, chat["id"]):
        raise ContractBroken(
            "DeletedQueuedStillListed", f"queued message {second['id']} is listed after its delete"
        )
    response = ctx.send("DELETE", f"/chats/{chat['id']}/queue/{second['id']}")
    if response.status_code != 409:  # the queue may have drained meanwhile: then the state refuses first
        expect_error(response, 404, facts.queued_not_found, kind="DeletedQueuedFoundAgain")
    response = ctx.send("DELETE", f"/chats/{chat['id']}/queue/x")
    expect_error(response, 400, facts.invalid_queued_id, kind="BadQueuedIdNotRefused", detail=True)
    settle(ctx, chat["id"])
    texts = user_texts(transcript(ctx, chat["id"]))
    if texts != ["busy for a while", "queued first"]:
        raise ContractBroken("QueueNotRun", f"after the run, user messages are {texts!r}")
    if _queue_ids(ctx, chat["id"]):
        raise ContractBroken("QueueNotRun", "the queue is not empty once the chat waits")
    return None


def promoted_message_runs_next(ctx: ScenarioContext) -> str | None:
    """Promoting the second queued message answers 202 and runs it before the first."""
    chat = create_chat(ctx, "busy, then reordered", scenario="slow")
    first = _queued(ctx, chat["id"], "queued A")
    second = _queued(ctx, chat["id"], "queued B") if first is not None else None
    if first is None or second is None:
        settle(ctx, chat["id"])
        return "the chat was idle at a send (the agent ignored `scenario: slow`): promotion was not exercised"
    if _queue_ids(ctx, chat["id"])[:2] != [first["id"], second["id"]]:
        settle(ctx, chat["id"])
        return "the queue head had begun to run before the promotion: promotion was not exercised"
    response = ctx.send("POST", f"/chats/{chat['id']}/queue/{second['id']}/promote")
    expect_status(response, 202, "PromotionRefused")
    if json_object(response, "PromotionAnswerWrong").get("message") != ctx.facts.promotion_accepted:
        raise ContractBroken(
            "PromotionAnswerWrong", f"expected {ctx.facts.promotion_accepted!r}: {response.text}"
        )
    settle(ctx, chat["id"])
    texts = user_texts(transcript(ctx, chat["id"]))
    if texts != ["busy, then reordered", "queued B", "queued A"]:
        raise ContractBroken("PromotedNotFirst", f"after the promotion, user messages ran as {texts!r}")
    return None


def interrupt_stops_the_run(ctx: ScenarioContext) -> str | None:
    """Interrupt answers the chat `interrupting`, which ends `waiting`; `busy_behavior: interrupt` runs next."""
    chat = create_chat(ctx, "busy, then stopped", scenario="slow")
    with connect(ctx, chat["id"]) as socket:
        log = read_until(
            ctx,
            socket,
            chat["id"],
            has_status,
            what="a status (the snapshot)",
            rule="interrupt_stops_the_run",
        )
        response = ctx.send("POST", f"/chats/{chat['id']}/interrupt")
        if response.status_code == 409:
            settle(ctx, chat["id"])
            return (
                "the run had ended before the interrupt (the agent ignored `scenario: slow`): not exercised"
            )
        read_until(
            ctx,
            socket,
            chat["id"],
            run_ended,
            log=log,
            what="the interrupted run's end",
            rule="interrupt_stops_the_run",
        )
    _judge_interrupted(log)
    expect_status(response, 200, "InterruptRefused")
    answered = fits(
        ctx, "codersdk.Chat", json_object(response, "InterruptAnswerWrong"), "POST /chats/{chat}/interrupt"
    )
    if answered.get("id") != chat["id"] or answered.get("status") != "interrupting":
        raise ContractBroken(
            "InterruptAnswerWrong", f"expected the chat `interrupting`, got {answered.get('status')!r}"
        )
    ended = settle(ctx, chat["id"])
    if ended.get("status") != "waiting":
        raise ContractBroken(
            "InterruptedChatNotWaiting", f"an interrupted run ends `waiting`, got {ended.get('status')!r}"
        )
    other = create_chat(ctx, "busy, then cut in", scenario="slow")
    queued = _queued(ctx, other["id"], "cutting in", busy_behavior="interrupt")
    if queued is None:
        settle(ctx, other["id"])
        return "the chat was idle at the interrupting send: `busy_behavior: interrupt` was not exercised"
    status = read_chat(ctx, other["id"]).get("status")
    if status not in ("interrupting", "running"):
        raise ContractBroken("InterruptingSendIgnored", f"after an interrupting send the chat is {status!r}")
    settle(ctx, other["id"])
    texts = user_texts(transcript(ctx, other["id"]))
    if texts != ["busy, then cut in", "cutting in"]:
        raise ContractBroken(
            "InterruptingSendNotRun", f"after the interrupting send, user messages are {texts!r}"
        )
    return None


# Parts a run may still have in flight when it is told to stop (WIRE.md §5 interrupt, §7.1).
IN_FLIGHT_PARTS = 2


def _judge_interrupted(log: StreamLog) -> None:
    """After the stream tells `interrupting`, only the run's end: its partial answer, then `waiting`.

    The run stops: no new step (no `running` again, no tool message, at most the one assistant
    message that keeps what was streamed), and no more than the parts already in flight.
    """
    start = next((i for i, e in enumerate(log.events) if status_of(e) == "interrupting"), None)
    if start is None:
        return  # the stream went straight to the end (the interrupt took effect at once)
    after = log.events[start + 1 :]
    parts = [e for e in after if e.get("type") == "message_part"]
    messages = [
        e["message"] for e in after if e.get("type") == "message" and isinstance(e.get("message"), dict)
    ]
    statuses = [status_of(e) for e in after if e.get("type") == "status"]
    problem = None
    if "running" in statuses or "requires_action" in statuses:
        problem = f"the run went on after `interrupting` (statuses {statuses!r})"
    elif len(parts) > IN_FLIGHT_PARTS:
        problem = f"{len(parts)} message parts streamed after `interrupting`: the run went on generating"
    elif len(messages) > 1 or any(m.get("role") != "assistant" for m in messages):
        roles = [m.get("role") for m in messages]
        problem = f"after `interrupting` the run stored {roles!r}: more than the one partial answer"
    if problem:
        raise ContractBroken(
            "InterruptDidNotStopTheRun", problem, evidence=log.rows(log.events[start : start + 14])
        )


def edit_truncates_what_follows(ctx: ScenarioContext) -> str | None:
    """Editing a user message removes it and every later message, answers their ids, and runs the new one."""
    facts = ctx.facts
    chat = create_chat(ctx, "to be edited", scenario="echo")
    settle(ctx, chat["id"])
    send(ctx, chat["id"], "to be dropped")
    settle(ctx, chat["id"])
    before = transcript(ctx, chat["id"])
    users = [row["id"] for row in before if row.get("role") == "user"]
    others = [row["id"] for row in before if row.get("role") != "user"]
    path = f"/chats/{chat['id']}/messages"
    if others:
        response = ctx.send("PATCH", f"{path}/{others[-1]}", json_body={"content": text("no")})
        expect_error(response, 400, facts.not_user_message, kind="NonUserEditNotRefused")
    response = ctx.send("PATCH", f"{path}/0", json_body={"content": text("no")})
    expect_error(
        response,
        400,
        facts.invalid_message_id,
        kind="BadMessageIdNotRefused",
        detail=facts.invalid_message_id_detail,
    )
    response = ctx.send("PATCH", f"{path}/{before[-1]['id'] + 1000}", json_body={"content": text("no")})
    expect_error(
        response,
        404,
        facts.message_not_found,
        kind="UnknownMessageEdited",
        detail=facts.message_not_found_detail,
    )
    edited = users[0]
    response = ctx.send("PATCH", f"{path}/{edited}", json_body={"content": text("  edited  ")})
    expect_status(response, 200, "EditRefused")
    answer = fits(
        ctx,
        "codersdk.EditChatMessageResponse",
        json_object(response, "EditAnswerWrong"),
        "PATCH /chats/{chat}/messages/{message}",
    )
    message = answer.get("message")
    removed = sorted(row["id"] for row in before if row["id"] >= edited)
    if not isinstance(message, dict) or user_texts([message]) != ["edited"]:
        raise ContractBroken("EditAnswerWrong", f"the answer's message is not the edit: {message!r}")
    if not isinstance(message.get("id"), int) or message["id"] <= before[-1]["id"]:
        raise ContractBroken("EditReusedAnId", f"the replacement's id {message.get('id')!r} is not new")
    deleted = answer.get("deleted_message_ids")
    if not isinstance(deleted, list) or sorted(deleted) != removed:
        raise ContractBroken("EditDeletedWrongIds", f"deleted_message_ids {deleted!r}, expected {removed!r}")
    settle(ctx, chat["id"])
    after = transcript(ctx, chat["id"])
    kept = [row["id"] for row in after if row["id"] < edited]
    if kept != [row["id"] for row in before if row["id"] < edited] or {row["id"] for row in after} & set(
        removed
    ):
        raise ContractBroken(
            "EditDidNotTruncate", f"ids before {[r['id'] for r in before]}, after {[r['id'] for r in after]}"
        )
    if user_texts(after) != ["edited"]:
        raise ContractBroken("EditDidNotTruncate", f"user messages after the edit: {user_texts(after)!r}")
    return None
