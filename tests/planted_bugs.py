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

from mockserver import DEMO_TOKENS, ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.models import Chat, Role
from mockserver.core.store import ChatStore
from mockserver.v1.agent import Burst, ScenarioAgent, plan_run
from tests.app_settings import app_settings

__all__ = ["UNBREAKABLE_DOCUMENT_RULES", "VARIANTS", "Variant", "correct_mock"]

Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]  # (method, path, status, body) -> (status, body)
ASGIApp = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Variant:
    """A mock with one planted bug."""

    name: str
    rules: tuple[str, ...]  # verify must name at least one of these
    build: Callable[[], ASGIApp]


def correct_mock(**parts: Any) -> ASGIApp:
    """The unmodified mock, deterministic, with agent runs complete when a post returns."""
    clock = SteppingClock()
    new_id = seeded_uuids(7)
    app: ASGIApp = create_app(
        app_settings(validate_responses=False, swagger_ui=False),
        clock=clock,
        new_id=new_id,
        scheduler=ImmediateScheduler(),
        **{name: make(clock, new_id) for name, make in parts.items()},
    )
    return app


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
        chat = self._chats.get(chat_id.int)  # the store keys its tables by the id's int
        if chat is not None and chat.owner_id != owner.id:
            from mockserver.core.errors import WorkspaceForbidden

            raise WorkspaceForbidden(str(chat_id))
        return super().get_chat(owner, chat_id)


class _LosesUserMessages(ChatStore):
    # Breaks posted_message_is_listed: the posted message is answered but never stored, whether
    # its content comes whole or packed (the V1 post stores it packed).
    def append_message(self, chat_id: Any, role: Role, content: Any) -> Any:
        return self._lose_user_row(super().append_message(chat_id, role, content))

    def append_packed_message(self, chat_id: Any, role: Role, packed: bytes) -> Any:
        return self._lose_user_row(super().append_packed_message(chat_id, role, packed))

    def _lose_user_row(self, message: Any) -> Any:
        if message.role is Role.USER:
            self._transcripts[message.chat_id.int].remove(message)
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
            self._transcripts[chat_id.int].remove(message)
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
    # Breaks run_finishes_once_last: the run starts and never writes an answer or run_finished.
    def start_run(self, chat: Chat, run_id: uuid.UUID, text: str, run: str | None = None) -> None:
        scenario = self.library.select(text, chat.metadata)
        started = plan_run(scenario, run_id, text)[0].rows[0]  # run_started, and nothing after it
        self._play(chat.id, run_id, [Burst(0.0, [started], [started])])


class _WrongRunIdAgent(ScenarioAgent):
    # Breaks run_rows_carry_its_run_id: the run's rows carry another run id than the post answered.
    def start_run(self, chat: Chat, run_id: uuid.UUID, text: str, run: str | None = None) -> None:
        super().start_run(chat, uuid.UUID(int=run_id.int ^ 1), text)  # not the run the post spelt


def _store(cls: type[ChatStore]) -> Callable[[], ASGIApp]:
    return lambda: correct_mock(store=lambda clock, new_id: cls(clock=clock, new_id=new_id))


def _agent(cls: type[ScenarioAgent]) -> Callable[[], ASGIApp]:
    def build() -> ASGIApp:
        clock, new_id = SteppingClock(), seeded_uuids(7)
        store = ChatStore(clock=clock, new_id=new_id)
        app: ASGIApp = create_app(
            app_settings(validate_responses=False, swagger_ui=False),
            clock=clock,
            new_id=new_id,
            store=store,
            agent=cls(store, ImmediateScheduler()),
        )
        return app

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


# --- run grammar (WIRE.md section 4): each run's listed rows rewritten ------------------------

RunRewrite = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # a run's rows -> shown rows


