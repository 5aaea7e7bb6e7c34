"""An independent, correct implementation of WIRE.md in plain Starlette, for proving verify.

It never imports mockserver and differs from it on purpose wherever WIRE.md allows: message ids
from a sequence with gaps, metadata stored with keys reordered, Bearer-only tokens accepted too,
an agent that runs a tool-using script, and its own id and time sources.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["TOKENS", "build_app"]

TOKENS = {
    "carol": "carol00001-CarolIndependentSecret",
    "dave": "dave000001-DaveIndependentSecret0",
}
ORG = "0b8f4e3a-1d2c-4f5e-8a9b-7c6d5e4f3a2b"
SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
NOT_FOUND = "Resource not found or you do not have access to this resource"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


class Refusal(Exception):
    """A Coder error answer."""

    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


def _answer(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status, media_type="application/json; charset=utf-8"
    )


def _reorder(value: Any) -> Any:
    # Like jsonb: keys come back in another order than sent.
    if isinstance(value, dict):
        return {key: _reorder(value[key]) for key in sorted(value, key=lambda k: (len(k), k), reverse=True)}
    if isinstance(value, list):
        return [_reorder(item) for item in value]
    return value


def _parse_uuid(raw: str) -> str:
    text = raw
    if text.lower().startswith("urn:uuid:"):
        text = text[9:]
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if not _UUID.match(text) or len(text) not in (32, 36):
        raise ValueError(f"invalid UUID length: {len(raw)}")
    return str(uuid.UUID(text))


@dataclass
class World:
    """All state of one server."""

    users: dict[str, str] = field(default_factory=dict)  # token -> user id
    workspaces: dict[str, str] = field(default_factory=dict)  # workspace id -> owner
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(100, 7))  # gaps between ids
    now: datetime = field(default_factory=lambda: datetime(2031, 1, 2, 3, 4, 5, 600000, tzinfo=UTC))

    def stamp(self) -> str:
        self.now += timedelta(microseconds=1234)
        return self.now.isoformat(timespec="microseconds").replace("+00:00", "Z")

    def append(self, chat: str, role: str, content: dict[str, Any]) -> dict[str, Any]:
        row = {
            "chat_id": chat,
            "id": next(self.ids),
            "created_at": self.stamp(),
            "role": role,
            "content": content,
        }
        self.rows[chat].append(row)
        return row


def build_app() -> Starlette:
    """A fresh server with the users of TOKENS."""
    world = World()
    for name, token in TOKENS.items():
        world.users[token] = str(uuid.uuid5(uuid.NAMESPACE_DNS, name))
        world.workspaces[str(uuid.uuid5(uuid.NAMESPACE_URL, name))] = world.users[token]

    def user_of(request: Request) -> str:
        token = (
            request.cookies.get("coder_session_token")
            or request.query_params.get("coder_session_token")
            or request.headers.get("coder-session-token")
        )
        auth = request.headers.get("authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if not token:
            raise Refusal(
                401, SIGNED_OUT, 'Cookie "coder_session_token" or query parameter must be provided.'
            )
        if token not in world.users:
            raise Refusal(401, SIGNED_OUT, "API key is invalid.")
        return world.users[token]

    def chat_of(request: Request, user: str) -> str:
        raw = request.path_params["chat"]
        try:
            chat = _parse_uuid(raw)
        except ValueError as error:
            raise Refusal(400, f"Invalid UUID {json.dumps(raw)}.", str(error)) from None
        return chat

    def owned(chat: str, user: str) -> dict[str, Any]:
        if world.owners.get(chat) != user:
            raise Refusal(404, NOT_FOUND)
        return world.chats[chat]

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            value = json.loads(raw)
        except ValueError:
            raise Refusal(400, "Request body must be valid JSON.", "unexpected EOF") from None
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise Refusal(400, "Request body must be valid JSON.", "json: cannot unmarshal into Go value")
        return value

    def string_field(data: dict[str, Any], name: str, *, is_uuid: bool = False) -> str | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise Refusal(
                400, "Request body must be valid JSON.", f"json: cannot unmarshal into field {name}"
            )
        if is_uuid:
            try:
                return _parse_uuid(value)
            except ValueError as error:
                raise Refusal(400, "Request body must be valid JSON.", str(error)) from None
        return value

    async def create_chat(request: Request) -> Response:
        user = user_of(request)
        data = await body(request)
        workspace = string_field(data, "workspace_id", is_uuid=True)
        title = string_field(data, "title")
        provider, model = string_field(data, "provider"), string_field(data, "model")
        if not provider or not model:
            raise Refusal(400, "provider and model are required")
        if workspace is not None:
            owner = world.workspaces.get(workspace)
            if owner is None:
                raise Refusal(404, NOT_FOUND)
            if owner != user:
                raise Refusal(403, "Forbidden.", "You don't have permission to view this content.")
        chat_id = str(uuid.uuid4())
        stamp = world.stamp()
        chat: dict[str, Any] = {
            "metadata": _reorder(data.get("metadata", {})),
            "model": model,
            "provider": provider,
        }
        if title:
            chat["title"] = title
        chat.update(
            workspace_id=workspace,
            owner_id=user,
            organization_id=ORG,
            updated_at=stamp,
            created_at=stamp,
            id=chat_id,
        )
        world.chats[chat_id], world.owners[chat_id], world.rows[chat_id] = chat, user, []
        world.append(chat_id, "system", {"content": "You are a helpful assistant.", "type": "system_prompt"})
        return _answer(201, chat)

    async def get_chat(request: Request) -> Response:
        user = user_of(request)
        return _answer(200, owned(chat_of(request, user), user))

    async def list_messages(request: Request) -> Response:
        user = user_of(request)
        chat = chat_of(request, user)
        owned(chat, user)
        return _answer(200, world.rows[chat])

    async def post_message(request: Request) -> Response:
        user = user_of(request)
        chat = chat_of(request, user)
        owned(chat, user)
        data = await body(request)
        text = string_field(data, "content")
        if not text:
            raise Refusal(400, "content is required")
        run = str(uuid.uuid4())
        envelope = {
            "run_id": run,
            "type": "message",
            "message": {"parts": [{"text": text, "type": "text"}], "role": "user", "content": "", "id": ""},
        }
        message = world.append(chat, "user", envelope)
        _tool_run(world, chat, run, text)
        return _answer(201, {"message": message, "run_id": run})

    async def not_found(request: Request, exc: Exception) -> Response:
        return _answer(404, {"message": "Route not found."})

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return _answer(
            exc.status,
            {"message": exc.message, "detail": exc.detail} if exc.detail else {"message": exc.message},
        )

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _answer(405, {"message": "Method not allowed."})

    return Starlette(
        routes=[
            Route("/api/v2/chats", create_chat, methods=["POST"]),
            Route("/api/v2/chats/{chat}", get_chat, methods=["GET"]),
            Route("/api/v2/chats/{chat}/messages", list_messages, methods=["GET"]),
            Route("/api/v2/chats/{chat}/messages", post_message, methods=["POST"]),
        ],
        exception_handlers={Refusal: refused, 404: not_found, 405: not_allowed},
    )


def _tool_run(world: World, chat: str, run: str, text: str) -> None:
    """A run that calls a tool, then answers: a different script from the mock's echo."""

    def event(name: str, **extra: Any) -> dict[str, Any]:
        return {
            "usage": {"completionTokens": None, "promptTokens": None},
            "event": name,
            "run_id": run,
            "type": "stream_event",
            **extra,
        }

    world.append(chat, "system", event("run_started"))
    call = {
        "type": "tool_call",
        "run_id": run,
        "step": 0,
        "tool_call_id": "call-1",
        "tool_name": "count_words",
        "args": {"text": text},
    }
    world.append(chat, "tool_call", call)
    world.append(
        chat,
        "tool_result",
        {**call, "type": "tool_result", "result": {"words": len(text.split())}, "duration_ms": 3},
    )
    words = len(text.split())
    reply = f"{words} words."
    invocation = {
        "toolInvocation": {
            "result": {"words": words},
            "args": {"text": text},
            "toolName": "count_words",
            "toolCallId": "call-1",
            "state": "result",
        },
        "type": "tool-invocation",
    }
    world.append(
        chat,
        "assistant",
        {
            "type": "message",
            "run_id": run,
            "message": {
                "id": "m1",
                "content": reply,
                "role": "assistant",
                "parts": [invocation, {"type": "text", "text": reply}],
            },
        },
    )
    world.append(
        chat, "system", {**event("usage", step=0), "usage": {"completionTokens": 2, "promptTokens": 9}}
    )
    world.append(chat, "system", event("run_finished", finish_reason="stop", steps=1))
