"""A stub backend for Coder's experimental Chats API, driven by its OpenAPI document."""

from __future__ import annotations

import importlib
import warnings

# typing's TYPE_CHECKING without importing typing (~3 ms): `serve` starts again on the C allocator
# (mockserver.command.startup), and what this package imports before that is imported twice.
TYPE_CHECKING = False

# connexion imports starlette.testclient, whose notice about httpx2 is noise to every user of the
# mock (starlette 1.x); silenced for that one message before connexion is first imported.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning)

if TYPE_CHECKING:
    from typing import Any

    from mockserver.app.factory import Settings, create_app
    from mockserver.core.clock import SteppingClock, seeded_uuids, system_clock
    from mockserver.core.directory import DEMO_TOKENS, Directory
    from mockserver.core.scheduler import AsyncioScheduler, ImmediateScheduler, ManualScheduler
    from mockserver.core.store import ChatStore

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

# Where each public name lives. They load on first use, so that the `chats-mock` command can set
# up its start-up (mockserver.command.startup) before Connexion is imported.
_HOMES = {
    "DEMO_TOKENS": "mockserver.core.directory",
    "AsyncioScheduler": "mockserver.core.scheduler",
    "ChatStore": "mockserver.core.store",
    "Directory": "mockserver.core.directory",
    "ImmediateScheduler": "mockserver.core.scheduler",
    "ManualScheduler": "mockserver.core.scheduler",
    "Settings": "mockserver.app.factory",
    "SteppingClock": "mockserver.core.clock",
    "create_app": "mockserver.app.factory",
    "seeded_uuids": "mockserver.core.clock",
    "system_clock": "mockserver.core.clock",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
