"""What a check finds: a violation of a named rule, with its evidence and a way to reproduce it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ContractBroken", "Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One deviation from the contract, found by the check named `rule`."""

    rule: str  # the invariant, e.g. `chats_are_private`
    kind: str  # the violation, e.g. `OtherUsersChatReadable`
    operation: str  # the operation whose answer showed it, e.g. `GET /chats/{chat}`
    message: str  # what was expected and what came back
    curl: str  # a command that reproduces the last request (token as $TOKEN)
    subject: str = ""  # which run or request, e.g. `run 5d0c... of chat 9a1b...`
    evidence: tuple[str, ...] = ()  # the offending rows or frames, one line each


class ContractBroken(AssertionError):
    """Raised by a scenario check; the runner turns it into a Violation."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        evidence: Sequence[str] = (),
        subject: str = "",
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.rule = rule  # None: the rule of the scenario that raised it
        self.kind = kind
        self.message = message
        self.evidence = tuple(evidence)
        self.subject = subject
