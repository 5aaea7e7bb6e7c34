"""Handshake with the watch WebSocket (WIRE.md §5), in-process or over the network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httpx

from contracts.shell import command_line
from contracts.target import Target
from contracts.token_sources import TokenSource, placed

__all__ = ["WatchOutcome", "open_watch"]


@dataclass(frozen=True, slots=True)
class WatchOutcome:
    """What the server did with one watch-ws handshake."""

    accepted: bool  # the upgrade went through
    status: int | None  # the HTTP status of a refusal before the upgrade, when there was one
    body: str  # the refusal's body ("" when upgraded)
    command: str  # a websocat line that reproduces it


def open_watch(
    target: Target,
    client: httpx.Client,
    chat: str,
    auth: Mapping[TokenSource, str],
    placeholders: Mapping[str, str],
    *,
    timeout: float = 5.0,
) -> WatchOutcome:
    """Handshake with `watch-ws` of `chat`, the token in the sources of `auth`, and close."""
    headers, params = placed(auth)
    path = f"/chats/{chat}/messages/watch-ws"
    query = "?" + urlencode(params) if params else ""
    url = target.api_url.replace("http", "ws", 1) + path + query
    parts = ["websocat"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    command = command_line([*parts, url], placeholders)
    if target.app is not None:
        return _in_process(client, urlsplit(target.api_url).path + path + query, headers, command)
    return _over_network(url, headers, timeout, command)


def _in_process(client: httpx.Client, path: str, headers: dict[str, str], command: str) -> WatchOutcome:
    from starlette.testclient import TestClient, WebSocketDenialResponse
    from starlette.websockets import WebSocketDisconnect

    assert isinstance(client, TestClient)
    try:
        # The handshake is the judgement; a frame is not awaited (the test client cannot time out).
        with client.websocket_connect(path, headers=dict(headers)):
            pass
    except WebSocketDenialResponse as denial:
        return WatchOutcome(False, denial.status_code, denial.text, command)
    except WebSocketDisconnect as closed:
        return WatchOutcome(False, None, f"closed before the upgrade ({closed.code})", command)
    return WatchOutcome(True, None, "", command)


def _over_network(url: str, headers: dict[str, str], timeout: float, command: str) -> WatchOutcome:
    from websockets.exceptions import InvalidStatus, WebSocketException
    from websockets.sync.client import connect

    try:
        with connect(url, additional_headers=headers, open_timeout=timeout, proxy=None):
            pass
    except InvalidStatus as refused:
        body = refused.response.body or b""
        return WatchOutcome(False, refused.response.status_code, body.decode("utf-8", "replace"), command)
    except (WebSocketException, OSError, TimeoutError) as error:
        return WatchOutcome(False, None, f"{type(error).__name__}: {error}", command)
    return WatchOutcome(True, None, "", command)
