"""The moment the server starts to stop, for what holds a connection open (watch-ws).

A `ShutdownSignal` is set once: by whoever runs the server when it is told to stop (e.g. on
SIGTERM, before the server closes its connections), and at the latest by the ASGI lifespan
shutdown event. Long-lived handlers register a callback and end with a close frame.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ShutdownOnLifespan", "ShutdownSignal"]


class ShutdownSignal:
    """Set once; each callback runs once, on `set()` or at once when registered after it."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []
        self.is_set = False

    def on_set(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the server starts to stop."""
        if self.is_set:
            callback()
        else:
            self._callbacks.append(callback)

    def set(self) -> None:
        """The server starts to stop: run every callback (a second call does nothing)."""
        if self.is_set:
            return
        self.is_set = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


class ShutdownOnLifespan:
    """Sets the signal when the ASGI server sends `lifespan.shutdown`; passes everything on."""

    def __init__(self, app: ASGIApp, *, signal: ShutdownSignal) -> None:
        self._app = app
        self._signal = signal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self._app(scope, receive, send)
            return

        async def watching_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self._signal.set()
            return message

        await self._app(scope, watching_receive, send)
