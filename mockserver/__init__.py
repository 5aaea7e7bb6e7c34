"""A stub backend for Coder's experimental Chats API, driven by its OpenAPI document."""

from __future__ import annotations

import warnings

# connexion imports starlette.testclient, whose notice about httpx2 is noise to every user of the
# mock (starlette 1.x); silenced for that one message before connexion is first imported.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning)

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
