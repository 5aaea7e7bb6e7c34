"""The `chats-mock` command's entry point: what must happen before the heavy imports.

`serve` first starts itself again on the C allocator (`PYTHONMALLOC=malloc`), unless an allocator
was chosen: memory that WebSockets freed can then go back to the OS (`mockserver.server.memory_return`).
It is an `exec`: the same process id, arguments and environment, before any import of weight.

Start-up to the first answered request is a bar (0.4 s on a 2-core machine), and two thirds of it
is importing. Two things are cut here, before anything imports Connexion or uvicorn:
- the garbage collector is paused: start-up builds objects that live as long as the process, and
  collecting them is wasted time (`serve` freezes them and resumes it; other commands resume it
  at once);
- the eager imports, in Connexion and uvicorn, of what they need only on paths the mock never
  takes, or takes after the first answer (~0.27 s): `from starlette.testclient import TestClient`
  (for `App.test_client()`), `import httpx` (for OAuth2 token introspection), `import requests`
  (for remote `$ref`s), `import jinja2` (a document read from a file as a template, the Swagger UI
  page: ~16 ms), `werkzeug`'s package (Flask's request wrapper: ~17 ms; Connexion's context uses
  `werkzeug.local`, which is loaded for real, less `werkzeug.wsgi`, which only its WSGI middleware
  uses: ~6 ms), `uvicorn.main` (uvicorn's own command line: click, the reloaders, multiprocessing:
  ~9 ms), `http.client` (Starlette's HTTPException reads its table of reason phrases when it is
  raised without a detail; with it come `email`'s parser and message: ~3 ms) and
  `urllib.request` (Connexion's `$ref` to a file: ~2 ms). While Connexion and uvicorn are
  imported these names are stand-ins that load the real module on first use; a name they bind
  while they are imported (`from starlette.testclient import TestClient`) is a stand-in callable
  that calls the real one, or the real object when it lives elsewhere (`uvicorn.Server`, from
  `uvicorn.server`). (websockets and uvicorn's WebSocket protocol load at the first WebSocket:
  `mockserver.server.serving`.)
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Sequence

# typing's TYPE_CHECKING without importing typing (~3 ms), which the re-exec would import for nothing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["import_frameworks_lazily", "run"]

# 128 + SIGPIPE: what a shell reports for a program whose reader closed the pipe.
_SIGPIPE_EXIT = 141
# The deferred modules, each with the names Connexion or uvicorn (or what they import) take from
# it while they are imported.
_DEFERRED: dict[str, tuple[str, ...]] = {
    "starlette.testclient": ("TestClient",),
    "httpx": (),
    "requests": (),
    "jinja2": ("pass_context",),  # starlette.templating, imported by Connexion's Swagger UI
    "werkzeug": ("Request",),  # connexion.lifecycle, for Flask apps
    "werkzeug.wsgi": ("ClosingIterator",),  # werkzeug.local, for its WSGI middleware
    "uvicorn.main": ("main", "run"),  # uvicorn's package, for its command line
    "http.client": (),  # starlette.exceptions, for the reason phrase of an HTTPException without detail
    "urllib.request": (),  # connexion.json_schema, for a `$ref` to a file of another document
}
# Names a deferred module re-exports from a module that is loaded for real: the real object.
_REAL_ELSEWHERE = {("uvicorn.main", "Server"): "uvicorn.server"}
# Deferred packages whose submodules Connexion imports (connexion.context: werkzeug.local).
_SUBMODULES_USED = ("werkzeug",)
# Deferred submodules used as their package's attribute (`import http.client`, then
# `http.client.responses`): the stand-in is that attribute too, until the real one replaces it.
_PACKAGE_ATTRIBUTES = ("http.client", "urllib.request")
# What is imported with the stand-ins in place: the frameworks `serve` is built on.
_FRAMEWORKS = ("connexion", "uvicorn")


class _StandIn(types.ModuleType):
    """A module that loads the real one on its first attribute use (the stand-in is gone by then)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probing (__path__, __spec__ ...)
            raise AttributeError(name)
        home = _REAL_ELSEWHERE.get((self.__name__, name))
        if home is not None:
            return getattr(importlib.import_module(home), name)
        real = importlib.import_module(self.__name__)
        if real is self:  # used while Connexion is still being imported
            raise AttributeError(f"{self.__name__}.{name} is deferred until the frameworks are imported")
        return getattr(real, name)


def _deferred_callable(module: str, name: str) -> Any:
    """A stand-in for `module.name` that calls the real one (the module's stand-in is gone by then)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def _stand_in(name: str) -> _StandIn:
    stand_in = _StandIn(name)
    for attribute in _DEFERRED[name]:
        setattr(stand_in, attribute, _deferred_callable(name, attribute))
    # A package's submodules that Connexion imports load for real (werkzeug.local), from its folder.
    spec = importlib.util.find_spec(name) if name in _SUBMODULES_USED else None
    if spec is not None and spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    if name in _PACKAGE_ATTRIBUTES:
        package, _, attribute = name.rpartition(".")
        setattr(importlib.import_module(package), attribute, stand_in)
    return stand_in


def import_frameworks_lazily() -> None:
    """Import Connexion and uvicorn with stand-ins for the modules they need only later, if ever."""
    if all(name in sys.modules for name in _FRAMEWORKS):
        return
    stand_ins = {name: _stand_in(name) for name in _DEFERRED if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        for name in _FRAMEWORKS:
            importlib.import_module(name)
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
                # What loaded under the stand-in goes too: a later import of the package loads it
                # whole, its submodules its own attributes (the ones loaded stay where they are used).
                for loaded in [module for module in sys.modules if module.startswith(name + ".")]:
                    del sys.modules[loaded]


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
    import_frameworks_lazily()
    from mockserver.command.cli import main

    try:
        return main(argv)
    except BrokenPipeError:
        # The reader left early (`chats-mock verify --list-rules | head`): what it read is all it
        # wanted. Python's own recipe: point stdout at devnull, so that the flush at exit cannot
        # fail again, and exit as a program killed by SIGPIPE would be reported by a shell.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return _SIGPIPE_EXIT
