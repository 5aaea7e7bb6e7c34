"""The engine against a model of coderd's status machine, under any interleaving (Hypothesis).

The model is transcribed from openapi/current/WIRE.md section 4 (chatstate's matrix and the
server's own transitions), independently of `mockserver.current.states`. Hypothesis drives the
engine with client operations (sends that queue or interrupt, interrupts, edits, queue deletes
and promotes, tool results, archive and unarchive) between single ticks of the injected
ManualScheduler, where turns stream, pause for tools, fail and end. After every operation and
every tick the engine must agree with the model; at the end every accepted message has run,
unless it was deleted (by a queue delete or an edit) or its chat is archived. Seeded and bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mockserver import ManualScheduler, SteppingClock, seeded_uuids
from mockserver.core.directory import DEFAULT_ORGANIZATION_ID, DEMO_TOKENS, Directory
from mockserver.core.errors import DomainError, MessageNotFound, QueuedMessageNotFound
from mockserver.core.models import Role
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.store import ChatStore
from mockserver.current.catalog import ModelCatalog
from mockserver.current.engine import ChatArchived, ChatEngine, QueueFull
from mockserver.current.states import TransitionNotAllowed
from mockserver.current.stream_wire import pending_tool_calls
from mockserver.current.turns import TurnRunner

QUEUE_LIMIT = 3  # small, so that sends meet a full queue too

# How a message's turn plays (the built-in scenarios its text selects).
SCENARIOS = {
    "answer": "",  # one step, then the turn ends
    "slow": "/slow",  # ten chunks over 5.5 s
    "tools": "/tool-use",  # server tools over three steps
    "client": "/client-tool",  # waits for the client's tool result (requires_action)
    "fail": "/upstream-error",  # the provider fails: error
}

# --- the model (WIRE.md section 4) ---------------------------------------------------------------

# (status, archived, queue non-empty) -> state name; anything else is no state of the machine.
STATES = {
    ("waiting", False, False): "W",
    ("error", False, False): "E0",
    ("error", False, True): "E1",
    ("running", False, False): "R0",
    ("running", False, True): "R1",
    ("interrupting", False, False): "I0",
    ("interrupting", False, True): "I1",
    ("requires_action", False, False): "A0",
    ("requires_action", False, True): "A1",
    ("waiting", True, False): "XW",
    ("error", True, False): "XE0",
    ("error", True, True): "XE1",
}
BUSY = {"R0", "R1", "I0", "I1", "A0", "A1"}
QUEUE_BEARING = {"E1", "R1", "I1", "A1"}
ARCHIVABLE = {"W", "E0", "E1"}
UNARCHIVABLE = {"XW", "XE0", "XE1"}

# What the server does by itself (FinishTurn, FinishError, FinishInterruption, EnterRequiresAction):
# (from, to, whether the queue head ran).
SERVER_STEPS = {
    ("R0", "W", False),
    ("R1", "R0", True),
    ("R1", "R1", True),
    ("R0", "E0", False),
    ("R1", "E1", False),
    ("I0", "W", False),
    ("I1", "R0", True),
    ("I1", "R1", True),
    ("R0", "A0", False),
    ("R1", "A1", False),
}


@dataclass
class Model:
    """A chat as coderd's machine sees it: its status, archive flag and queue (message texts)."""

    status: str = "running"
    archived: bool = False
    queue: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return STATES.get((self.status, self.archived, bool(self.queue)), "Invalid")


