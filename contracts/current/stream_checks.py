"""The stream grammar (WIRE.md §7.1): what a chat's stream WebSocket sends, judged as a client reads it.

Frames are JSON arrays of events for the chat; the snapshot (the messages after `after_id`, then
the status) comes first; message ids rise; the parts of a message stream before the message;
a run's stream ends with status `waiting` or `error`; the queue and an edit's reset are told;
a reconnect with `after_id` gets exactly what it missed. The frames are read by `stream_log`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any

import httpx

from contracts.checking import ScenarioContext
from contracts.current.facts import CHAT_STATUSES, IDLE_STATUSES
from contracts.current.session import create_chat, send, settle, transcript
from contracts.current.stream_log import (
    FRAMES_RULE,
    StreamLog,
    has_status,
    judge,
    message_text,
    read_until,
    run_ended,
    status_of,
)
from contracts.current.stream_socket import StreamRefused, StreamSocket, open_stream
from contracts.refusals import expect_error, invalid_uuid_message
from contracts.violations import ContractBroken

# Events are open too: a type this document does not name (a newer Coder's) is read past.
__all__ = [
    "connect",
    "stream_follows_a_run",
    "stream_reconnect_is_complete",
    "stream_refuses_like_coder",
    "stream_reports_the_queue",
    "stream_resets_history_after_an_edit",
    "stream_snapshot_comes_first",
]

# What comes only live, after the snapshot's `status` (the parts of the open step).
LIVE_ONLY_TYPES = frozenset({"message_part"})
# WIRE.md §7.1: a bad `after_id` before the upgrade.
INVALID_AFTER_ID = "Invalid after_id parameter."
# A site no server lists among its origins (RFC 2606's reserved `.invalid`).
FOREIGN_ORIGIN = "https://verify-elsewhere.invalid"


def _headers(ctx: ScenarioContext, token: str | None) -> dict[str, str]:
    return {"Coder-Session-Token": token} if token is not None else {}


def _refusable(
    ctx: ScenarioContext,
    chat: str,
    *,
    after_id: Any = None,
    token: str | None = "",
    origin: str | None = None,
) -> Any:
    """The stream of `chat` as the main user (or `token`; None: no token); a refusal raises StreamRefused."""
    chosen = ctx.token if token == "" else token
    headers = {**_headers(ctx, chosen), **({"Origin": origin} if origin else {})}
    return open_stream(ctx.target, ctx.probe.client, chat, headers, ctx.probe.tokens, after_id=after_id)


@contextmanager
def _connect(ctx: ScenarioContext, chat: str, *, after_id: Any = None) -> Iterator[StreamSocket]:
    """The stream of `chat` as the main user; a refusal of this valid handshake is a violation."""
    with ExitStack() as stack:
        try:
            socket = stack.enter_context(_refusable(ctx, chat, after_id=after_id))
        except StreamRefused as refused:
            raise ContractBroken(
                "StreamRefused",
                f"the stream of chat {chat} (after_id={after_id}) was refused: {refused}",
                subject=f"stream of chat {chat}",
            ) from None
        yield socket


# The stream as the main user, for the checks of other modules.
connect = _connect


# --- the rules -------------------------------------------------------------------------------


def stream_refuses_like_coder(ctx: ScenarioContext) -> str | None:
    """Before the upgrade: the 401, `{chat}`'s 400 and 404, 400 `Invalid after_id parameter.`, a foreign origin's 403."""
    facts = ctx.facts
    chat = create_chat(ctx, "a chat whose stream is refused", scenario="echo")["id"]
    settle(ctx, chat)
    cases: list[tuple[str, Any, str | None, int, str, str | bool | None]] = [
        (chat, None, None, 401, facts.signed_out, True),
        (chat, "x", "", 400, INVALID_AFTER_ID, 'strconv.ParseInt: parsing "x": invalid syntax'),
        (chat, "1.5", "", 400, INVALID_AFTER_ID, 'strconv.ParseInt: parsing "1.5": invalid syntax'),
        ("not-a-uuid", None, "", 400, invalid_uuid_message("not-a-uuid"), True),
        (ctx.new_uuid(), None, "", 404, facts.not_found, None),
    ]
    if ctx.other_token is not None:
        cases.append((chat, None, ctx.other_token, 404, facts.not_found, None))
    for target, after_id, token, status, message, detail in cases:
        try:
            with _refusable(ctx, target, after_id=after_id, token=token):
                pass
        except StreamRefused as refused:
            response = httpx.Response(refused.status or 0, content=refused.body.encode())
            expect_error(response, status, message, kind="WrongStreamRefusal", detail=detail)
            continue
        raise ContractBroken(
            "StreamNotRefused",
            f"the stream was opened where {status} `{message}` is due ({target}, after_id={after_id})",
        )
    # A browser's handshake from another site: coder/websocket's origin check refuses it (403).
    try:
        with _refusable(ctx, chat, origin=FOREIGN_ORIGIN):
            pass
    except StreamRefused as refused:
        if refused.status != 403:
            raise ContractBroken(
                "WrongOriginRefusal",
                f"a handshake from {FOREIGN_ORIGIN} was refused with {refused.status}, not 403",
            ) from None
    else:
        raise ContractBroken("ForeignOriginAccepted", f"the stream was opened for a page of {FOREIGN_ORIGIN}")
    # A negative after_id parses (strconv.ParseInt): the stream opens.
    with _connect(ctx, chat, after_id=-1) as socket:
        read_until(
            ctx, socket, chat, has_status, what="a status (the snapshot)", rule="stream_refuses_like_coder"
        )
    return None


def stream_snapshot_comes_first(ctx: ScenarioContext) -> str | None:
    """On connect: the messages after `after_id` (all of them without it), then the status, before anything live."""
    chat = create_chat(ctx, "a chat with a history", scenario="echo")["id"]
    settle(ctx, chat)
    send(ctx, chat, "and a second turn")
    settle(ctx, chat)
    ids = [row["id"] for row in transcript(ctx, chat)]
    for after_id in (None, ids[0], ids[-1]):
        with _connect(ctx, chat, after_id=after_id) as socket:
            log = read_until(
                ctx,
                socket,
                chat,
                has_status,
                what="a status (the snapshot)",
                rule="stream_snapshot_comes_first",
            )
        first_status = next(i for i, e in enumerate(log.events) if e.get("type") == "status")
        snapshot = log.events[: first_status + 1]
        expected = [i for i in ids if after_id is None or i > after_id]
        got = [
            e["message"].get("id")
            for e in snapshot
            if e.get("type") == "message" and isinstance(e.get("message"), dict)
        ]
        if any(e.get("type") in LIVE_ONLY_TYPES for e in snapshot):
            raise ContractBroken(
                "LiveEventBeforeSnapshot",
                "a live event came before the snapshot's status",
                evidence=log.rows(snapshot),
            )
        if got != expected:
            raise ContractBroken(
                "SnapshotNotTheTranscript",
                f"after_id={after_id}: the snapshot's messages are {got!r}, the transcript after it {expected!r}",
                evidence=log.rows(snapshot),
            )
        if status_of(snapshot[-1]) != "waiting":
            raise ContractBroken(
                "SnapshotStatusWrong", f"the idle chat's snapshot status is {status_of(snapshot[-1])!r}"
            )
    ctx.exercise(FRAMES_RULE)
    return None


def _message_ids_increase(log: StreamLog) -> None:
    ids = log.message_ids()
    if any(e.get("type") == "history_reset" for e in log.events):
        return  # a reset starts the history over: judged from there on by the snapshot rule
    if not all(isinstance(i, int) for i in ids) or any(b <= a for a, b in itertools.pairwise(ids)):
        raise ContractBroken("StreamMessageIdsNotRising", f"message ids in stream order: {ids!r}")


def _parts_precede_their_message(log: StreamLog) -> bool:
    """Text parts since the last message make the next assistant message's text; none follow it. True: parts seen."""
    streamed: list[str] = []
    after_message = False
    seen = False
    for index, event in enumerate(log.events):
        kind = event.get("type")
        if kind == "message_part":
            body = event.get("message_part") or {}
            if body.get("role") in ("user", "system"):
                continue
            part = body.get("part") or {}
            if after_message:
                raise ContractBroken(
                    "PartAfterItsMessage",
                    "a part streamed after the message that closed its step, before a preview_reset",
                    evidence=log.rows(log.events[max(0, index - 6) : index + 1]),
                )
            if part.get("type") == "text":
                streamed.append(str(part.get("text", "")))
                seen = True
        elif kind == "preview_reset":
            streamed, after_message = [], False
        elif kind == "message" and isinstance(event.get("message"), dict):
            message = event["message"]
            if message.get("role") == "assistant" and streamed and "".join(streamed) != message_text(message):
                raise ContractBroken(
                    "PartsDisagreeWithMessage",
                    f"the text streamed as parts {''.join(streamed)!r} is not the message's {message_text(message)!r}",
                    evidence=log.rows(log.events[max(0, index - 8) : index + 1]),
                )
            if message.get("role") == "assistant":
                streamed, after_message = [], bool(streamed) or after_message
    return seen


