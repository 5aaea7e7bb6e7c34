"""Planted-bug variants of the mock: each one small deviation, with the rule it breaks.

Each variant is the real mock with one thing altered: a response rewritten by a tiny ASGI
wrapper, or the store or agent subclassed. `rules` lists the rule names verify may report for
it (a deviation can break more than one rule); verify must fail naming at least one of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver import ImmediateScheduler, Settings, SteppingClock, create_app, seeded_uuids
from mockserver.core.models import Chat, Role
from mockserver.core.store import ChatStore
from mockserver.v1.agent import ScenarioAgent, plan_run

__all__ = ["VARIANTS", "Variant", "correct_mock"]

Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]  # (method, path, status, body) -> (status, body)
ASGIApp = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Variant:
    """A mock with one planted bug."""

    name: str
    rules: tuple[str, ...]  # verify must name at least one of these
    build: Callable[[], ASGIApp]
    needs_agent_check: bool = False  # only visible with --expect-agent


def correct_mock(**parts: Any) -> ASGIApp:
    """The unmodified mock, deterministic, with agent runs complete when a post returns."""
    clock = SteppingClock()
    new_id = seeded_uuids(7)
    return create_app(
        Settings(validate_responses=False, swagger_ui=False),
        clock=clock,
        new_id=new_id,
        scheduler=ImmediateScheduler(),
        **{name: make(clock, new_id) for name, make in parts.items()},
    )


class _RewriteResponses:
    """Buffers each JSON answer and hands it to `rewrite`; the request is passed untouched."""

    def __init__(self, app: ASGIApp, rewrite: Rewrite) -> None:
        self._app, self._rewrite = app, rewrite

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            raw = b"".join(chunks)
            try:
                body = json.loads(raw)
            except ValueError:
                status, out = start["status"], raw
            else:
                status, new_body = self._rewrite(
                    scope["method"], _route(scope["path"]), start["status"], body
                )
                out = json.dumps(new_body).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(out)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": out})

        await self._app(scope, receive, capture)


def _route(path: str) -> str:
    parts = path.removeprefix("/api/v2").split("/")
    if len(parts) >= 3 and parts[1] == "chats":
        parts[2] = "{chat}"
    return "/".join(parts)


def _rewritten(rewrite: Rewrite) -> Callable[[], ASGIApp]:
    return lambda: _RewriteResponses(correct_mock(), rewrite)


# --- response rewrites ---------------------------------------------------------------------


def _create_answers_200(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks status_code_conformance: creating a chat answers 200 instead of 201.
    return (200 if (method, path, status) == ("POST", "/chats", 201) else status), body


def _owner_id_missing(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks response_schema_conformance: Chat without its required `owner_id`.
    if isinstance(body, dict) and "owner_id" in body:
        body = {k: v for k, v in body.items() if k != "owner_id"}
    return status, body


def _message_id_as_string(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks response_schema_conformance: a message `id` sent as a string, not an integer.
    if path == "/chats/{chat}/messages" and status == 200 and isinstance(body, list):
        body = [{**row, "id": str(row["id"])} for row in body]
    return status, body


def _error_body_renamed(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks coder_error_body: 404 answered as {"error": ...} instead of {"message": ...}.
    if status == 404 and isinstance(body, dict):
        body = {"error": body.get("message")}
    return status, body


def _not_found_with_period(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks errors_are_coders: Coder's 404 message has no final period; this one adds one.
    if status == 404 and isinstance(body, dict) and body.get("message", "").startswith("Resource not found"):
        body = {**body, "message": body["message"] + "."}
    return status, body


def _empty_detail_sent(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks errors_are_coders: `detail` must be omitted when empty, not sent as "".
    if status >= 400 and isinstance(body, dict) and "detail" not in body:
        body = {**body, "detail": ""}
    return status, body


def _descending_list(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks message_ids_increase / transcript_is_ordered: the transcript listed newest first.
    if path == "/chats/{chat}/messages" and method == "GET" and isinstance(body, list):
        body = list(reversed(body))
    return status, body


def _run_id_differs(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks posted_message_is_listed: the answer's run_id is not the one the envelope carries.
    if (method, path, status) == ("POST", "/chats/{chat}/messages", 201):
        body = {**body, "run_id": str(uuid.UUID(int=uuid.UUID(body["run_id"]).int ^ 1))}
    return status, body


def _workspace_id_omitted(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks created_chat_reads_back (and the schema): `workspace_id` dropped instead of null.
    if isinstance(body, dict) and body.get("workspace_id", "x") is None:
        body = {k: v for k, v in body.items() if k != "workspace_id"}
    return status, body


# --- store and agent variants --------------------------------------------------------------


class _ReadableByAnyone(ChatStore):
    # Breaks chats_are_private: another user's chat is readable (the owner is not checked).
    def get_chat(self, owner: Any, chat_id: Any) -> Any:
        for chat in self._chats.values():
            if chat.id == chat_id:
                return chat
        return super().get_chat(owner, chat_id)


class _ForbiddenNotHidden(ChatStore):
    # Breaks chats_are_private: another user's chat is a 403, not a 404.
    def get_chat(self, owner: Any, chat_id: Any) -> Any:
        chat = self._chats.get(chat_id)
        if chat is not None and chat.owner_id != owner.id:
            from mockserver.core.errors import WorkspaceForbidden

            raise WorkspaceForbidden(str(chat_id))
        return super().get_chat(owner, chat_id)


class _LosesUserMessages(ChatStore):
    # Breaks posted_message_is_listed: the posted message is answered but never stored.
    def append_message(self, chat_id: Any, role: Role, content: Any) -> Any:
        message = super().append_message(chat_id, role, content)
        if role is Role.USER:
            self._transcripts[chat_id].remove(message)
        return message


class _DuplicateIds(ChatStore):
    # Breaks message_ids_increase: every id is handed out twice.
    _again = True

    def append_message(self, chat_id: Any, role: Role, content: Any) -> Any:
        message = super().append_message(chat_id, role, content)
        if self._again:
            self._last_message_id -= 1  # the next row gets this id too
        self._again = not self._again
        return message


class _NoSystemPrompt(ChatStore):
    # Breaks new_transcript_is_the_system_prompt: a new chat's transcript is empty.
    def append_message(self, chat_id: Any, role: Role, content: Any) -> Any:
        message = super().append_message(chat_id, role, content)
        if role is Role.SYSTEM and content.get("type") == "system_prompt":
            self._transcripts[chat_id].remove(message)
        return message


class _KeepsEmptyTitle(ChatStore):
    # Breaks created_chat_reads_back: an empty title is stored as " " and sent back.
    def create_chat(self, owner: Any, **fields: Any) -> Any:
        if not fields["title"]:
            fields["title"] = " "
        return super().create_chat(owner, **fields)


class _DropsMetadata(ChatStore):
    # Breaks created_chat_reads_back: metadata is not kept (always `{}`).
    def create_chat(self, owner: Any, **fields: Any) -> Any:
        return super().create_chat(owner, **{**fields, "metadata": {}})


class _StallingAgent(ScenarioAgent):
    # Breaks agent_run_finishes: the run starts and never writes an answer or run_finished.
    def start_run(self, chat: Chat, run_id: uuid.UUID, text: str) -> None:
        scenario = self.library.select(text, chat.metadata)
        self._play(chat.id, run_id, plan_run(scenario, run_id, text)[:1])


class _WrongRunIdAgent(ScenarioAgent):
    # Breaks agent_run_finishes: the run's rows carry another run id than the post answered.
    def start_run(self, chat: Chat, run_id: uuid.UUID, text: str) -> None:
        super().start_run(chat, uuid.UUID(int=run_id.int ^ 1), text)


def _store(cls: type[ChatStore]) -> Callable[[], ASGIApp]:
    return lambda: correct_mock(store=lambda clock, new_id: cls(clock=clock, new_id=new_id))


def _agent(cls: type[ScenarioAgent]) -> Callable[[], ASGIApp]:
    def build() -> ASGIApp:
        clock, new_id = SteppingClock(), seeded_uuids(7)
        store = ChatStore(clock=clock, new_id=new_id)
        return create_app(
            Settings(validate_responses=False, swagger_ui=False),
            clock=clock,
            new_id=new_id,
            store=store,
            agent=cls(store, ImmediateScheduler()),
        )

    return build


# --- request-side variants -----------------------------------------------------------------


class _AuthIgnored:
    # Breaks tokens_are_required: a request without a token is served as the first user.
    def __init__(self) -> None:
        self._app = correct_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = list(scope["headers"])
            if not any(name in (b"coder-session-token", b"authorization", b"cookie") for name, _ in headers):
                headers.append((b"coder-session-token", b"alice00001-AliceDemoSessionSecret"))
            scope = {**scope, "headers": headers}
        await self._app(scope, receive, send)


async def _send_json(send: Any, status: int, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


class _BodyBeforeAuth:
    # Breaks checks_run_in_coder_order: a broken JSON body is refused before authentication.
    def __init__(self) -> None:
        self._app = correct_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            json.loads(raw or b"null")
        except ValueError:
            body = b'{"message":"Request body must be valid JSON.","detail":"unexpected EOF"}'
            await _send_json(send, 400, body)
            return

        async def replay() -> Any:
            return {"type": "http.request", "body": raw, "more_body": False}

        await self._app(scope, replay, send)


class _CrashOnNullBody:
    # Breaks errors_are_coders / not_a_server_error: a JSON `null` body is a 500, not a 400.
    def __init__(self) -> None:
        self._app = correct_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        message = await receive()
        if message.get("body", b"").strip() == b"null":
            body = b'{"message":"An internal server error occurred."}'
            await _send_json(send, 500, body)
            return

        async def replay() -> Any:
            return message

        await self._app(scope, replay, send)


VARIANTS: tuple[Variant, ...] = (
    Variant(
        "create_answers_200",
        ("status_code_conformance", "created_chat_reads_back"),
        _rewritten(_create_answers_200),
    ),
    Variant("chat_owner_id_missing", ("response_schema_conformance",), _rewritten(_owner_id_missing)),
    Variant("message_id_is_string", ("response_schema_conformance",), _rewritten(_message_id_as_string)),
    Variant("error_body_renamed", ("coder_error_body", "errors_are_coders"), _rewritten(_error_body_renamed)),
    Variant(
        "not_found_message_with_period",
        ("errors_are_coders", "coder_error_body"),
        _rewritten(_not_found_with_period),
    ),
    Variant("empty_detail_sent", ("errors_are_coders", "coder_error_body"), _rewritten(_empty_detail_sent)),
    Variant("auth_ignored", ("tokens_are_required", "ignored_auth"), _AuthIgnored),
    Variant("body_checked_before_auth", ("checks_run_in_coder_order",), _BodyBeforeAuth),
    Variant("other_users_chat_readable", ("chats_are_private",), _store(_ReadableByAnyone)),
    Variant("other_users_chat_forbidden", ("chats_are_private",), _store(_ForbiddenNotHidden)),
    Variant("posted_message_lost", ("posted_message_is_listed",), _store(_LosesUserMessages)),
    Variant(
        "transcript_descending",
        ("message_ids_increase", "transcript_is_ordered"),
        _rewritten(_descending_list),
    ),
    Variant(
        "duplicate_message_ids", ("message_ids_increase", "transcript_is_ordered"), _store(_DuplicateIds)
    ),
    Variant("server_error_on_null_body", ("errors_are_coders", "not_a_server_error"), _CrashOnNullBody),
    Variant(
        "run_id_differs_from_envelope",
        ("posted_message_is_listed", "answer_matches_request"),
        _rewritten(_run_id_differs),
    ),
    Variant("no_system_prompt", ("new_transcript_is_the_system_prompt",), _store(_NoSystemPrompt)),
    Variant("empty_title_kept", ("created_chat_reads_back",), _store(_KeepsEmptyTitle)),
    Variant(
        "metadata_dropped", ("created_chat_reads_back", "answer_matches_request"), _store(_DropsMetadata)
    ),
    Variant(
        "workspace_id_omitted",
        ("created_chat_reads_back", "response_schema_conformance"),
        _rewritten(_workspace_id_omitted),
    ),
    Variant("agent_never_finishes", ("agent_run_finishes",), _agent(_StallingAgent), needs_agent_check=True),
    Variant(
        "agent_rows_carry_wrong_run_id",
        ("agent_run_finishes",),
        _agent(_WrongRunIdAgent),
        needs_agent_check=True,
    ),
)