class EngineAgainstCoderd(RuleBasedStateMachine):
    """One chat of the engine and the model, driven in step."""

    def __init__(self) -> None:
        super().__init__()
        new_id = seeded_uuids(27)
        self.scheduler = ManualScheduler()
        self.store = ChatStore(clock=SteppingClock(), new_id=new_id)
        runner = TurnRunner(
            self.store, self.scheduler, ScenarioLibrary.builtin(), clock=SteppingClock(), new_id=new_id
        )
        self.engine = ChatEngine(
            self.store, runner, self.scheduler, ModelCatalog(DEFAULT_ORGANIZATION_ID), queue_limit=QUEUE_LIMIT
        )
        self.owner = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
        self.count = 0
        first = self._text("slow")
        chat = self.engine.create(
            self.owner,
            title="machine",
            model=self.engine.catalog.default,
            labels={},
            parts=_parts(first),
            workspace_id=None,
            attributes={},
        )
        self.chat_id: UUID = chat.id
        self.model = Model()  # CreateChat: N -> R0
        self.accepted: set[str] = {first}
        self.ran: set[str] = set()
        self.deleted: set[str] = set()
        self._saw_transcript()

    # --- helpers -----------------------------------------------------------------------------

    def _text(self, scenario: str) -> str:
        self.count += 1
        return f"{SCENARIOS[scenario]} m{self.count}".strip()

    def _engine_state(self) -> str:
        chat = self.store.chat(self.chat_id)
        queued = bool(self.store.queue_of(self.chat_id))
        return STATES.get((chat.status.value, chat.archived, queued), "Invalid")

    def _queue_texts(self) -> list[str]:
        return [_text_of(q.content["parts"]) for q in self.store.queue_of(self.chat_id)]

    def _queued_id(self, text: str) -> int:
        return next(q.id for q in self.store.queue_of(self.chat_id) if _text_of(q.content["parts"]) == text)

    def _user_texts(self) -> list[str]:
        return [
            _text_of(m.content["parts"]) for m in self.store.messages_of(self.chat_id) if m.role is Role.USER
        ]

    def _saw_transcript(self) -> None:
        self.ran.update(self._user_texts())

    def _expect(self, refusal: type[DomainError] | None, call: Any) -> Any:
        """Run `call`; it must raise `refusal` (and change nothing) or succeed when None."""
        before = (self._engine_state(), self._queue_texts(), len(self.store.messages_of(self.chat_id)))
        if refusal is None:
            return call()
        try:
            call()
        except refusal:
            after = (self._engine_state(), self._queue_texts(), len(self.store.messages_of(self.chat_id)))
            assert after == before, "a refused operation changed the chat"
            return None
        raise AssertionError(f"expected {refusal.__name__}")

    def _tick(self) -> bool:
        """One scheduler callback; the change it made must be one of the server's own transitions."""
        before, queue = self.model.state, list(self.model.queue)
        if not self.scheduler.step():
            return False
        after, now_queued = self._engine_state(), self._queue_texts()
        if (after, now_queued) == (before, queue):
            return True  # a streamed chunk, a step of a turn: no transition
        head_ran = bool(queue) and now_queued == queue[1:]
        assert head_ran or now_queued == queue, f"the queue changed by itself: {queue} -> {now_queued}"
        assert (before, after, head_ran) in SERVER_STEPS, f"no such server transition: {before} -> {after}"
        if head_ran:
            assert self._user_texts()[-1] == queue[0], "the queue head is the message that ran"
            self.model.queue.pop(0)
        self.model.status = self.store.chat(self.chat_id).status.value
        self._saw_transcript()
        return True

    # --- time ----------------------------------------------------------------------------------

    def _let_time_pass(self, ticks: int) -> None:
        for _ in range(ticks):
            if not self._tick():
                return

    @rule(ticks=st.integers(min_value=1, max_value=12))
    def time_passes(self, ticks: int) -> None:
        self._let_time_pass(ticks)

    # --- client operations --------------------------------------------------------------------

    @rule(
        scenario=st.sampled_from(sorted(SCENARIOS)),
        interrupt=st.booleans(),
        ticks=st.integers(min_value=0, max_value=6),
    )
    def send(self, scenario: str, interrupt: bool, ticks: int = 0) -> None:
        self._let_time_pass(ticks)
        text = self._text(scenario)
        state, model = self.model.state, self.model
        appends = state not in ("W", "E0")
        if model.archived:
            refusal: type[DomainError] | None = ChatArchived
        elif appends and len(model.queue) >= QUEUE_LIMIT:
            refusal = QueueFull
        else:
            refusal = None
        result = self._expect(
            refusal,
            lambda: self.engine.send(self.owner, self.chat_id, _parts(text), interrupt=interrupt, model=None),
        )
        if refusal is not None:
            return
        self.accepted.add(text)
        if state in ("W", "E0"):
            assert result.queued is None and result.message is not None
            model.status = "running"
        else:
            assert result.queued is not None and result.message is None
            model.queue.append(text)
            if state == "E1":
                model.queue.pop(0)  # the head runs now, the new message waits
                model.status = "running"
            elif interrupt and state in ("R0", "R1"):
                model.status = "interrupting"
            elif interrupt and state in ("A0", "A1"):
                model.status = "running"  # the pending calls are answered with an error
        self._saw_transcript()

    @rule(archive=st.booleans())
    def a_turn_fails_with_messages_queued(self, archive: bool) -> None:
        """Sends that reach E1 (FinishError R1 -> E1) and maybe XE1: rare by chance, so asked for."""
        if self.model.archived:
            return
        self.send("fail", interrupt=False, ticks=0)
        self.send("answer", interrupt=False, ticks=0)
        if self.model.state == "R1":
            self.send("answer", interrupt=False, ticks=0)
        while self.model.state in BUSY and self._tick():
            pass
        if archive:
            self.set_archived(archived=True, ticks=0)

    @rule(ticks=st.integers(min_value=0, max_value=6))
    def interrupt(self, ticks: int) -> None:
        self._let_time_pass(ticks)
        state = self.model.state
        if self.model.archived:
            refusal: type[DomainError] | None = ChatArchived
        elif state not in ("R0", "R1", "A0", "A1"):
            refusal = TransitionNotAllowed
        else:
            refusal = None
        self._expect(refusal, lambda: self.engine.interrupt(self.chat_id))
        if refusal is None:
            self.model.status = "interrupting" if state in ("R0", "R1") else "running"

    @rule(
        which=st.integers(min_value=0, max_value=50),
        scenario=st.sampled_from(sorted(SCENARIOS)),
        ticks=st.integers(min_value=0, max_value=6),
    )
    def edit(self, which: int, scenario: str, ticks: int) -> None:
        self._let_time_pass(ticks)
        users = [m for m in self.store.messages_of(self.chat_id) if m.role is Role.USER]
        if not users:
            return
        target = users[which % len(users)]
        text = self._text(scenario)
        refusal = ChatArchived if self.model.archived else None
        self._expect(
            refusal, lambda: self.engine.edit(self.owner, self.chat_id, target.id, _parts(text), None)
        )
        if refusal is not None:
            return
        # EditMessage: -> R0 from every state; the queue is emptied, its messages will never run.
        self.accepted.add(text)
        self.deleted.update(self.model.queue)
        self.model.queue.clear()
        self.model.status = "running"
        self._saw_transcript()

    @rule()
    def edit_a_message_of_another_chat(self) -> None:
        if not self.model.archived:
            self._expect(
                MessageNotFound, lambda: self.engine.edit(self.owner, self.chat_id, 10**9, _parts("x"), None)
            )

    @rule(which=st.integers(min_value=0, max_value=10), ticks=st.integers(min_value=0, max_value=6))
    def delete_queued(self, which: int, ticks: int) -> None:
        self._let_time_pass(ticks)
        state, queue = self.model.state, self.model.queue
        if state not in QUEUE_BEARING:
            self._expect(TransitionNotAllowed, lambda: self.engine.delete_queued(self.chat_id, 1))
            return
        target = queue[which % len(queue)]
        self.engine.delete_queued(self.chat_id, self._queued_id(target))
        queue.remove(target)
        self.deleted.add(target)

    @rule(which=st.integers(min_value=0, max_value=10), ticks=st.integers(min_value=0, max_value=6))
    def promote(self, which: int, ticks: int = 0) -> None:
        self._let_time_pass(ticks)
        state, model = self.model.state, self.model
        if model.archived:
            self._expect(ChatArchived, lambda: self.engine.promote(self.chat_id, 1))
            return
        if state not in QUEUE_BEARING:
            self._expect(TransitionNotAllowed, lambda: self.engine.promote(self.chat_id, 1))
            return
        target = model.queue[which % len(model.queue)]
        self.engine.promote(self.chat_id, self._queued_id(target))
        model.queue.remove(target)
        model.queue.insert(0, target)
        if state in ("E1", "A1"):
            model.queue.pop(0)  # it runs at once
            model.status = "running"
        else:
            model.status = "interrupting"  # R1 -> I1 (I1 stays): it runs once the turn stopped
        self._saw_transcript()

    @rule()
    def promote_an_unknown_queued_message(self) -> None:
        if self.model.state in QUEUE_BEARING:
            self._expect(QueuedMessageNotFound, lambda: self.engine.promote(self.chat_id, 10**9))

    @rule(wrong=st.booleans(), ticks=st.integers(min_value=0, max_value=6))
    def submit_tool_results(self, wrong: bool, ticks: int = 0) -> None:
        self._let_time_pass(ticks)
        state = self.model.state
        calls = pending_tool_calls(self.store.messages_of(self.chat_id))
        results: list[dict[str, Any]] = [
            {"tool_call_id": c["tool_call_id"], "output": {"ok": True}} for c in calls
        ]
        if wrong or not results:
            results = [{"tool_call_id": "call_nobody_made", "output": 1}]
        if self.model.archived:
            refusal: type[DomainError] | None = ChatArchived
        elif state not in ("A0", "A1"):
            refusal = TransitionNotAllowed
        elif wrong:
            refusal = DomainError  # ToolResultsInvalid
        else:
            refusal = None
        self._expect(refusal, lambda: self.engine.submit_tool_results(self.chat_id, results))
        if refusal is None:
            self.model.status = "running"  # A0 -> R0, A1 -> R1

    @rule(archived=st.booleans(), ticks=st.integers(min_value=0, max_value=6))
    def set_archived(self, archived: bool, ticks: int = 0) -> None:
        self._let_time_pass(ticks)
        state = self.model.state
        allowed = state in (ARCHIVABLE if archived else UNARCHIVABLE)
        refusal = None if allowed else TransitionNotAllowed
        self._expect(refusal, lambda: self.engine.set_archived(self.chat_id, archived))
        if allowed:
            self.model.archived = archived

    # --- what must always hold ----------------------------------------------------------------

    @invariant()
    def the_chat_is_in_a_state_the_machine_names(self) -> None:
        assert self._engine_state() != "Invalid"
        chat = self.store.chat(self.chat_id)
        assert not (chat.status.value == "waiting" and self.store.queue_of(self.chat_id))

    @invariant()
    def the_engine_agrees_with_the_model(self) -> None:
        assert self._engine_state() == self.model.state
        assert self._queue_texts() == self.model.queue

    def teardown(self) -> None:
        # Time passes until nothing is left to play. A chat that waits for the user gets what it
        # waits for: a turn paused for tools its results; an errored chat's queue (coderd keeps a
        # failed turn's queue: FinishError R1 -> E1) the promotion of its head.
        for _ in range(10_000):
            if self._tick():
                continue
            if self.model.state == "E1":
                self.promote(0)
            elif self.model.state in ("A0", "A1"):
                self.submit_tool_results(wrong=False)
            else:
                break
        else:
            raise AssertionError("the chat never came to rest")
        self._saw_transcript()
        assert self.model.state in ("W", "E0", "XW", "XE0", "XE1")
        # Then every accepted message ran, unless deleted or its chat archived with it queued.
        held = set(self.model.queue) if self.model.archived else set()
        never_ran = self.accepted - self.ran - self.deleted - held
        assert not never_ran, f"accepted but never ran: {sorted(never_ran)}"


def _parts(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


def _text_of(parts: list[dict[str, Any]]) -> str:
    return "\n".join(part["text"] for part in parts if part["type"] == "text")


EngineAgainstCoderd.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    derandomize=True,  # the same interleavings on every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_engine_follows_coderds_status_machine_under_any_interleaving = EngineAgainstCoderd.TestCase