def stream_follows_a_run(ctx: ScenarioContext) -> str | None:
    """A run watched from its start: ids rise, parts precede their message, the stream ends `waiting` or `error`."""
    notes = []
    for scenario, final in (("slow", "waiting"), ("upstream-error", "error")):
        chat = create_chat(ctx, f"a run watched live ({scenario})", scenario=scenario)["id"]
        with _connect(ctx, chat) as socket:
            log = read_until(
                ctx,
                socket,
                chat,
                has_status,
                what="a status (the snapshot)",
                rule="stream_snapshot_comes_first",
            )
            if log.statuses()[0] in IDLE_STATUSES:
                notes.append(f"the `{scenario}` run had ended at connect (the agent ignored the hint)")
            read_until(
                ctx,
                socket,
                chat,
                run_ended,
                log=log,
                what="the run's end (status `waiting`, or `error` and its `error` event)",
                rule="stream_status_ends_waiting_or_error",
            )
        ended = settle(ctx, chat)
        rest_ids = [row["id"] for row in transcript(ctx, chat)]

        def status_ends(log: StreamLog = log, ended: dict[str, Any] = ended, final: str = final) -> None:
            statuses = log.statuses()
            unknown = [s for s in statuses if s not in CHAT_STATUSES]
            if unknown:
                raise ContractBroken("UnknownStreamStatus", f"statuses {unknown!r} are no ChatStatus")
            if statuses[-1] != ended.get("status"):
                raise ContractBroken(
                    "StreamStatusDisagrees",
                    f"the stream ended {statuses[-1]!r}, GET says {ended.get('status')!r}",
                )
            last = max(i for i, e in enumerate(log.events) if e.get("type") == "status")
            if statuses[-1] == "error" and not any(
                e.get("type") == "error" and isinstance(e.get("error"), dict) for e in log.events[last:]
            ):
                raise ContractBroken(
                    "ErrorStatusWithoutError", "status `error` without an `error` event after it"
                )
            told = [
                e["error"]
                for e in log.events[last:]
                if e.get("type") == "error" and isinstance(e.get("error"), dict)
            ]
            last_error = ended.get("last_error")
            if told and isinstance(last_error, dict) and told[-1].get("message") != last_error.get("message"):
                raise ContractBroken(
                    "ErrorEventDisagrees",
                    f"the `error` event says {told[-1].get('message')!r}, the chat's last_error "
                    f"{last_error.get('message')!r}",
                )

        def complete(log: StreamLog = log, rest_ids: list[Any] = rest_ids) -> None:
            _message_ids_increase(log)
            if sorted(set(log.message_ids())) != rest_ids:
                raise ContractBroken(
                    "StreamMissedMessages",
                    f"the stream sent messages {log.message_ids()!r}, the transcript is {rest_ids!r}",
                )

        judge(ctx, "stream_status_ends_waiting_or_error", log, status_ends)
        judge(ctx, "stream_message_ids_increase", log, complete)
        if ended.get("status") != final:
            notes.append(f"the `{scenario}` run ended {ended.get('status')!r}")
        if scenario == "slow" and not judge(
            ctx, "message_parts_precede_their_message", log, partial(_parts_precede_their_message, log)
        ):
            notes.append("no text part was streamed: parts were not judged")
    ctx.exercise(FRAMES_RULE)
    return "; ".join(notes) or None


