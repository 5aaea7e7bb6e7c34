"""A contract suite for Coder's Chats API: judge any server against the document and the wire."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.fuzz_budget import FuzzBudget
    from contracts.report import ExitCode, Report
    from contracts.runner import VerifyOptions, verify
    from contracts.target import Target
    from contracts.violations import Violation

__all__ = ["ExitCode", "FuzzBudget", "Report", "Target", "VerifyOptions", "Violation", "verify"]

# Where each public name lives. They load on first use, so that `chats-mock serve`, which only
# registers the verify command, does not pay for importing Schemathesis at start-up.
_HOMES = {
    "ExitCode": "contracts.report",
    "FuzzBudget": "contracts.fuzz_budget",
    "Report": "contracts.report",
    "Target": "contracts.target",
    "VerifyOptions": "contracts.runner",
    "Violation": "contracts.violations",
    "verify": "contracts.runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
