"""A stub backend for Coder's experimental Chats API, driven by its OpenAPI document."""

from __future__ import annotations

from mockserver.app import Settings, create_app
from mockserver.clock import SteppingClock, seeded_uuids, system_clock
from mockserver.directory import DEMO_TOKENS, Directory
from mockserver.scheduler import AsyncioScheduler, ImmediateScheduler, ManualScheduler
from mockserver.store import ChatStore

__all__ = [
    "DEMO_TOKENS",
    "AsyncioScheduler",
    "ChatStore",
    "Directory",
    "ImmediateScheduler",
    "ManualScheduler",
    "Settings",
    "SteppingClock",
    "create_app",
    "seeded_uuids",
    "system_clock",
]
