"""The chat execution states of today's Coder and which transition is legal from which.

Transcribed from coderd/x/chatd/chatstate (state.go `ClassifyExecutionState`, transition.go
`transitionMatrix`; openapi/current/WIRE.md section 4). A state is a chat's status, whether it is
archived and whether its queue holds anything.
"""

from __future__ import annotations

import enum

from mockserver.core.errors import DomainError
from mockserver.core.models import ChatStatus

__all__ = ["ExecutionState", "Transition", "TransitionNotAllowed", "classify", "require"]


class ExecutionState(enum.Enum):
    """A chat's execution state; the digit says whether the queue is empty (0) or not (1)."""

    W = "W"  # waiting, empty queue
    E0 = "E0"  # error, empty queue
    E1 = "E1"  # error, messages queued
    R0 = "R0"  # running, empty queue
    R1 = "R1"  # running, messages queued
    I0 = "I0"  # interrupting, empty queue
    I1 = "I1"  # interrupting, messages queued
    A0 = "A0"  # requires_action, empty queue
    A1 = "A1"  # requires_action, messages queued
    XW = "XW"  # archived, waiting
    XE0 = "XE0"  # archived, error, empty queue
    XE1 = "XE1"  # archived, error, messages queued
    INVALID = "Invalid"  # any other combination (e.g. archived and running)


class Transition(enum.Enum):
    """The transitions a client's request asks for (named as chatstate names them)."""

    SEND_MESSAGE = "SendMessage"  # POST .../messages
    EDIT_MESSAGE = "EditMessage"  # PATCH .../messages/{message}
    INTERRUPT = "Interrupt"  # POST .../interrupt
    DELETE_QUEUED = "DeleteQueuedMessage"  # DELETE .../queue/{id}
    PROMOTE_QUEUED = "PromoteQueuedMessage"  # POST .../queue/{id}/promote
    SET_ARCHIVED = "SetArchived"  # PATCH {"archived": ...}
    SUBMIT_TOOL_RESULTS = "CompleteRequiresAction"  # POST .../tool-results


_S = ExecutionState
_T = Transition
# The states each transition is legal from (transition.go). The state a transition lands in
# follows from what it does to the status and the queue, so only the sources are listed.
_LEGAL_FROM: dict[Transition, frozenset[ExecutionState]] = {
    _T.SEND_MESSAGE: frozenset({_S.W, _S.E0, _S.E1, _S.R0, _S.R1, _S.I0, _S.I1, _S.A0, _S.A1}),
    _T.EDIT_MESSAGE: frozenset({_S.W, _S.E0, _S.E1, _S.R0, _S.R1, _S.I0, _S.I1, _S.A0, _S.A1}),
    _T.INTERRUPT: frozenset({_S.R0, _S.R1, _S.A0, _S.A1}),
    _T.DELETE_QUEUED: frozenset({_S.E1, _S.R1, _S.I1, _S.A1}),
    _T.PROMOTE_QUEUED: frozenset({_S.E1, _S.R1, _S.I1, _S.A1}),
    _T.SET_ARCHIVED: frozenset({_S.W, _S.E0, _S.E1, _S.XW, _S.XE0, _S.XE1}),
    _T.SUBMIT_TOOL_RESULTS: frozenset({_S.A0, _S.A1}),
}

_VALID: dict[tuple[ChatStatus, bool, bool], ExecutionState] = {
    (ChatStatus.WAITING, False, False): _S.W,
    (ChatStatus.WAITING, True, False): _S.XW,
    (ChatStatus.ERROR, False, False): _S.E0,
    (ChatStatus.ERROR, False, True): _S.E1,
    (ChatStatus.ERROR, True, False): _S.XE0,
    (ChatStatus.ERROR, True, True): _S.XE1,
    (ChatStatus.RUNNING, False, False): _S.R0,
    (ChatStatus.RUNNING, False, True): _S.R1,
    (ChatStatus.INTERRUPTING, False, False): _S.I0,
    (ChatStatus.INTERRUPTING, False, True): _S.I1,
    (ChatStatus.REQUIRES_ACTION, False, False): _S.A0,
    (ChatStatus.REQUIRES_ACTION, False, True): _S.A1,
}


# The tables above keyed by the members' values (strings, hashed in C): a dict or set of the
# members themselves calls Enum.__hash__ (Python code) on each lookup, three on every send.
_VALID_BY_VALUE = {
    (status._value_, archived, queued): state for (status, archived, queued), state in _VALID.items()
}
_LEGAL_VALUES_FROM = {
    transition._value_: frozenset(state._value_ for state in states)
    for transition, states in _LEGAL_FROM.items()
}


def classify(status: ChatStatus, archived: bool, queued: bool) -> ExecutionState:
    """The execution state of a chat with this status, archive flag and queue (non-empty or not)."""
    return _VALID_BY_VALUE.get((status._value_, archived, queued), _S.INVALID)


class TransitionNotAllowed(DomainError):
    """A transition asked of a chat in a state that does not allow it (chatstate's TransitionError)."""

    def __init__(self, transition: Transition, state: ExecutionState) -> None:
        super().__init__(f"chat state transition {transition.value} not allowed from state {state.value}")
        self.transition = transition
        self.state = state


def require(transition: Transition, state: ExecutionState) -> None:
    """Raise TransitionNotAllowed unless `transition` is legal from `state`."""
    if state._value_ not in _LEGAL_VALUES_FROM[transition._value_]:
        raise TransitionNotAllowed(transition, state)
