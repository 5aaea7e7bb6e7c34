"""What today's Coder does to a chat: turns, the queue, interrupts, edits and archive.

The engine applies the status machine of `states` to the core store and starts and stops
turns through the runner. It knows no HTTP: refusals are domain errors (`TransitionNotAllowed`,
`QueueFull`, `MessageNotFound`, `EditedMessageNotUser`, the store's), mapped to Coder's bodies
by the handlers. Every check of an operation runs before its first change, so a refused
operation changes nothing.

Each operation takes the chat's id, not a chat read earlier: it reads the chat and its queue
under the engine's lock, decides on what it read and changes the chat before letting go, as
coderd does in one transaction on the row it locked (openapi/current/WIRE.md section 4.1). A
request's chat is loaded when its head arrives and its body may come seconds later; a turn may
end in between, and a decision taken on that earlier copy is how a chat wedged (issue 27).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from mockserver.core.errors import DomainError
from mockserver.core.golang import quote
from mockserver.core.models import Chat, ChatMessage, ChatStatus, QueuedMessage, Role, User
from mockserver.core.scheduler import Scheduler
from mockserver.core.store import ChatStore
from mockserver.current.catalog import ChatModelConfig, ModelCatalog
from mockserver.current.states import ExecutionState, Transition, TransitionNotAllowed, classify, require
from mockserver.current.turns import ToolOutcome, TurnRunner, unanswered_calls

__all__ = [
    "INTERRUPTED_TOOL_REASON",
    "ChatArchived",
    "ChatEngine",
    "EditResult",
    "EditedMessageNotUser",
    "QueueFull",
    "SendResult",
    "ToolResultsInvalid",
]

# Owner id texts an engine keeps (ChatEngine._user_content).
_OWNER_TEXTS = 4096

# The error result a pending client tool call gets when the user interrupts (chatd InterruptChat).
INTERRUPTED_TOOL_REASON = "Tool execution interrupted by user"


class ChatArchived(DomainError):
    """The chat is archived when the operation reads it (chatd's ErrChatArchived)."""


class QueueFull(DomainError):
    """The chat's queue already holds the most messages it may."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"chat message queue is full (max {limit})")
        self.limit = limit


class EditedMessageNotUser(DomainError):
    """Only a user message can be edited."""


class ToolResultsInvalid(DomainError):
    """Submitted tool results that do not answer the pending calls exactly (chatd's validation error)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(f"{message}: {detail}")
        self.message = message
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a send did: the message stored and run, or the message queued (and what it promoted)."""

    message: ChatMessage | None
    queued: QueuedMessage | None
    inserted: tuple[ChatMessage, ...]
    # The content `message` was stored with (the very dict, equal to what `message.content`
    # unpacks), so its answer is encoded without unpacking the row just written; else None.
    content: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EditResult:
    """What an edit did: the replacement and the ids of the messages it removed."""

    message: ChatMessage
    deleted_ids: tuple[int, ...]


def text_of(parts: list[dict[str, Any]]) -> str:
    """The text a scenario sees of a user message: its text parts, joined by a newline."""
    return "\n".join(part["text"] for part in parts if part["type"] == "text")


class ChatEngine:
    """The operations of today's Chats API on the store, under the status machine."""

    def __init__(
        self,
        store: ChatStore,
        runner: TurnRunner,
        scheduler: Scheduler,
        catalog: ModelCatalog,
        *,
        queue_limit: int,
    ) -> None:
        """`queue_limit`: how many messages a chat's queue holds before a send is refused (429)."""
        self._store = store
        self._runner = runner
        self._scheduler = scheduler
        self._catalog = catalog
        self._queue_limit = queue_limit
        # One operation at a time, from its read of the chat to its last change. On the event
        # loop nothing inside an operation awaits, so the lock is never contended there; it
        # makes atomicity the engine's own promise, whichever thread calls (a test's, a
        # TestClient portal's). Re-entrant: ImmediateScheduler ends a turn inside its start.
        self._lock = threading.RLock()
        # An owner id's text by its int (`str(UUID)` is Python code): each message a user sends
        # names its author; the organization's users are few (at most _OWNER_TEXTS kept).
        self._owner_texts: dict[int, str] = {}

    @property
    def catalog(self) -> ModelCatalog:
        """The organization's models."""
        return self._catalog

    def state(self, chat: Chat) -> ExecutionState:
        """The chat's execution state (status, archived, queue)."""
        return classify(chat.status, chat.archived, bool(self._store.queue_of(chat.id)))

    def model_of(self, chat: Chat) -> ChatModelConfig:
        """The model the chat runs."""
        return self._catalog.named(chat.provider, chat.model)

    # --- requests ---------------------------------------------------------------------------

    def create(
        self,
        owner: User,
        *,
        title: str,
        model: ChatModelConfig,
        labels: dict[str, str],
        parts: list[dict[str, Any]],
        workspace_id: UUID | None,
        attributes: dict[str, Any],
        chat_id: UUID | None = None,
    ) -> Chat:
        """A new chat running its first turn on the user's message (`chat_id`: a fixed id)."""
        with self._lock:
            # The chat, its user message, then the chat touched as its turn starts: stored once
            # when no one can see it in between (the store decides).
            chat = self._store.create_chat_with_message(
                owner,
                self._user_content(owner.id, parts, model),
                workspace_id=workspace_id,
                title=title,
                provider=model.provider.type,
                model=model.model,
                metadata=attributes,
                labels=labels,
                status=ChatStatus.RUNNING,  # coderd's CreateChat: N -> R0 in one step (watch `created`)
                chat_id=chat_id,
            )
            self._start_turn(chat, parts, model)
            return chat

    def send(
        self,
        owner: User,
        chat_id: UUID,
        parts: list[dict[str, Any]],
        *,
        interrupt: bool,
        model: ChatModelConfig | None,
    ) -> SendResult:
        """Store and run the message when the chat is idle; queue it (and interrupt) when busy."""
        with self._lock:
            chat, state = self._load(chat_id)
            if chat.archived:
                raise ChatArchived(str(chat_id))
            require(Transition.SEND_MESSAGE, state)
            model = model or self.model_of(chat)
            content = self._user_content(owner.id, parts, model)
            if state in (ExecutionState.W, ExecutionState.E0):
                message = self._store.append_message(chat_id, Role.USER, content)
                self._run(chat_id, parts, model, last_error=None)
                return SendResult(message, None, (message,), content)
            if len(self._store.queue_of(chat_id)) >= self._queue_limit:
                raise QueueFull(self._queue_limit)
            queued = self._store.enqueue(chat_id, content)
            inserted: tuple[ChatMessage, ...] = ()
            if state is ExecutionState.E1:
                # An errored chat with a queue runs its queue head now; the new message waits.
                inserted = (self._run_queue_head(chat_id),)
            elif interrupt and state in (ExecutionState.R0, ExecutionState.R1):
                self._interrupting(chat_id)
            elif interrupt and state in (ExecutionState.A0, ExecutionState.A1):
                self._cancel_requires_action(chat_id)
            return SendResult(None, queued, inserted)

    def edit(
        self,
        owner: User,
        chat_id: UUID,
        message_id: int,
        parts: list[dict[str, Any]],
        model: ChatModelConfig | None,
    ) -> EditResult:
        """Replace a user message: drop it and all after it, empty the queue, run the replacement."""
        with self._lock:
            chat, state = self._load(chat_id)
            if chat.archived:
                raise ChatArchived(str(chat_id))
            require(Transition.EDIT_MESSAGE, state)
            edited = self._store.get_message(chat_id, message_id)
            if edited.role is not Role.USER:
                raise EditedMessageNotUser(str(message_id))
            model = model or self._catalog.get(UUID(edited.content["model_config_id"])) or self.model_of(chat)
            self._runner.stop(chat_id)
            self._store.clear_queue(chat_id)
            deleted = self._store.delete_messages_from(chat_id, message_id)
            message = self._insert_user(chat_id, owner.id, parts, model)
            self._run(chat_id, parts, model, last_error=None)
            return EditResult(message, deleted)

    def interrupt(self, chat_id: UUID) -> Chat:
        """Stop the running turn; answers the chat as the transition left it."""
        with self._lock:
            chat, state = self._load(chat_id)
            if chat.archived:
                raise ChatArchived(str(chat_id))
            require(Transition.INTERRUPT, state)
            if state in (ExecutionState.A0, ExecutionState.A1):
                return self._cancel_requires_action(chat_id)
            return self._interrupting(chat_id)

    def submit_tool_results(self, chat_id: UUID, results: list[dict[str, Any]]) -> None:
        """Answer the calls the turn waits for and resume it (A0 -> R0, A1 -> R1).

        `results` are the body's items as Go decodes them (`output` absent: Go's nil
        RawMessage). Raises ChatArchived, then TransitionNotAllowed unless the chat waits for
        tool results, then ToolResultsInvalid as chatd validates (chatstate CompleteRequiresAction).
        """
        with self._lock:
            chat, state = self._load(chat_id)
            if chat.archived:
                raise ChatArchived(str(chat_id))
            require(Transition.SUBMIT_TOOL_RESULTS, state)
            calls = self._pending_calls(chat_id)
            outcomes = _validated(results, [call["tool_call_id"] for call in calls])
            self._answer(chat_id, calls, outcomes)

    def delete_queued(self, chat_id: UUID, queued_id: int) -> None:
        """Drop a queued message."""
        with self._lock:
            _, state = self._load(chat_id)
            require(Transition.DELETE_QUEUED, state)
            self._store.remove_queued(chat_id, queued_id)

    def promote(self, chat_id: UUID, queued_id: int) -> None:
        """Make a queued message the next to run: at once on an errored chat, after an interrupt on a running one."""
        with self._lock:
            chat, state = self._load(chat_id)
            if chat.archived:
                raise ChatArchived(str(chat_id))
            require(Transition.PROMOTE_QUEUED, state)
            queued = self._store.remove_queued(chat_id, queued_id)
            self._store.put_first(chat_id, queued)
            if state is ExecutionState.A1:
                # The calls the turn waited for are answered with an error, so that no call is
                # left pending behind the promoted message (as an interrupt answers them).
                calls = self._pending_calls(chat_id)
                error = {"error": INTERRUPTED_TOOL_REASON}
                self._runner.record_results(
                    chat_id, calls, [ToolOutcome(c["tool_call_id"], error, True) for c in calls]
                )
            if state in (ExecutionState.E1, ExecutionState.A1):
                self._runner.stop(chat_id)
                self._run_queue_head(chat_id)
            elif state is ExecutionState.R1:
                self._interrupting(chat_id)

    def check_archive(self, chat_id: UUID, archived: bool) -> None:
        """Raise TransitionNotAllowed unless the chat may now change its archive flag to `archived`.

        For the PATCH's order of refusals only: `set_archived` decides again when it changes.
        """
        with self._lock:
            chat, state = self._load(chat_id)
            require(Transition.SET_ARCHIVED, state)
            if chat.archived == archived:
                raise TransitionNotAllowed(Transition.SET_ARCHIVED, state)

    def set_archived(self, chat_id: UUID, archived: bool, **changes: Any) -> Chat:
        """Archive or unarchive an idle or errored chat (SetArchived), with the PATCH's other `changes`.

        Raises TransitionNotAllowed when the chat, as it is now, may not change its archive
        flag, or already has the flag asked for (chatstate refuses that as a transition too).
        """
        with self._lock:
            chat, state = self._load(chat_id)
            require(Transition.SET_ARCHIVED, state)
            if chat.archived == archived:
                raise TransitionNotAllowed(Transition.SET_ARCHIVED, state)
            if archived:
                changes["pin_order"] = 0  # an archived chat is never pinned
            return self._store.update_chat(chat_id, archived=archived, **changes)

    def _load(self, chat_id: UUID) -> tuple[Chat, ExecutionState]:
        """The chat as it is now and its execution state (ChatNotFound if it is gone)."""
        chat = self._store.chat(chat_id)
        return chat, self.state(chat)

    # --- turns --------------------------------------------------------------------------------

    def _insert_user(
        self, chat_id: UUID, owner_id: UUID, parts: list[dict[str, Any]], model: ChatModelConfig
    ) -> ChatMessage:
        return self._store.append_message(chat_id, Role.USER, self._user_content(owner_id, parts, model))

    def _run(
        self, chat_id: UUID, parts: list[dict[str, Any]], model: ChatModelConfig, **changes: Any
    ) -> Chat:
        chat = self._store.update_chat(
            chat_id, status=ChatStatus.RUNNING, provider=model.provider.type, model=model.model, **changes
        )
        self._start_turn(chat, parts, model)
        return chat

    def _start_turn(self, chat: Chat, parts: list[dict[str, Any]], model: ChatModelConfig) -> None:
        self._runner.start(
            chat,
            text_of(parts),
            model_config_id=model.id_text,
            context_limit=model.context_limit,
            ended=self._turn_ended,
            paused=self._turn_paused,
        )

    def _run_queue_head(self, chat_id: UUID) -> ChatMessage:
        """Store the queue head as a user message and run it."""
        head = self._store.pop_queued(chat_id)
        assert head is not None, "a queue-bearing state has a queue head"
        model = self._catalog.get(UUID(head.content["model_config_id"])) or self._catalog.default
        message = self._store.append_message(chat_id, Role.USER, head.content)
        self._run(chat_id, head.content["parts"], model, last_error=None)
        return message

    def _cancel_requires_action(self, chat_id: UUID) -> Chat:
        """Leave requires_action for running: each pending call gets an error result, the turn goes on."""
        calls = self._pending_calls(chat_id)
        error = {"error": INTERRUPTED_TOOL_REASON}
        return self._answer(chat_id, calls, [ToolOutcome(c["tool_call_id"], error, True) for c in calls])

    def _pending_calls(self, chat_id: UUID) -> tuple[dict[str, Any], ...]:
        """The calls the chat waits for: its paused turn's, else its transcript's unanswered ones."""
        return self._runner.pending(chat_id) or unanswered_calls(self._store.messages_of(chat_id))

    def _answer(
        self, chat_id: UUID, calls: Sequence[dict[str, Any]], outcomes: Sequence[ToolOutcome]
    ) -> Chat:
        """Store the answers, then running again (A0 -> R0, A1 -> R1); the turn goes on, or ends.

        The results come before the status, as chatd writes both in one transaction and its
        stream sends the new messages before the status. A chat that waits with no paused turn
        (loaded from a fixture) has nothing more to play: its turn ends there.
        """
        self._runner.record_results(chat_id, calls, outcomes)
        chat = self._store.update_chat(chat_id, status=ChatStatus.RUNNING)
        if self._runner.pending(chat_id):
            self._runner.resume(chat_id)
        else:
            self._turn_ended(chat_id, None)
        return chat

    def _interrupting(self, chat_id: UUID) -> Chat:
        """Mark the chat interrupting; the turn stops on the scheduler's next tick."""
        chat = self._store.update_chat(chat_id, status=ChatStatus.INTERRUPTING)
        self._scheduler.call_later(0.0, lambda: self._finish_interruption(chat_id))
        return chat

    def _finish_interruption(self, chat_id: UUID) -> None:
        """Keep what the stopped turn streamed, then run the queue head or wait."""
        with self._lock:
            self._finish_interruption_locked(chat_id)

    def _finish_interruption_locked(self, chat_id: UUID) -> None:
        chat = self._find(chat_id)
        if chat is None or chat.status is not ChatStatus.INTERRUPTING:
            return  # an edit (or a reset) got there first
        partial = self._runner.stop(chat_id)
        if partial:
            content = {
                "parts": list(self._runner.stamp(partial)),
                "model_config_id": self.model_of(chat).id_text,
            }
            self._store.append_message(chat_id, Role.ASSISTANT, content)
        if self._store.queue_of(chat_id):
            self._run_queue_head(chat_id)
        else:
            self._store.update_chat(chat_id, status=ChatStatus.WAITING)

    def _turn_ended(self, chat_id: UUID, error: dict[str, Any] | None) -> None:
        """A turn finished by itself: wait, run the queue head, or record the failure."""
        with self._lock:
            self._turn_ended_locked(chat_id, error)

    def _turn_ended_locked(self, chat_id: UUID, error: dict[str, Any] | None) -> None:
        chat = self._find(chat_id)
        if chat is None or chat.status is not ChatStatus.RUNNING:
            return
        if error is not None:
            self._store.update_chat(
                chat_id, status=ChatStatus.ERROR, last_error=_chat_error(error, chat.provider)
            )
        elif self._store.queue_of(chat_id):
            self._run_queue_head(chat_id)
        else:
            self._store.update_chat(chat_id, status=ChatStatus.WAITING)

    def _turn_paused(self, chat_id: UUID, calls: tuple[dict[str, Any], ...]) -> None:
        """The turn waits for the client's tool results: R0 -> A0, R1 -> A1."""
        with self._lock:
            chat = self._find(chat_id)
            if chat is not None and chat.status is ChatStatus.RUNNING:
                self._store.update_chat(chat_id, status=ChatStatus.REQUIRES_ACTION)

    def _user_content(
        self, owner_id: UUID, parts: list[dict[str, Any]], model: ChatModelConfig
    ) -> dict[str, Any]:
        """A user message's stored content: its parts, its author's id and its model's."""
        owner_text = self._owner_texts.get(owner_id.int)
        if owner_text is None:
            owner_text = str(owner_id)
            if len(self._owner_texts) < _OWNER_TEXTS:
                self._owner_texts[owner_id.int] = owner_text
        return {"parts": parts, "created_by": owner_text, "model_config_id": model.id_text}

    def _find(self, chat_id: UUID) -> Chat | None:
        try:
            return self._store.chat(chat_id)
        except DomainError:
            return None


def _chat_error(error: dict[str, Any], provider: str) -> dict[str, Any]:
    """A turn's failure as codersdk.ChatError, in its field order (message, kind, provider, ...)."""
    out = {"message": error["message"], "kind": error["kind"], "provider": provider}
    out["retryable"] = error["retryable"]
    if "status_code" in error:
        out["status_code"] = error["status_code"]
    return out


def _validated(results: list[dict[str, Any]], pending: list[str]) -> list[ToolOutcome]:
    """The results as outcomes, or ToolResultsInvalid in chatstate's order of checks.

    Per result in the order sent: a repeated id, then an output that is not JSON; then a pending
    call without a result; then a result for no pending call. (chatd ranges over maps for the
    last two, so which id it names among several is random; here the first in order.)
    """
    seen: dict[str, ToolOutcome] = {}
    for result in results:
        call_id = result.get("tool_call_id", "")
        if call_id in seen:
            raise ToolResultsInvalid(
                "Duplicate tool_call_id in results.", f"Duplicate tool call ID {quote(call_id)}."
            )
        if "output" not in result:
            raise ToolResultsInvalid(
                "Tool result output must be valid JSON.",
                f"Output for tool call {quote(call_id)} is not valid JSON.",
            )
        seen[call_id] = ToolOutcome(call_id, result["output"], bool(result.get("is_error", False)))
    for call_id in pending:
        if call_id not in seen:
            raise ToolResultsInvalid(
                "Missing tool result.", f"Missing result for tool call {quote(call_id)}."
            )
    for call_id in seen:
        if call_id not in pending:
            raise ToolResultsInvalid(
                "Unexpected tool result.", f"No pending tool call with ID {quote(call_id)}."
            )
    return list(seen.values())
