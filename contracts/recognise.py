"""Which generation of Coder's Chats API a server speaks, asked with one request before any check.

`GET /chats/watch` tells them apart: today's API routes it to the chat list watcher (a plain GET
is 426, no WebSocket upgrade: openapi/current/WIRE.md §7.1), while V1 has no such route and
reads `watch` as the `{chat}` of `GET /chats/{chat}` (400 `Invalid UUID "watch".`: openapi/WIRE.md
§2). A server of the other generation is named with the `--api` that judges it, instead of
hundreds of violations that only say it is not this one.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from contracts.target import Probe

__all__ = ["generation_of", "recogniser"]

WATCH = "/chats/watch"


def generation_of(probe: Probe, token: str) -> str | None:
    """`current`, `v1`, or None when the answer to `GET /chats/watch` names neither."""
    try:
        response = probe.send("GET", WATCH, token=token)
    except httpx.HTTPError:
        return None
    if response.status_code == 426:
        return "current"
    if response.status_code == 400 and _message(response).startswith('Invalid UUID "watch"'):
        return "v1"
    return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else ""


def recogniser(api: str) -> Callable[[Probe, str], str | None]:
    """Why the server is not the `api` generation's (a one-line hint), or None."""

    def recognise(probe: Probe, token: str) -> str | None:
        found = generation_of(probe, token)
        if found is None or found == api:
            return None
        named = "today's Chats API" if found == "current" else "the V1 Chats API"
        return (
            f"the server speaks {named}, not the one --api {api} judges "
            f"(GET {WATCH} answered as {found} does): try --api {found}"
        )

    return recognise
