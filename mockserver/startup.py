"""The `chats-mock` command's entry point: what must happen before the heavy imports.

Start-up to the first answered request is a bar (0.5 s on a 2-core machine), and two thirds of it
is importing. Two things are cut here, before anything imports Connexion:
- the garbage collector is paused: start-up builds objects that live as long as the process, and
  collecting them is wasted time (`serve` freezes them and resumes it; other commands resume it
  at once);
- Connexion's eager `from starlette.testclient import TestClient` (~130 ms: httpx, anyio and the
  rest), which it uses only in `App.test_client()`: the name is bound to a stand-in that imports
  the real TestClient when first called.
"""

from __future__ import annotations

import gc
import importlib
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["import_connexion_without_testclient", "run"]

_TESTCLIENT = "starlette.testclient"


def _deferred_test_client(*args: Any, **kwargs: Any) -> Any:
    from starlette.testclient import TestClient  # the real one: the stand-in is gone by now

    return TestClient(*args, **kwargs)


def import_connexion_without_testclient() -> None:
    """Import Connexion with starlette.testclient standing in, unless either is imported already."""
    if _TESTCLIENT in sys.modules or "connexion" in sys.modules:
        return
    stand_in = types.ModuleType(_TESTCLIENT, "Stands in while Connexion is imported (mockserver.startup).")
    stand_in.TestClient = _deferred_test_client  # type: ignore[attr-defined]
    sys.modules[_TESTCLIENT] = stand_in
    try:
        importlib.import_module("connexion")
    finally:
        if sys.modules.get(_TESTCLIENT) is stand_in:
            del sys.modules[_TESTCLIENT]


def run(argv: Sequence[str] | None = None) -> int:
    """Run `chats-mock` (the console script and `python -m mockserver`); returns the exit code."""
    gc.disable()
    import_connexion_without_testclient()
    from mockserver.cli import main

    return main(argv)
