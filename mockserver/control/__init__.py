"""The control plane (/__mock) and the comforts around the Coder API: journal, faults, CORS."""

from __future__ import annotations

from mockserver.control.faults import ConnectionDropped, FaultRule, Faults, load_fault_rules
from mockserver.control.journal import Journal, JournalEntry, mask_token
from mockserver.control.plane import ControlPlane, SeedStore, no_seed
from mockserver.edge.origins import CONTROL_TOKEN_HEADER, LOCALHOST_ORIGINS, CorsPolicy

__all__ = [
    "CONTROL_TOKEN_HEADER",
    "LOCALHOST_ORIGINS",
    "ConnectionDropped",
    "ControlPlane",
    "CorsPolicy",
    "FaultRule",
    "Faults",
    "Journal",
    "JournalEntry",
    "SeedStore",
    "load_fault_rules",
    "mask_token",
    "no_seed",
]
