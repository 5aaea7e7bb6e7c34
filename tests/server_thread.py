"""serve's own server (`build_server`: its HTTP and WebSocket protocols, its limits) over an app,
on a free loopback port, in a thread: for tests of what only the server does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp

from mockserver.core.stopping import Stopping
from mockserver.edge.limits import Limits
from mockserver.server.serving import bind, build_server


@contextmanager
def served_in_a_thread(
    app: ASGIApp,
    *,
    limits: Limits | None = None,
    stopping: Stopping | None = None,
    keep_alive: float | None = None,
) -> Iterator[tuple[str, int]]:
    """The server's (host, port) while it serves `app`; stopped and joined on the way out.
    `keep_alive`: seconds an idle connection is kept (default: uvicorn's, as serve runs it)."""
    limits = limits or Limits()
    sockets = bind("127.0.0.1", 0)
    started = threading.Event()
    server = build_server(app, limits=limits, stopping=stopping or Stopping(), on_started=started.set)
    if keep_alive is not None:
        server.config.timeout_keep_alive = keep_alive  # type: ignore[assignment]  # int in its hints
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    assert started.wait(30), "the server did not start"
    try:
        yield sockets[0].getsockname()
    finally:
        server.should_exit = True
        thread.join(30)
