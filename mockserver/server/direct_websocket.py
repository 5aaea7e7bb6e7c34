"""uvicorn's WebSocket protocol, offering the app a direct write of whole frames (`DIRECT_WRITE`).

Through ASGI, each frame a watcher is sent is a `websocket.send` message, a wait on the
protocol's writable flag, websockets' frame encoder and a socket write: one chat's frame to a
thousand watchers is a thousand of each. The watch and stream routes frame what they send once
for all their watchers (edge/push_socket.py) and hand the bytes to this write, which takes them
only while the socket is in plain streaming: accepted, no close sent or received, no extension
negotiated (serve turns permessage-deflate off), and its buffer under the high-water mark.
Otherwise it refuses and the app sends through ASGI as before, waiting for the socket to drain.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

from mockserver.edge.push_socket import DIRECT_WRITE

__all__ = ["DirectWriteWebSocket"]


class DirectWriteWebSocket(WebSocketsSansIOProtocol):
    """The sans-I/O protocol `serve` runs, with `write_frames` offered under `DIRECT_WRITE`
    (an ASGI extension is a dict: `{"write_frames": write_frames}`)."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The app's task is created, not yet run: it finds the extension in its scope.
        if self.response.status_code == 101 and not self.conn.extensions:
            self.scope["extensions"][DIRECT_WRITE] = {"write_frames": self.write_frames}

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # The scope holding the protocol is a cycle: without it, the connection goes at once.
        if self.handshake_initiated and hasattr(self, "scope"):
            self.scope["extensions"].pop(DIRECT_WRITE, None)

    def write_frames(self, data: bytes) -> bool:
        """Write whole frames now; False (nothing written) unless the socket streams freely."""
        if (
            self.close_sent
            or not self.handshake_complete
            or self.initial_response is not None
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(data)
        return True
