"""The `chats-mock` command's entry point: what must happen before the heavy imports.

`serve` first starts itself again on the C allocator (`PYTHONMALLOC=malloc`), unless an allocator
was chosen: memory that WebSockets freed can then go back to the OS (`mockserver.server.memory_return`).
It is an `exec`: the same process id, arguments and environment, before any import of weight.

Start-up to the first answered request is a bar (0.5 s on a 2-core machine), and two thirds of it
is importing. Two things are cut here, before anything imports Connexion:
- the garbage collector is paused: start-up builds objects that live as long as the process, and
  collecting them is wasted time (`serve` freezes them and resumes it; other commands resume it
  at once);
- Connexion's eager imports of what it needs only on paths the mock never takes (~0.2 s):
  `from starlette.testclient import TestClient` (for `App.test_client()`), `import httpx` (for
  OAuth2 token introspection) and `import requests` (for remote `$ref`s). While Connexion is
  imported these names are stand-ins that load the real module on first use.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["import_connexion_lazily", "run"]

_DEFERRED = ("starlette.testclient", "httpx", "requests")


class _StandIn(types.ModuleType):
    """A module that loads the real one on its first attribute use (the stand-in is gone by then)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probing (__path__, __spec__ ...)
            raise AttributeError(name)
        real = importlib.import_module(self.__name__)
        if real is self:  # used while Connexion is still being imported
            raise AttributeError(f"{self.__name__}.{name} is deferred until Connexion is imported")
        return getattr(real, name)


def _deferred_test_client(*args: Any, **kwargs: Any) -> Any:
    from starlette.testclient import TestClient  # the real one: the stand-in is gone by now

    return TestClient(*args, **kwargs)


def import_connexion_lazily() -> None:
    """Import Connexion with stand-ins for the modules it needs only later, if ever."""
    if "connexion" in sys.modules:
        return
    stand_ins = {name: _StandIn(name) for name in _DEFERRED if name not in sys.modules}
    if "starlette.testclient" in stand_ins:
        # `from starlette.testclient import TestClient` binds the name at import: a stand-in callable.
        stand_ins["starlette.testclient"].TestClient = _deferred_test_client  # type: ignore[attr-defined]
    sys.modules.update(stand_ins)
    try:
        importlib.import_module("connexion")
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


def _restart_on_c_allocator() -> None:
    """Start `chats-mock serve` again on the C allocator, if it is not (returns only if not)."""
    from mockserver.server.memory_return import c_allocator_environment

    environment = c_allocator_environment(os.environ)
    if environment is not None and sys.executable:
        os.execve(sys.executable, sys.orig_argv, environment)


def run(argv: Sequence[str] | None = None) -> int:
    """Run `chats-mock` (the console script and `python -m mockserver`); returns the exit code.

    Called without `argv` (the command line's), `serve` restarts on the C allocator first.
    """
    if argv is None and sys.argv[1:2] == ["serve"]:
        _restart_on_c_allocator()
    gc.disable()
    import_connexion_lazily()
    from mockserver.command.cli import main

    return main(argv)
