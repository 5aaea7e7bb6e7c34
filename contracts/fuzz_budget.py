"""How much the Schemathesis phase may send: apart from the phase, so that choosing a budget
(the command line, VerifyOptions) does not import Schemathesis and Hypothesis."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FuzzBudget"]


@dataclass(frozen=True, slots=True)
class FuzzBudget:
    """How much the Schemathesis phase may send."""

    max_examples: int = 25  # per operation and mode (positive, negative)
    stateful_examples: int = 15  # scenarios of the state machine
    stateful_steps: int = 8  # steps per scenario
