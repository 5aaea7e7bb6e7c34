"""A stream as a client reads it (WIRE.md §7.1): frames checked and gathered into a log, with a deadline.

`read_until` reads frames until a condition on what arrived holds; while no frame comes it
polls the chat over REST, as a client's spinner would (which is also what moves a virtual
clock in tests). A frame that is not a JSON array of the chat's events is a violation of
`stream_frames_are_event_arrays`; no frame that ends the wait within --expect-agent is one of
the rule the caller names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts.checking import ScenarioContext
from contracts.current.facts import IDLE_STATUSES
from contracts.current.session import fits, read_chat
from contracts.current.stream_socket import Frame, StreamSocket
from contracts.violations import ContractBroken, Violation

__all__ = [
    "FRAMES_RULE",
    "StreamLog",
    "has_status",
    "judge",
    "message_text",
    "read_until",
    "run_ended",
    "status_of",
]

FRAMES_RULE = "stream_frames_are_event_arrays"


@dataclass(slots=True)
class StreamLog:
    """What one connection received: its events in order, how many frames, and its close."""

    command: str
    events: list[dict[str, Any]] = field(default_factory=list)
    frames: int = 0
    close_code: int | None = None

    def messages(self) -> list[dict[str, Any]]:
        """The `message` events' messages, in order."""
        return [
            e["message"]
            for e in self.events
            if e.get("type") == "message" and isinstance(e.get("message"), dict)
        ]

    def message_ids(self) -> list[Any]:
        return [message.get("id") for message in self.messages()]

    def statuses(self) -> list[Any]:
        return [status_of(e) for e in self.events if e.get("type") == "status"]

    def rows(self, events: Sequence[dict[str, Any]] | None = None) -> tuple[str, ...]:
        """Events as evidence lines, one each."""
        return tuple(describe_event(index, event) for index, event in enumerate(events or self.events[-12:]))


def status_of(event: dict[str, Any]) -> Any:
    status = event.get("status")
    return status.get("status") if isinstance(status, dict) else status


def describe_event(index: int, event: dict[str, Any]) -> str:
    kind = event.get("type")
    if kind == "message" and isinstance(event.get("message"), dict):
        message = event["message"]
        return f"#{index} message id={message.get('id')} role={message.get('role')} text={message_text(message)!r}"
    if kind == "message_part" and isinstance(event.get("message_part"), dict):
        part = event["message_part"].get("part") or {}
        return f"#{index} message_part seq={event['message_part'].get('seq')} {part.get('type')} {part.get('text')!r}"
    if kind == "status":
        return f"#{index} status {status_of(event)!r}"
    return f"#{index} {kind}"


def message_text(message: dict[str, Any]) -> str:
    parts = message.get("content") or []
    return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text")


def _take(ctx: ScenarioContext, socket: StreamSocket, chat: str, log: StreamLog, frame: Frame) -> None:
    """Add a frame's events to the log; a frame that is not an array of this chat's events is a violation."""
    log.frames += 1
    value = frame.value
    problem = None
    if not isinstance(value, list) or not value:
        problem = "a frame is a non-empty JSON array of events"
    elif not all(isinstance(e, dict) and isinstance(e.get("type"), str) for e in value):
        problem = "every event is an object with a `type`"
    elif any(e.get("chat_id") != chat for e in value):
        problem = f"every event names its chat ({chat})"
    if problem:
        raise ContractBroken(
            "FrameNotAnEventArray",
            f"{problem}; frame #{log.frames}: {(frame.text or '')[:300]}",
            rule=FRAMES_RULE,
            subject=f"stream of chat {chat}",
        )
    ctx.tally.add("stream_events_read", len(value))
    for event in value:
        fits(
            ctx,
            "codersdk.ChatStreamEvent",
            event,
            f"GET /chats/{{chat}}/stream ({event['type']})",
            command=log.command,
        )
    log.events.extend(value)


def read_until(
    ctx: ScenarioContext,
    socket: StreamSocket,
    chat: str,
    done: Callable[[StreamLog], bool],
    *,
    log: StreamLog | None = None,
    what: str,
    rule: str,
) -> StreamLog:
    """Read frames until `done` holds; between frames poll the chat; past --expect-agent, a violation of `rule`."""
    log = log or StreamLog(socket.command)
    deadline = ctx.clock() + ctx.agent_timeout
    while not done(log):
        frame = socket.receive(ctx.read_slice)
        if frame is not None and frame.text is None:
            log.close_code = frame.close_code
            raise ContractBroken(
                "StreamClosedEarly",
                f"the server closed the stream ({frame.close_code}) before {what}",
                rule=rule,
                subject=f"stream of chat {chat}",
                evidence=log.rows(),
            )
        if frame is not None:
            _take(ctx, socket, chat, log, frame)
            continue
        if ctx.clock() >= deadline:
            status = read_chat(ctx, chat).get("status")
            raise ContractBroken(
                "StreamNeverShowed",
                f"no {what} on the stream within {ctx.agent_timeout:g} s (--expect-agent); the chat is {status!r}",
                rule=rule,
                subject=f"stream of chat {chat}",
                evidence=log.rows(),
            )
        read_chat(ctx, chat)  # a client's poll meanwhile (and what moves a virtual clock)
        ctx.sleep(ctx.poll_every)
    return log


def has_status(log: StreamLog) -> bool:
    return bool(log.statuses())


def run_ended(log: StreamLog) -> bool:
    """The run's last event arrived: a status `waiting`, or a status `error` and the `error` event after it.

    WIRE.md §7.1 lets a server write each event in a frame of its own: the `error` event may come
    in the frame after the status, and reading stops only once it is there.
    """
    last = max((i for i, e in enumerate(log.events) if e.get("type") == "status"), default=None)
    if last is None:
        return False
    status = status_of(log.events[last])
    if status == "error":
        return any(e.get("type") == "error" for e in log.events[last:])
    return status in IDLE_STATUSES


def judge(ctx: ScenarioContext, rule: str, log: StreamLog, check: Callable[[], bool | None]) -> bool:
    """Run one judgement of a stream; its violation is recorded under `rule`, the others still run.

    The rule is exercised unless the check says (False) that its situation did not arise.
    """
    try:
        arose = check()
    except ContractBroken as broken:
        ctx.record(
            Violation(
                broken.rule or rule,
                broken.kind,
                "GET /chats/{chat}/stream",
                broken.message,
                log.command,
                subject=broken.subject,
                evidence=broken.evidence or log.rows(),
            )
        )
        return True
    if arose is not False:
        ctx.exercise(rule)
    return arose is not False
