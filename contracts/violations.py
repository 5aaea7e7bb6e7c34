"""What a check finds: a violation of a named rule, with a way to reproduce it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ContractBroken", "Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One deviation from the contract, found by the check named `rule`."""

    rule: str  # the invariant, e.g. `chats_are_private`
    kind: str  # the violation, e.g. `OtherUsersChatReadable`
    operation: str  # e.g. `GET /chats/{chat}`, or `-` for a multi-step scenario
    message: str  # what was expected and what came back
    curl: str  # a command that reproduces the last request (token as $TOKEN)


class ContractBroken(AssertionError):
    """Raised by a scenario check; the runner turns it into a Violation."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