def stream_reconnect_is_complete(ctx: ScenarioContext) -> str | None:
    """A client that drops mid-run and reconnects with the last id it saw gets every later message once."""
    chat = create_chat(ctx, "a run survived by a reconnect", scenario="tool-use")["id"]

    def saw_an_answer(log: StreamLog) -> bool:
        return any(m.get("role") != "user" for m in log.messages()) or run_ended(log)

    with _connect(ctx, chat) as socket:
        first = read_until(
            ctx, socket, chat, saw_an_answer, what="a message of the run", rule="stream_reconnect_is_complete"
        )
    seen = first.message_ids()
    last = max((i for i in seen if isinstance(i, int)), default=0)
    in_flight = not run_ended(first)
    with _connect(ctx, chat, after_id=last) as socket:
        second = read_until(
            ctx,
            socket,
            chat,
            run_ended,
            what="a status `waiting` or `error` after the reconnect",
            rule="stream_reconnect_is_complete",
        )
    settle(ctx, chat)
    rest_ids = [row["id"] for row in transcript(ctx, chat)]
    again = [i for i in second.message_ids() if i in seen or (isinstance(i, int) and i <= last)]
    if again:
        raise ContractBroken(
            "ReconnectRepeated",
            f"after_id={last}: the reconnect sent again messages {again!r}",
            evidence=second.rows(),
        )
    missing = sorted(set(rest_ids) - set(seen) - set(second.message_ids()))
    if missing:
        raise ContractBroken(
            "ReconnectMissed",
            f"after_id={last}: messages {missing!r} reached neither connection (first saw {seen!r}, "
            f"the reconnect {second.message_ids()!r})",
            evidence=second.rows(),
        )
    if not in_flight:
        return "the run had ended before the reconnect (the agent ignored `scenario: tool-use`): only an idle reconnect was judged"
    return None


