"""A contract suite for Coder's Chats API: judge any server against the document and the wire."""

from __future__ import annotations

from contracts.fuzz import FuzzBudget
from contracts.report import ExitCode, Report
from contracts.runner import VerifyOptions, verify
from contracts.target import Target
from contracts.violations import Violation

__all__ = ["ExitCode", "FuzzBudget", "Report", "Target", "VerifyOptions", "Violation", "verify"]
