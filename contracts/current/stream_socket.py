"""A chat's stream WebSocket (WIRE.md §7.1), in-process or over the network, read with a timeout.

verify reads frames as a client would, and never waits on a frame without a deadline: a read
that times out gives None, so that the check can poll the chat over REST meanwhile (which is
also what moves a virtual clock in tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import httpx

from contracts.shell import command_line
from contracts.target import Target

__all__ = ["Frame", "StreamRefused", "StreamSocket", "open_stream"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One text message of the stream, decoded (`value` None when it is not JSON), or its close."""

    text: str | None  # None: the server closed the connection
    value: Any = None
    close_code: int | None = None

    @classmethod
    def of(cls, text: str) -> Frame:
        try:
            return cls(text, json.loads(text))
        except ValueError:
            return cls(text, None)


class StreamRefused(Exception):
    """The server answered the handshake with an HTTP status instead of upgrading."""

    def __init__(self, status: int | None, body: str, command: str) -> None:
        super().__init__(f"{status}: {body[:200]}")
        self.status = status
        self.body = body
        self.command = command


class StreamSocket(Protocol):
    """An open stream: frames with a timeout, and the command that reproduces the connection."""

    command: str

    def receive(self, timeout: float) -> Frame | None:
        """The next frame, or None when none came within `timeout` seconds."""


@contextmanager
def open_stream(
    target: Target,
    client: httpx.Client,
    chat: str,
    headers: Mapping[str, str],
    placeholders: Mapping[str, str],
    *,
    after_id: str | int | None = None,
    timeout: float = 10.0,
    path: str | None = None,
    params: Mapping[str, str] | None = None,
) -> Iterator[StreamSocket]:
    """Connect to `GET /chats/{chat}/stream` (with `after_id` when given), or to another WebSocket
    `path` of the API (`/chats/watch`), with more query `params` (a session token); raise
    StreamRefused on a refusal."""
    path = path or f"/chats/{chat}/stream"
    values = {**({"after_id": after_id} if after_id is not None else {}), **(params or {})}
    query = "?" + urlencode(values) if values else ""
    url = target.api_url.replace("http", "ws", 1) + path + query
    parts = ["websocat"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    command = command_line([*parts, url], placeholders)
    if target.app is not None:
        with _in_process(
            client, urlsplit(target.api_url).path + path + query, dict(headers), command
        ) as socket:
            yield socket
    else:
        with _over_network(url, dict(headers), timeout, command) as socket:
            yield socket


class _InProcess:
    def __init__(self, session: Any, command: str) -> None:
        self._session = session
        self.command = command
        self._closed: Frame | None = None

    def receive(self, timeout: float) -> Frame | None:
        import anyio

        if self._closed is not None:
            return self._closed

        async def next_message() -> Any:
            with anyio.move_on_after(timeout):
                # The test client's own receive() has no timeout: read its queue with one.
                return await self._session._send_rx.receive()
            return None

        message = self._session.portal.call(next_message)
        if message is None:
            return None
        if message["type"] == "websocket.close":
            self._closed = Frame(None, close_code=message.get("code", 1000))
            return self._closed
        text = message.get("text")
        return Frame.of(text if text is not None else message.get("bytes", b"").decode("utf-8", "replace"))


@contextmanager
def _in_process(
    client: httpx.Client, path: str, headers: dict[str, str], command: str
) -> Iterator[StreamSocket]:
    from starlette.testclient import TestClient, WebSocketDenialResponse
    from starlette.websockets import WebSocketDisconnect

    assert isinstance(client, TestClient)
    try:
        with client.websocket_connect(path, headers=headers) as session:
            yield _InProcess(session, command)
    except WebSocketDenialResponse as denial:
        raise StreamRefused(denial.status_code, denial.text, command) from None
    except WebSocketDisconnect as closed:
        raise StreamRefused(None, f"closed before the upgrade ({closed.code})", command) from None


class _OverNetwork:
    def __init__(self, connection: Any, command: str) -> None:
        self._connection = connection
        self.command = command
        self._closed: Frame | None = None

    def receive(self, timeout: float) -> Frame | None:
        from websockets.exceptions import ConnectionClosed

        if self._closed is not None:
            return self._closed
        try:
            message = self._connection.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else 1006
            self._closed = Frame(None, close_code=code)
            return self._closed
        return Frame.of(message if isinstance(message, str) else message.decode("utf-8", "replace"))


@contextmanager
def _over_network(url: str, headers: dict[str, str], timeout: float, command: str) -> Iterator[StreamSocket]:
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    try:
        connection = connect(url, additional_headers=headers, open_timeout=timeout, proxy=None, max_size=None)
    except InvalidStatus as refused:
        body = refused.response.body or b""
        raise StreamRefused(refused.response.status_code, body.decode("utf-8", "replace"), command) from None
    except (WebSocketException, OSError, TimeoutError) as error:
        raise StreamRefused(None, f"{type(error).__name__}: {error}", command) from None
    with connection:
        yield _OverNetwork(connection, command)