def _content(row: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = row["content"]
    return content


def _kind(row: dict[str, Any]) -> str:
    content = _content(row)
    return str(content.get("event") or content["type"])


def _swap(rows: list[dict[str, Any]], first: int, second: int) -> None:
    """Two rows trade places; the ids stay where they were, so the list still ascends."""
    a, b = rows[first], rows[second]
    rows[first] = {**a, "role": b["role"], "content": b["content"]}
    rows[second] = {**b, "role": a["role"], "content": a["content"]}


def _first(rows: list[dict[str, Any]], kind: str) -> int | None:
    return next((i for i, row in enumerate(rows) if _kind(row) == kind), None)


def _rewrite_each_run(change: RunRewrite) -> Rewrite:
    """A listing whose rows of each run are shown as `change` makes them (in the runs' places)."""

    def rewrite(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if (method, path, status) != ("GET", "/chats/{chat}/messages", 200):
            return status, body
        body = json.loads(json.dumps(body))
        places: dict[str, list[int]] = {}
        for index, row in enumerate(body):
            run = _content(row).get("run_id")
            if run is not None and row["role"] != "user":
                places.setdefault(run, []).append(index)
        shown = {run: change([body[i] for i in where]) for run, where in places.items()}
        out = []
        for index, row in enumerate(body):
            run = _content(row).get("run_id")
            if run is None or row["role"] == "user":
                out.append(row)
                continue
            rows, where = shown[run], places[run]
            slot = where.index(index)
            if slot < len(rows):
                out.append(rows[slot])
            if slot == len(where) - 1:
                out.extend(rows[len(where) :])
        return status, out

    return rewrite


def _started_not_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks run_starts_once_first: run_started comes second.
    _swap(rows, 0, 1)
    return rows


def _finished_not_last(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks run_finishes_once_last: the run's last two rows trade places.
    _swap(rows, len(rows) - 2, len(rows) - 1)
    return rows


def _finish_reason_invalid(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks run_finishes_once_last: a finish_reason no SDK sends.
    _content(rows[-1])["finish_reason"] = "done"
    return rows


def _steps_miscounted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks run_finished_counts_steps: one step more than the run had.
    finished = _content(rows[-1])
    finished["steps"] = finished.get("steps", 0) + 1
    return rows


def _error_then_stop(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks failed_run_ends_with_error: a failed run's run_finished says `stop`.
    if _first(rows, "error") is not None:
        _content(rows[-1])["finish_reason"] = "stop"
    return rows


def _error_without_code(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks failed_run_ends_with_error: the error row has no `code`.
    index = _first(rows, "error")
    if index is not None:
        _content(rows[index]).pop("code")
    return rows


def _result_before_call(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks tool_result_follows_its_call: the first tool_result is listed before its call.
    index = _first(rows, "tool_call")
    if index is not None:
        _swap(rows, index, index + 1)
    return rows


def _result_of_another_call(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks tool_result_follows_its_call: the first result names a call id no call has.
    index = _first(rows, "tool_result")
    if index is not None:
        _content(rows[index])["tool_call_id"] += "-other"
    return rows


def _usage_missing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks step_ends_with_message_then_usage: the first step's usage event is not stored.
    index = _first(rows, "usage")
    return rows if index is None else rows[:index] + rows[index + 1 :]


def _usage_before_message(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks step_ends_with_message_then_usage: usage is written before the step's message.
    index = _first(rows, "usage")
    if index is not None:
        _swap(rows, index - 1, index)
    return rows


def _steps_from_one(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks steps_count_from_zero: every step number is one too high.
    for row in rows:
        content = _content(row)
        if "step" in content:
            content["step"] += 1
    return rows


def _content_empty(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks assistant_content_is_its_text: the assistant message's content is "" despite text parts.
    for row in rows:
        if row["role"] == "assistant":
            _content(row)["message"]["content"] = ""
    return rows


def _content_not_its_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks assistant_content_is_its_text: content differs from the joined text parts.
    for row in rows:
        if row["role"] == "assistant":
            _content(row)["message"]["content"] += " (and more)"
    return rows


def _invocation_of_another_call(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks tool_invocations_match_tool_rows: tool-invocation parts name another call id.
    for row in rows:
        if row["role"] == "assistant":
            for part in _content(row)["message"]["parts"]:
                if part["type"] == "tool-invocation":
                    part["toolInvocation"]["toolCallId"] += "-other"
    return rows


def _ids_reversed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Breaks run_row_ids_increase: a run's rows listed in write order, but with their ids reversed.
    ids = [row["id"] for row in rows]
    return [{**row, "id": new_id} for row, new_id in zip(rows, reversed(ids), strict=True)]


def _history_rewritten(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks history_is_append_only: once a later message is posted, the first run's answer is revised.
    if (method, path, status) != ("GET", "/chats/{chat}/messages", 200):
        return status, body
    if sum(row["role"] == "user" for row in body) < 2:
        return status, body
    body = json.loads(json.dumps(body))
    for row in body:
        if row["role"] == "assistant":
            message = _content(row)["message"]
            message["content"] += " (revised)"
            for part in message["parts"]:
                if part["type"] == "text":
                    part["text"] += " (revised)"
            break
    return status, body


# --- token sources (WIRE.md section 2): the request's scope altered before the mock sees it ----

ScopeChange = Callable[[dict[str, Any]], dict[str, Any]]


class _ScopeAltered:
    """The mock behind a change of each request's scope (headers, query string)."""

    def __init__(self, change: ScopeChange, *, websocket: bool = False) -> None:
        self._app = correct_mock()
        self._change = change
        self._types = ("http", "websocket") if websocket else ("http",)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in self._types:
            scope = self._change(dict(scope))
        await self._app(scope, receive, send)


def _without_headers(scope: dict[str, Any], *names: bytes) -> dict[str, Any]:
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() not in names]
    return scope


def _without_query_token(scope: dict[str, Any]) -> dict[str, Any]:
    pairs = [
        p for p in scope.get("query_string", b"").split(b"&") if not p.startswith(b"coder_session_token=")
    ]
    scope["query_string"] = b"&".join(pairs)
    return scope


def _header_before_others(scope: dict[str, Any]) -> dict[str, Any]:
    # Breaks token_sources_in_coder_order: the header, when sent, wins over the cookie and the query.
    if any(k == b"coder-session-token" for k, _ in scope["headers"]):
        scope = _without_query_token(_without_headers(scope, b"cookie"))
    return scope


class _UnknownQueryTokenForbidden:
    # Breaks wrong_token_is_refused_in_every_source: an unknown token in the query is a 403, not the 401.
    def __init__(self) -> None:
        self._app = correct_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        known = {b"coder_session_token=" + t.encode() for t in DEMO_TOKENS.values()}
        if any(p.startswith(b"coder_session_token=") and p not in known for p in query.split(b"&")):
            await _send_json(send, 403, b'{"message":"Forbidden."}')
            return
        await self._app(scope, receive, send)


# --- WIRE.md section 4: orders within a step, and the chat a post leaves alone -----------------


def _tool_rows_batched(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks tool_result_follows_its_call: a step's calls are all listed before their results
    # (call, call, result, result; WIRE.md section 4 lists each call then its result).
    if (method, path, status) != ("GET", "/chats/{chat}/messages", 200) or not isinstance(body, list):
        return status, body
    rows = json.loads(json.dumps(body))
    for index in range(len(rows) - 3):
        kinds = [row["role"] for row in rows[index : index + 4]]
        if kinds == ["tool_call", "tool_result", "tool_call", "tool_result"]:
            first, second = rows[index + 1], rows[index + 2]
            rows[index + 1] = {**second, "id": first["id"], "created_at": first["created_at"]}
            rows[index + 2] = {**first, "id": second["id"], "created_at": second["created_at"]}
    return status, rows


def _tool_invocations_reversed(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks tool_invocations_match_tool_rows: a step's tool-invocation parts are in reverse call order.
    if (method, path, status) != ("GET", "/chats/{chat}/messages", 200) or not isinstance(body, list):
        return status, body
    rows = json.loads(json.dumps(body))
    for row in rows:
        message = _content(row).get("message") if row.get("role") == "assistant" else None
        if not isinstance(message, dict):
            continue
        parts = message.get("parts")
        if isinstance(parts, list) and sum(p.get("type") == "tool-invocation" for p in parts) > 1:
            invocations = [p for p in parts if p.get("type") == "tool-invocation"]
            others = [p for p in parts if p.get("type") != "tool-invocation"]
            message["parts"] = others + invocations[::-1]
    return status, rows


class _PostTouchesTheChat:
    """Breaks post_leaves_the_chat_unchanged: a chat's updated_at moves once a message is posted to it."""

    def __init__(self) -> None:
        self._posted: set[str] = set()
        self._app = _RewriteResponses(correct_mock(), self._rewrite)

    def _rewrite(self, method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if (method, path, status) == ("GET", "/chats/{chat}", 200) and body.get("id") in self._posted:
            return status, {**body, "updated_at": "2099-01-01T00:00:00Z"}
        return status, body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        parts = scope.get("path", "").removeprefix("/api/v2").split("/")
        if scope["type"] == "http" and scope["method"] == "POST" and parts[3:] == ["messages"]:
            self._posted.add(parts[2])
        await self._app(scope, receive, send)


# --- chats.yaml: the Schemathesis phase's rules a server can break -----------------------------


class _ChatAsText:
    """Breaks content_type_conformance: GET /chats/{chat} answers its JSON as `text/plain`."""

    def __init__(self) -> None:
        self._app = correct_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], _route(scope["path"])) != ("GET", "/chats/{chat}"):
            await self._app(scope, receive, send)
            return

        async def relabelled(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-type"]
                message = {**message, "headers": [*headers, (b"content-type", b"text/plain")]}
            await send(message)

        await self._app(scope, receive, relabelled)


def _invalid_create_accepted(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks negative_data_rejection: POST /chats with an invalid body is answered 201.
    return (201 if (method, path, status) == ("POST", "/chats", 400) else status), body


def _transcript_signed_out(method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks positive_data_acceptance: a valid transcript request answers 401 (documented, not due).
    if (method, path, status) == ("GET", "/chats/{chat}/messages", 200):
        message = "You are signed out or your session has expired. Please sign in again to continue."
        return 401, {"message": message}
    return status, body


# The Schemathesis phase's rules no server can break against V1's document: it names no response
# header, Schemathesis finds no parent case under verify's stateful driver, and the situations of
# the others never arise (verify reports them not exercised).
UNBREAKABLE_DOCUMENT_RULES = frozenset(
    {
        "response_headers_conformance",
        "ensure_resource_availability",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "object_level_authorization",
    }
)


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
    Variant("agent_never_finishes", ("run_finishes_once_last",), _agent(_StallingAgent)),
    Variant("agent_rows_carry_wrong_run_id", ("run_rows_carry_its_run_id",), _agent(_WrongRunIdAgent)),
    Variant(
        "run_started_not_first", ("run_starts_once_first",), _rewritten(_rewrite_each_run(_started_not_first))
    ),
    Variant(
        "run_finished_not_last",
        ("run_finishes_once_last",),
        _rewritten(_rewrite_each_run(_finished_not_last)),
    ),
    Variant(
        "finish_reason_invalid",
        ("run_finishes_once_last",),
        _rewritten(_rewrite_each_run(_finish_reason_invalid)),
    ),
    Variant(
        "steps_miscounted", ("run_finished_counts_steps",), _rewritten(_rewrite_each_run(_steps_miscounted))
    ),
    Variant(
        "failed_run_finishes_stop",
        ("failed_run_ends_with_error",),
        _rewritten(_rewrite_each_run(_error_then_stop)),
    ),
    Variant(
        "error_row_without_code",
        ("failed_run_ends_with_error",),
        _rewritten(_rewrite_each_run(_error_without_code)),
    ),
    Variant(
        "tool_result_before_call",
        ("tool_result_follows_its_call",),
        _rewritten(_rewrite_each_run(_result_before_call)),
    ),
    Variant(
        "tool_result_of_another_call",
        ("tool_result_follows_its_call",),
        _rewritten(_rewrite_each_run(_result_of_another_call)),
    ),
    Variant(
        "usage_missing", ("step_ends_with_message_then_usage",), _rewritten(_rewrite_each_run(_usage_missing))
    ),
    Variant(
        "usage_before_message",
        ("step_ends_with_message_then_usage",),
        _rewritten(_rewrite_each_run(_usage_before_message)),
    ),
    Variant("steps_from_one", ("steps_count_from_zero",), _rewritten(_rewrite_each_run(_steps_from_one))),
    Variant(
        "assistant_content_empty",
        ("assistant_content_is_its_text",),
        _rewritten(_rewrite_each_run(_content_empty)),
    ),
    Variant(
        "assistant_content_not_its_text",
        ("assistant_content_is_its_text",),
        _rewritten(_rewrite_each_run(_content_not_its_text)),
    ),
    Variant(
        "tool_invocation_of_another_call",
        ("tool_invocations_match_tool_rows",),
        _rewritten(_rewrite_each_run(_invocation_of_another_call)),
    ),
    Variant("run_row_ids_reversed", ("run_row_ids_increase",), _rewritten(_rewrite_each_run(_ids_reversed))),
    Variant("history_rewritten", ("history_is_append_only",), _rewritten(_history_rewritten)),
    Variant("tool_rows_batched", ("tool_result_follows_its_call",), _rewritten(_tool_rows_batched)),
    Variant(
        "tool_invocations_reversed",
        ("tool_invocations_match_tool_rows",),
        _rewritten(_tool_invocations_reversed),
    ),
    Variant("post_touches_the_chat", ("post_leaves_the_chat_unchanged",), _PostTouchesTheChat),
    Variant("chat_as_text", ("content_type_conformance",), _ChatAsText),
    Variant("invalid_create_accepted", ("negative_data_rejection",), _rewritten(_invalid_create_accepted)),
    Variant("transcript_signed_out", ("positive_data_acceptance",), _rewritten(_transcript_signed_out)),
    # Breaks every_token_source_is_read: the cookie is never looked at.
    Variant(
        "cookie_token_ignored",
        ("every_token_source_is_read",),
        lambda: _ScopeAltered(lambda scope: _without_headers(scope, b"cookie")),
    ),
    # Breaks every_token_source_is_read: the query parameter is never looked at.
    Variant(
        "query_token_ignored", ("every_token_source_is_read",), lambda: _ScopeAltered(_without_query_token)
    ),
    # Breaks every_token_source_is_read: `Authorization: Bearer` is never looked at.
    Variant(
        "bearer_token_ignored",
        ("every_token_source_is_read",),
        lambda: _ScopeAltered(lambda scope: _without_headers(scope, b"authorization")),
    ),
    Variant(
        "unknown_query_token_forbidden",
        ("wrong_token_is_refused_in_every_source",),
        _UnknownQueryTokenForbidden,
    ),
    Variant(
        "header_read_before_cookie_and_query",
        ("token_sources_in_coder_order",),
        lambda: _ScopeAltered(_header_before_others),
    ),
    # Breaks watch_reads_every_token_source: watch-ws never looks at the query parameter.
    Variant(
        "watch_ignores_query_token",
        ("watch_reads_every_token_source",),
        lambda: _ScopeAltered(
            lambda scope: _without_query_token(scope) if scope["type"] == "websocket" else scope,
            websocket=True,
        ),
    ),
)