def stream_resets_history_after_an_edit(ctx: ScenarioContext) -> str | None:
    """An edit seen live: `history_reset`, then every message that remains and those the new run writes."""
    chat = create_chat(ctx, "a turn that stays", scenario="echo")["id"]
    settle(ctx, chat)
    send(ctx, chat, "a turn to be edited")
    settle(ctx, chat)
    before = transcript(ctx, chat)
    edited = [row["id"] for row in before if row.get("role") == "user"][-1]
    with _connect(ctx, chat) as socket:
        log = read_until(
            ctx, socket, chat, has_status, what="a status (the snapshot)", rule="stream_snapshot_comes_first"
        )
        snapshot_end = len(log.events)
        response = ctx.send(
            "PATCH",
            f"/chats/{chat}/messages/{edited}",
            json_body={"content": [{"type": "text", "text": "edited"}]},
        )
        if response.status_code != 200:
            raise ContractBroken(
                "EditRefused", f"the edit answered {response.status_code}: {response.text[:200]}"
            )

        def runended_after_the_edit(log: StreamLog) -> bool:
            statuses = [status_of(e) for e in log.events[snapshot_end:] if e.get("type") == "status"]
            return bool(statuses) and statuses[-1] in IDLE_STATUSES and "running" in statuses

        read_until(
            ctx,
            socket,
            chat,
            runended_after_the_edit,
            log=log,
            what="the edited chat's run ending",
            rule="stream_resets_history_after_an_edit",
        )
    settle(ctx, chat)
    after = [row["id"] for row in transcript(ctx, chat)]
    live = log.events[snapshot_end:]
    resets = [i for i, e in enumerate(live) if e.get("type") == "history_reset"]
    if not resets:
        raise ContractBroken(
            "EditNotReset",
            f"message {edited} and what followed it were deleted, and the stream sent no history_reset",
            evidence=log.rows(live),
        )
    resent = [
        e["message"].get("id")
        for e in live[resets[-1] :]
        if e.get("type") == "message" and isinstance(e.get("message"), dict)
    ]
    # A client drops its history at the reset: it must get every message that remains, and no other.
    if sorted(set(resent)) != after:
        raise ContractBroken(
            "ResetNotFollowedByHistory",
            f"after history_reset the stream sent messages {resent!r}; the transcript is now {after!r}",
            evidence=log.rows(live),
        )
    return None


def _queue_updates(log: StreamLog) -> list[list[Any]]:
    """The queued ids of each `queue_update`, in order (`queued_messages` is omitted when empty)."""
    return [
        [q.get("id") for q in e.get("queued_messages") or [] if isinstance(q, dict)]
        for e in log.events
        if e.get("type") == "queue_update"
    ]


def stream_reports_the_queue(ctx: ScenarioContext) -> str | None:
    """A message queued while the stream is open is told by `queue_update`, and its leaving the queue too."""
    chat = create_chat(ctx, "busy while a message is queued", scenario="slow")["id"]
    with _connect(ctx, chat) as socket:
        log = read_until(
            ctx, socket, chat, has_status, what="a status (the snapshot)", rule="stream_snapshot_comes_first"
        )
        answer = send(ctx, chat, "queued while watched")
        queued = answer.get("queued_message")
        if answer.get("queued") is not True or not isinstance(queued, dict):
            settle(ctx, chat)
            return "the chat was idle at the send (the agent ignored `scenario: slow`): the queue was not exercised"
        read_until(
            ctx,
            socket,
            chat,
            run_ended,
            log=log,
            what="the run's end after the queued message ran",
            rule="stream_status_ends_waiting_or_error",
        )
    settle(ctx, chat)
    updates = _queue_updates(log)
    told = [index for index, ids in enumerate(updates) if queued.get("id") in ids]
    if not told:
        raise ContractBroken(
            "QueueNotTold",
            f"queued message {queued.get('id')} was never in a queue_update (updates: {updates!r})",
            evidence=log.rows(),
        )
    if queued.get("id") in updates[-1]:
        raise ContractBroken(
            "QueueNotToldEmptied",
            f"the last queue_update still holds {queued.get('id')}, which ran (updates: {updates!r})",
            evidence=log.rows(),
        )
    return None
