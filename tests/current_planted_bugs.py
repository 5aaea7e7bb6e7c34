"""Planted-bug variants of the current-API mock: each one small deviation, with the rule it breaks.

Each variant is the real mock (`--api current`) with one thing altered: a request or response
rewritten by a tiny ASGI wrapper, or the store subclassed. `rules` lists the rule names verify
may report for it; verify must fail naming at least one of them.

The mock runs on a virtual clock that every request pushes forward (`PUSH` seconds): a `slow`
run stays busy over a few of verify's requests and ends after some thirty, so the checks see
busy chats and finished runs without the test waiting on real time.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

import mockserver.current.generation
from mockserver import DEMO_TOKENS, ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.models import Chat, ChatStatus
from mockserver.core.store import ChatStore
from mockserver.current.engine import ChatEngine
from tests.app_settings import app_settings

__all__ = ["PUSH", "UNBREAKABLE_DOCUMENT_RULES", "VARIANTS", "Variant", "current_mock", "rewrite_requests"]

ASGIApp = Callable[..., Any]
Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]  # (method, route, status, body) -> (status, body)
# Virtual seconds each request moves the mock's clock.
PUSH = 0.25
TOKENS = (DEMO_TOKENS["alice"], DEMO_TOKENS["bob"])


@dataclass(frozen=True, slots=True)
class Variant:
    """A current-API mock with one planted bug."""

    name: str
    rules: tuple[str, ...]  # verify must name at least one of these
    build: Callable[[], ASGIApp]


class PushedByRequests:
    """The app, with a virtual clock that each HTTP request pushes forward by `step` seconds."""

    def __init__(self, app: ASGIApp, scheduler: ManualScheduler, step: float) -> None:
        self._app, self._scheduler, self._step = app, scheduler, step
        self.busy_answers = 0  # requests answered while a run still had something to write

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self._scheduler.advance(self._step)
            self.busy_answers += self._scheduler.pending > 0
        await self._app(scope, receive, send)


def current_mock(
    *,
    step: float = PUSH,
    store: Callable[..., ChatStore] = ChatStore,
    engine: type[ChatEngine] = ChatEngine,
    scheduler: ManualScheduler | None = None,
    **settings: Any,
) -> PushedByRequests:
    """The current-API mock on a virtual clock each request pushes `step` seconds.

    `store` and `engine` replace the store and the engine class (a planted bug's subclass).
    """
    clock, new_id = SteppingClock(), seeded_uuids(11)
    scheduler = scheduler or ManualScheduler()
    with mock.patch.object(mockserver.current.generation, "ChatEngine", engine):
        app = create_app(
            app_settings(api="current", validate_responses=False, swagger_ui=False, **settings),
            clock=clock,
            new_id=new_id,
            scheduler=scheduler,
            store=store(clock=clock, new_id=new_id),
        )
    return PushedByRequests(app, scheduler, step)


def _route(path: str) -> str:
    parts = path.removeprefix("/api/v2").split("/")
    if len(parts) >= 3 and parts[1] == "chats" and parts[2] != "watch":
        parts[2] = "{chat}"
    return "/".join(parts)


async def _answer(send: Any, status: int, out: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(out)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": out})


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
            headers = list(start.get("headers", []))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                await _answer(send, start["status"], raw, headers)
                return
            status, new_body = self._rewrite(scope["method"], _route(scope["path"]), start["status"], body)
            out = raw if new_body is None else json.dumps(new_body).encode()
            if new_body is not None and not any(k.lower() == b"content-type" for k, _ in headers):
                headers.append((b"content-type", b"application/json"))
            await _answer(send, status, out, headers)

        await self._app(scope, receive, capture)


# (method, route, query, body) -> (query, body); a body that is not JSON arrives as _NOT_JSON.
RequestRewrite = Callable[[str, str, str, Any], tuple[str, Any]]
_NOT_JSON = object()


class _RewriteRequests:
    """Hands each request's query string and JSON body to `rewrite` before the app reads them."""

    def __init__(self, app: ASGIApp, rewrite: RequestRewrite) -> None:
        self._app, self._rewrite = app, rewrite

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = _NOT_JSON
        query, new_body = self._rewrite(
            scope["method"], _route(scope["path"]), scope["query_string"].decode(), body
        )
        out = raw if new_body is _NOT_JSON or new_body is body else json.dumps(new_body).encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(out)).encode()))
        scope = {**scope, "query_string": query.encode(), "headers": headers}
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": out, "more_body": False}

        await self._app(scope, replay, send)


def rewrite_requests(app: ASGIApp, rewrite: RequestRewrite) -> ASGIApp:
    """`app` with each request's query string and JSON body handed to `rewrite` first."""
    return _RewriteRequests(app, rewrite)


def _responses(rewrite: Rewrite, **parts: Any) -> Callable[[], ASGIApp]:
    return lambda: _RewriteResponses(current_mock(**parts), rewrite)


def _requests(rewrite: RequestRewrite) -> Callable[[], ASGIApp]:
    return lambda: _RewriteRequests(current_mock(), rewrite)


def _is_chat(body: Any) -> bool:
    return isinstance(body, dict) and "status" in body and "organization_id" in body


# --- WIRE.md §2 ------------------------------------------------------------------------------


def _queue_routes_look_up_before_auth(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks tokens_are_required: the queue routes answer 404 to a missing token (the row looked up first).
    if status == 401 and "/queue/" in route:
        return 404, {"message": "Resource not found or you do not have access to this resource"}
    return status, body


def _bad_uuid_is_not_found(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks chat_param_is_a_uuid: a {chat} that is not a UUID answered 404 on PATCH.
    if (
        method == "PATCH"
        and status == 400
        and str((body or {}).get("message", "")).startswith("Invalid UUID")
    ):
        return 404, {"message": "Resource not found or you do not have access to this resource"}
    return status, body


def _invalid_json_reworded(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks bodies_are_read_like_go: a body that does not decode gets another message.
    if status == 400 and isinstance(body, dict) and body.get("message") == "Request body must be valid JSON.":
        return status, {**body, "message": "Invalid request body."}
    return status, body


# The fields each request body of WIRE.md §3 names: a strict decoder refuses any other.
_KNOWN_FIELDS = {
    "/chats": {
        "organization_id",
        "content",
        "system_prompt",
        "workspace_id",
        "model_config_id",
        "reasoning_effort",
        "mcp_server_ids",
        "labels",
        "unsafe_dynamic_tools",
        "plan_mode",
        "client_type",
        "orchestrator",
    },
    "/chats/{chat}": {"title", "archived", "workspace_id", "pin_order", "labels", "plan_mode"},
    "/chats/{chat}/messages": {
        "content",
        "model_config_id",
        "mcp_server_ids",
        "busy_behavior",
        "plan_mode",
        "reasoning_effort",
    },
}


class _StrictDecoder:
    """Breaks unknown_request_fields_are_ignored: a body with a field it does not know is a 400."""

    def __init__(self) -> None:
        self._app = current_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PATCH"):
            await self._app(scope, receive, send)
            return
        message = await receive()
        try:
            body = json.loads(message.get("body") or b"null")
        except ValueError:
            body = None
        known = _KNOWN_FIELDS.get(_route(scope["path"]))
        if known is not None and isinstance(body, dict) and set(body) - known:
            unknown = sorted(set(body) - known)[0]
            refusal = {
                "message": "Request body must be valid JSON.",
                "detail": f'json: unknown field "{unknown}"',
            }
            await _answer(send, 400, json.dumps(refusal).encode(), [(b"content-type", b"application/json")])
            return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return message

        await self._app(scope, replay, send)


class _SharedChats:
    """Breaks chats_are_private: bob's requests on a chat are answered as if alice sent them."""

    def __init__(self) -> None:
        self._app = current_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _route(scope["path"]).startswith("/chats/{chat}"):
            alice, bob = (token.encode() for token in TOKENS)
            headers = [
                (k, alice if k.lower() == b"coder-session-token" and v == bob else v)
                for k, v in scope["headers"]
            ]
            scope = {**scope, "headers": headers}
        await self._app(scope, receive, send)


# --- WIRE.md §3 ------------------------------------------------------------------------------


def _new_chat_answered_waiting(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks created_chat_reads_back: a new chat answers `waiting` although its first run started.
    if (method, route, status) == ("POST", "/chats", 201) and _is_chat(body):
        return status, {**body, "status": "waiting"}
    return status, body


def _user_content_dropped(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks transcript_holds_what_was_sent: user messages are listed without their content.
    if (method, route, status) == ("GET", "/chats/{chat}/messages", 200) and isinstance(body, dict):
        rows = [
            {k: v for k, v in row.items() if k != "content"} if row.get("role") == "user" else row
            for row in body["messages"]
        ]
        return status, {**body, "messages": rows}
    return status, body


# --- WIRE.md §4 ------------------------------------------------------------------------------


class _NeverWaits(ChatStore):
    """Breaks run_ends_waiting_or_error: a finished run leaves the chat `running`."""

    def update_chat(self, chat_id: Any, **changes: Any) -> Chat:
        if changes.get("status") is ChatStatus.WAITING:
            changes.pop("status")
        return super().update_chat(chat_id, **changes)


def _interrupt_of_idle_chat_accepted(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks idle_chat_refuses_busy_operations: interrupting a waiting chat is a 200 no-op.
    if route.endswith("/interrupt") and status == 409:
        return 200, {"status": "waiting"}
    return status, body


class _ArchivesBusyChats(ChatEngine):
    """Breaks busy_chat_cannot_be_archived: the archive transition is never checked."""

    def check_archive(self, chat: Chat) -> None:
        return None


# --- WIRE.md §5 ------------------------------------------------------------------------------


def _offset_ignored(method: str, route: str, query: str, body: Any) -> tuple[str, Any]:
    # Breaks chat_list_pages: GET /chats ignores `offset`.
    if (method, route) == ("GET", "/chats"):
        query = "&".join(p for p in query.split("&") if not p.startswith("offset="))
    return query, body


def _archived_filter_inverted(method: str, route: str, query: str, body: Any) -> tuple[str, Any]:
    # Breaks chat_list_hides_archived: the default list is of archived chats, `archived:true` of the others.
    if (method, route) == ("GET", "/chats"):
        params = [p for p in query.split("&") if p]
        if "q=archived:true" in params:
            params = [p for p in params if p != "q=archived:true"]
        elif not any(p.startswith("q=") for p in params):
            params.append("q=archived:true")
        query = "&".join(params)
    return query, body


def _archived_interrupt_conflicts(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks archived_chat_refuses_changes: interrupting an archived chat is a 409, not its 400.
    if (
        status == 400
        and isinstance(body, dict)
        and body.get("message") == "Cannot interrupt an archived chat."
    ):
        return 409, {"message": "Chat is not in an interruptible state."}
    return status, body


def _content_detail_dropped(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks create_refusals_are_coders: POST /chats without content loses its detail.
    if (
        (method, route) == ("POST", "/chats")
        and isinstance(body, dict)
        and body.get("message") == "Content is required."
    ):
        return status, {"message": body["message"]}
    return status, body


def _long_title_cut(method: str, route: str, query: str, body: Any) -> tuple[str, Any]:
    # Breaks update_refusals_are_coders: a title over 200 characters is cut instead of refused.
    if (
        (method, route) == ("PATCH", "/chats/{chat}")
        and isinstance(body, dict)
        and isinstance(body.get("title"), str)
    ):
        body = {**body, "title": body["title"][:200]}
    return query, body


def _unknown_busy_behavior_queues(method: str, route: str, query: str, body: Any) -> tuple[str, Any]:
    # Breaks send_refusals_are_coders: an unknown busy_behavior is taken as `queue`.
    if (
        (method, route) == ("POST", "/chats/{chat}/messages")
        and isinstance(body, dict)
        and body.get("busy_behavior") not in (None, "queue", "interrupt")
    ):
        body = {k: v for k, v in body.items() if k != "busy_behavior"}
    return query, body


def _has_more_never(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks transcript_pages: `has_more` is always false.
    if (method, route, status) == ("GET", "/chats/{chat}/messages", 200) and isinstance(body, dict):
        return status, {**body, "has_more": False}
    return status, body


def _idle_send_without_message(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks send_runs_an_idle_chat: the answer to a send that ran omits the message it stored.
    if (
        (method, route, status) == ("POST", "/chats/{chat}/messages", 200)
        and isinstance(body, dict)
        and body.get("queued") is False
    ):
        return status, {k: v for k, v in body.items() if k != "message"}
    return status, body


def _queue_not_listed(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks queue_holds_messages_sent_while_busy: the transcript's first page omits the queue.
    if (method, route, status) == ("GET", "/chats/{chat}/messages", 200) and isinstance(body, dict):
        return status, {**body, "queued_messages": []}
    return status, body


class _PromotionIgnored(ChatEngine):
    """Breaks promoted_message_runs_next: a promotion is accepted and changes nothing."""

    def promote(self, chat: Chat, queued_id: int) -> None:
        return None


def _interrupt_answers_running(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks interrupt_stops_the_run: the interrupt answers the chat as it was, `running`.
    if route.endswith("/interrupt") and status == 200 and _is_chat(body):
        return status, {**body, "status": "running"}
    return status, body


class _EditNamesOnlyItself(ChatStore):
    """Breaks edit_truncates_what_follows: the edit answers only the edited id as deleted."""

    def delete_messages_from(self, chat_id: Any, message_id: int) -> tuple[int, ...]:
        return super().delete_messages_from(chat_id, message_id)[:1]


class _ToolResultsAcceptedTwice(ChatEngine):
    """Breaks client_tool_waits_for_its_result: results for a chat not waiting for them are a silent 204."""

    def submit_tool_results(self, chat: Chat, results: list[dict[str, Any]]) -> None:
        if chat.status is not ChatStatus.REQUIRES_ACTION:
            return None
        return super().submit_tool_results(chat, results)


# --- chats.yaml (the Schemathesis phase) ---------------------------------------------------------


def _status_in_capitals(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks response_schema_conformance: a chat's status sent as `RUNNING`, no ChatStatus.
    if _is_chat(body):
        return status, {**body, "status": str(body["status"]).upper()}
    return status, body


def _error_without_message(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks coder_error_body (and response_schema_conformance): a 400 without `message`.
    if status == 400 and isinstance(body, dict) and "message" in body:
        return status, {"error": body["message"]}
    return status, body


# --- WIRE.md §7 (the stream) -------------------------------------------------------------------

# Given one frame's events, what the connection sends instead: a list of frames (each any JSON).
FrameRewrite = Callable[[list[Any]], list[Any]]


class _RewriteStream:
    """Each stream connection's query string and frames rewritten; `frames` makes one rewrite per connection."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        query: Callable[[str], str] = lambda query: query,
        frames: Callable[[], FrameRewrite] = lambda: lambda events: [events],
        path_end: str = "/stream",
    ) -> None:
        self._app, self._query, self._frames, self._path_end = app, query, frames, path_end

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket" or not scope["path"].endswith(self._path_end):
            await self._app(scope, receive, send)
            return
        scope = {**scope, "query_string": self._query(scope["query_string"].decode()).encode()}
        rewrite = self._frames()

        async def rewritten(message: Any) -> None:
            if message["type"] != "websocket.send" or not message.get("text"):
                await send(message)
                return
            for frame in rewrite(json.loads(message["text"])):
                if frame != []:
                    await send({"type": "websocket.send", "text": json.dumps(frame) + "\n"})

        await self._app(scope, receive, rewritten)


def _stream(**rewrites: Any) -> Callable[[], ASGIApp]:
    return lambda: _RewriteStream(current_mock(), **rewrites)


def _bad_after_id_dropped(query: str) -> str:
    # Breaks stream_refuses_like_coder: an `after_id` that is no integer is ignored, not a 400.
    return "&".join(
        p for p in query.split("&") if not (p.startswith("after_id=") and not p[9:].lstrip("-").isdigit())
    )


class _OriginUnchecked:
    """Breaks stream_refuses_like_coder: the stream's handshake is accepted from any site (Origin dropped)."""

    def __init__(self) -> None:
        self._app = current_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"origin"]}
        await self._app(scope, receive, send)


def _one_event_per_frame() -> FrameRewrite:
    # Breaks stream_frames_are_event_arrays: each event is sent as a lone object, not in an array.
    return lambda events: list(events)


def _snapshot_without_messages() -> FrameRewrite:
    # Breaks stream_snapshot_comes_first: the snapshot leaves out the transcript (status only).
    before_status = [True]

    def rewrite(events: list[Any]) -> list[Any]:
        kept = []
        for event in events:
            if not (before_status[0] and event.get("type") == "message"):
                kept.append(event)
            if event.get("type") == "status":
                before_status[0] = False
        return [kept]

    return rewrite


def _message_resent_with_status() -> FrameRewrite:
    # Breaks stream_message_ids_increase: each status change sends the last message again.
    last: list[Any] = []

    def rewrite(events: list[Any]) -> list[Any]:
        out = []
        for event in events:
            if event.get("type") == "status" and last:
                out.append(last[-1])
            if event.get("type") == "message":
                last[:] = [event]
            out.append(event)
        return [out]

    return rewrite


def _parts_one_frame_late() -> FrameRewrite:
    # Breaks message_parts_precede_their_message: a frame's parts are delivered after the next frame's events.
    held: list[Any] = []

    def rewrite(events: list[Any]) -> list[Any]:
        parts = [e for e in events if e.get("type") == "message_part"]
        others = [e for e in events if e.get("type") != "message_part"]
        late = list(held)
        held[:] = parts
        return [others + late]

    return rewrite


def _end_status_dropped() -> FrameRewrite:
    # Breaks stream_status_ends_waiting_or_error: after the snapshot, `waiting` and `error` are never sent.
    snapshot = [True]

    def rewrite(events: list[Any]) -> list[Any]:
        kept = []
        for event in events:
            status = event.get("status") if event.get("type") == "status" else None
            ends = isinstance(status, dict) and status.get("status") in ("waiting", "error")
            if not (ends and not snapshot[0]):
                kept.append(event)
            if status is not None:
                snapshot[0] = False
        return [kept]

    return rewrite


def _queue_update_dropped() -> FrameRewrite:
    # Breaks stream_reports_the_queue: queue changes are never sent (a client's queue goes stale).
    return lambda events: [[e for e in events if e.get("type") != "queue_update"]]


def _history_reset_dropped() -> FrameRewrite:
    # Breaks stream_resets_history_after_an_edit: an edit's history_reset is never sent.
    return lambda events: [[e for e in events if e.get("type") != "history_reset"]]


def _archive_told_as_archived() -> FrameRewrite:
    # Breaks watch_reports_the_callers_chats: an archive is told as kind `archived`, not `deleted`.
    return lambda event: [{**event, "kind": "archived"} if event.get("kind") == "deleted" else event]


def _tool_args_as_objects() -> FrameRewrite:
    # Breaks client_tool_waits_for_its_result: action_required's `args` are JSON objects, not strings.
    def call(value: Any) -> Any:
        return {**value, "args": json.loads(value["args"])} if isinstance(value.get("args"), str) else value

    def event(value: Any) -> Any:
        if value.get("type") != "action_required":
            return value
        body = value["action_required"]
        return {**value, "action_required": {**body, "tool_calls": [call(c) for c in body["tool_calls"]]}}

    return lambda events: [[event(e) for e in events]]


def _watched_action_without_calls() -> FrameRewrite:
    # Breaks watch_tells_action_required: the watcher's action_required carries no tool_calls.
    return lambda event: [
        {k: v for k, v in event.items() if k != "tool_calls"}
        if event.get("kind") == "action_required"
        else event
    ]


def _after_id_ignored(query: str) -> str:
    # Breaks stream_reconnect_is_complete: a reconnect's `after_id` is ignored, the whole transcript sent again.
    return "&".join(p for p in query.split("&") if not p.startswith("after_id="))


STREAM_VARIANTS: tuple[Variant, ...] = (
    Variant(
        "stream_bad_after_id_accepted", ("stream_refuses_like_coder",), _stream(query=_bad_after_id_dropped)
    ),
    Variant("stream_origin_unchecked", ("stream_refuses_like_coder",), _OriginUnchecked),
    Variant(
        "stream_one_event_per_frame",
        ("stream_frames_are_event_arrays",),
        _stream(frames=_one_event_per_frame),
    ),
    Variant(
        "stream_snapshot_without_messages",
        ("stream_snapshot_comes_first",),
        _stream(frames=_snapshot_without_messages),
    ),
    Variant(
        "stream_message_resent_with_status",
        ("stream_message_ids_increase",),
        _stream(frames=_message_resent_with_status),
    ),
    Variant(
        "stream_parts_one_frame_late",
        ("message_parts_precede_their_message",),
        _stream(frames=_parts_one_frame_late),
    ),
    Variant(
        "stream_end_status_dropped",
        ("stream_status_ends_waiting_or_error",),
        _stream(frames=_end_status_dropped),
    ),
    Variant(
        "stream_queue_update_dropped", ("stream_reports_the_queue",), _stream(frames=_queue_update_dropped)
    ),
    Variant(
        "stream_history_reset_dropped",
        ("stream_resets_history_after_an_edit",),
        _stream(frames=_history_reset_dropped),
    ),
    Variant("stream_after_id_ignored", ("stream_reconnect_is_complete",), _stream(query=_after_id_ignored)),
    Variant(
        "stream_tool_args_as_objects",
        ("client_tool_waits_for_its_result",),
        _stream(frames=_tool_args_as_objects),
    ),
    Variant(
        "watch_archive_told_as_archived",
        ("watch_reports_the_callers_chats",),
        _stream(frames=_archive_told_as_archived, path_end="/chats/watch"),
    ),
    Variant(
        "watch_action_without_calls",
        ("watch_tells_action_required",),
        _stream(frames=_watched_action_without_calls, path_end="/chats/watch"),
    ),
)


# --- round 3: token sources, payload shapes, a failed run, an interrupt -----------------------


class _Stripped:
    """The mock behind a filter that removes a token source before the app reads the request."""

    def __init__(self, *, cookie: bool = False, websocket_query: bool = False) -> None:
        self._app, self._cookie, self._websocket_query = current_mock(), cookie, websocket_query

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self._cookie:
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"cookie"]}
        if scope["type"] == "websocket" and self._websocket_query:
            query = scope["query_string"].decode()
            kept = "&".join(p for p in query.split("&") if not p.startswith("coder_session_token="))
            scope = {**scope, "query_string": kept.encode()}
        await self._app(scope, receive, send)


def _session_cookie_not_read() -> ASGIApp:
    # Breaks every_token_source_is_read (and the WebSockets' rule): the cookie a browser sends is never read.
    return _Stripped(cookie=True)


def _websocket_query_token_not_read() -> ASGIApp:
    # Breaks websockets_read_every_token_source: `?coder_session_token=` is ignored on the WebSockets.
    return _Stripped(websocket_query=True)


class _HeaderBeforeCookie:
    """Breaks token_sources_in_coder_order: the header is read first (a cookie loses to it)."""

    def __init__(self) -> None:
        self._app = current_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope["headers"]
            if any(k.lower() == b"coder-session-token" for k, _ in headers):
                headers = [(k, v) for k, v in headers if k.lower() != b"cookie"]
                scope = {**scope, "headers": headers}
        await self._app(scope, receive, send)


def _usage_counted_in_strings(value: Any) -> Any:
    # Breaks answers_fit_the_document: a message's usage counts are JSON strings ("12"), not integers.
    if isinstance(value, list):
        return [_usage_counted_in_strings(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _usage_counted_in_strings(item) for key, item in value.items()}
    if isinstance(value.get("usage"), dict):
        out["usage"] = {key: str(count) for key, count in value["usage"].items()}
    return out


def _reasoning_renamed(value: Any) -> Any:
    # Breaks answers_fit_the_document: reasoning parts are sent with the type `thinking`.
    if isinstance(value, list):
        return [_reasoning_renamed(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _reasoning_renamed(item) for key, item in value.items()}
    if value.get("type") == "reasoning" and "text" in value:
        out["type"] = "thinking"
    return out


def _everywhere(rewrite: Callable[[Any], Any]) -> Callable[[], ASGIApp]:
    """The rewrite applied to every JSON body and every stream frame."""

    def body(method: str, route: str, status: int, value: Any) -> tuple[int, Any]:
        return status, rewrite(value)

    return lambda: _RewriteStream(
        _RewriteResponses(current_mock(), body), frames=lambda: lambda e: [rewrite(e)]
    )


def _failed_run_told_waiting(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks run_ends_waiting_or_error: a failed run reads back `waiting`, without `last_error`.
    if _is_chat(body) and body.get("status") == "error":
        return status, {**{k: v for k, v in body.items() if k != "last_error"}, "status": "waiting"}
    return status, body


class _InterruptNeverReachesTheRun(ChatEngine):
    """Breaks interrupt_stops_the_run: the chat is marked `interrupting`, the run goes on to its end."""

    def _interrupting(self, chat_id: UUID) -> Chat:
        return self._store.update_chat(chat_id, status=ChatStatus.INTERRUPTING)

    def _turn_ended(self, chat_id: UUID, error: dict[str, Any] | None) -> None:
        chat = self._find(chat_id)
        if chat is not None and chat.status is ChatStatus.INTERRUPTING:
            self._store.update_chat(chat_id, status=ChatStatus.WAITING)  # interrupting -> waiting, at the end
            return
        super()._turn_ended(chat_id, error)


# --- chats.yaml: one planted bug per rule of the Schemathesis phase that a server can break ---


def _create_answers_200(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks status_code_conformance: POST /chats answers 200, which the document does not name.
    if (method, route, status) == ("POST", "/chats", 201):
        return 200, body
    return status, body


def _invalid_json_is_a_crash(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks not_a_server_error: a body of the wrong JSON type crashes the handler (500).
    if status == 400 and isinstance(body, dict) and body.get("message") == "Request body must be valid JSON.":
        return 500, {"message": "An internal error occurred."}
    return status, body


class _ListAsText:
    """Breaks content_type_conformance: GET /chats answers its JSON as `text/plain`."""

    def __init__(self) -> None:
        self._app = current_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], _route(scope["path"])) != ("GET", "/chats"):
            await self._app(scope, receive, send)
            return

        async def relabelled(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-type"]
                message = {**message, "headers": [*headers, (b"content-type", b"text/plain")]}
            await send(message)

        await self._app(scope, receive, relabelled)


def _bad_paging_lists_everything(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks negative_data_rejection: GET /chats with a paging value that does not parse lists anyway.
    if (method, route, status) == ("GET", "/chats", 400):
        return 200, []
    return status, body


def _list_signed_out(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks positive_data_acceptance: a valid GET /chats is answered 401 (documented, but not due).
    if (method, route, status) == ("GET", "/chats", 200):
        return 401, {
            "message": "You are signed out or your session has expired. Please sign in again to continue."
        }
    return status, body


class _AnonymousIsAlice:
    """Breaks ignored_auth (and tokens_are_required): a request without a token is served as alice's."""

    def __init__(self) -> None:
        self._app = current_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        names = {k.lower() for k, _ in scope.get("headers", [])}
        anonymous = not names & {b"coder-session-token", b"cookie", b"authorization"}
        if scope["type"] == "http" and anonymous and b"coder_session_token" not in scope["query_string"]:
            headers = [*scope["headers"], (b"coder-session-token", TOKENS[0].encode())]
            scope = {**scope, "headers": headers}
        await self._app(scope, receive, send)


DOCUMENT_VARIANTS: tuple[Variant, ...] = (
    Variant("create_answers_200", ("status_code_conformance",), _responses(_create_answers_200)),
    Variant("invalid_json_is_a_crash", ("not_a_server_error",), _responses(_invalid_json_is_a_crash)),
    Variant("list_as_text", ("content_type_conformance",), _ListAsText),
    Variant(
        "bad_paging_lists_everything", ("negative_data_rejection",), _responses(_bad_paging_lists_everything)
    ),
    Variant("list_signed_out", ("positive_data_acceptance",), _responses(_list_signed_out)),
    Variant("anonymous_is_alice", ("ignored_auth",), _AnonymousIsAlice),
)
# The rules of the Schemathesis phase no server can break against this document: it names no
# response header; verify's stateful driver gives Schemathesis no parent case, so a created chat
# that cannot be read is never told (ensure_resource_availability, which verify reports not
# exercised); the situations of the others never arise (not exercised either).
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

# --- WIRE.md §1: both mounts; §5: the list's search query -------------------------------------


class _Answered:
    """The mock, except that requests `matches` picks are answered `status` `body` (a WebSocket
    handshake picked is closed before it is accepted)."""

    def __init__(self, matches: Callable[[str, str, str], bool], status: int, body: Any) -> None:
        self._app, self._matches, self._status, self._body = current_mock(), matches, status, body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind in ("http", "websocket") and self._matches(kind, scope.get("method", "GET"), scope["path"]):
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1000})
                return
            out = json.dumps(self._body).encode()
            await _answer(send, self._status, out, [(b"content-type", b"application/json")])
            return
        await self._app(scope, receive, send)


def _experimental_list_empty() -> ASGIApp:
    # Breaks both_prefixes_read_one_chat: the experimental mount lists no chats (a store of its own).
    return _Answered(
        lambda kind, method, path: (kind, method, path) == ("http", "GET", "/api/experimental/chats"), 200, []
    )


def _experimental_websockets_refused() -> ASGIApp:
    # Breaks both_prefixes_open_the_websockets: only /api/v2 upgrades; the experimental handshakes close.
    return _Answered(
        lambda kind, method, path: kind == "websocket" and path.startswith("/api/experimental/"), 0, None
    )


def _reserved_name_read_as_chat() -> ASGIApp:
    # Breaks reserved_names_are_route_not_found: /api/v2/chats/model-configs falls into {chat}.
    return _Answered(
        lambda kind, method, path: path == "/api/v2/chats/model-configs",
        400,
        {"message": 'Invalid UUID "model-configs".', "detail": "invalid UUID length: 13"},
    )


def _without_search_terms(query: str, dropped: Callable[[str], bool]) -> str:
    """The query string with the `q` terms `dropped` picks taken out (the list then reads the rest)."""
    params = parse_qsl(query, keep_blank_values=True)
    kept = []
    for name, value in params:
        if name == "q":
            value = " ".join(term for term in shlex.split(value, posix=False) if not dropped(term))
            if not value:
                continue
        kept.append((name, value))
    return urlencode(kept)


def _title_search_ignored(method: str, route: str, query: str, body: Any) -> tuple[str, Any]:
    # Breaks search_filters_as_written: `title:` is read past, so every chat of the label is listed.
    if (method, route) == ("GET", "/chats"):
        query = _without_search_terms(query, lambda term: term.lower().startswith("title:"))
    return query, body


def _unknown_search_key_ignored(method: str, route: str, query: str, body: Any) -> tuple[str, Any]:
    # Breaks search_refusals_are_coders: an unknown key is dropped instead of refused.
    if (method, route) == ("GET", "/chats"):
        query = _without_search_terms(query, lambda term: term.startswith("colour:"))
    return query, body


def _build_version_a_number(method: str, route: str, status: int, body: Any) -> tuple[int, Any]:
    # Breaks response_schema_conformance on the dashboard document (joined to the Schemathesis
    # phase): the build info's version is a number where dashboard.yaml has a string.
    if (method, route) == ("GET", "/buildinfo") and isinstance(body, dict):
        return status, {**body, "version": 2.37}
    return status, body


ROUND_3_ROUTE_VARIANTS: tuple[Variant, ...] = (
    Variant("build_version_a_number", ("response_schema_conformance",), _responses(_build_version_a_number)),
    Variant("experimental_list_empty", ("both_prefixes_read_one_chat",), _experimental_list_empty),
    Variant(
        "experimental_websockets_refused",
        ("both_prefixes_open_the_websockets",),
        _experimental_websockets_refused,
    ),
    Variant(
        "reserved_name_read_as_chat", ("reserved_names_are_route_not_found",), _reserved_name_read_as_chat
    ),
    Variant("title_search_ignored", ("search_filters_as_written",), _requests(_title_search_ignored)),
    Variant(
        "unknown_search_key_ignored", ("search_refusals_are_coders",), _requests(_unknown_search_key_ignored)
    ),
)

ROUND_3_VARIANTS: tuple[Variant, ...] = (
    Variant(
        "session_cookie_not_read",
        ("every_token_source_is_read", "websockets_read_every_token_source"),
        _session_cookie_not_read,
    ),
    Variant(
        "websocket_query_token_not_read",
        ("websockets_read_every_token_source",),
        _websocket_query_token_not_read,
    ),
    Variant("header_before_cookie", ("token_sources_in_coder_order",), _HeaderBeforeCookie),
    Variant(
        "usage_counted_in_strings", ("answers_fit_the_document",), _everywhere(_usage_counted_in_strings)
    ),
    Variant("reasoning_renamed", ("answers_fit_the_document",), _everywhere(_reasoning_renamed)),
    Variant("failed_run_told_waiting", ("run_ends_waiting_or_error",), _responses(_failed_run_told_waiting)),
    Variant(
        "interrupt_never_reaches_the_run",
        ("interrupt_stops_the_run",),
        lambda: current_mock(engine=_InterruptNeverReachesTheRun),
    ),
)

VARIANTS: tuple[Variant, ...] = (
    Variant(
        "queue_routes_look_up_before_auth",
        ("tokens_are_required",),
        _responses(_queue_routes_look_up_before_auth),
    ),
    Variant("bad_uuid_is_not_found", ("chat_param_is_a_uuid",), _responses(_bad_uuid_is_not_found)),
    Variant("invalid_json_reworded", ("bodies_are_read_like_go",), _responses(_invalid_json_reworded)),
    Variant("strict_decoder", ("unknown_request_fields_are_ignored",), _StrictDecoder),
    Variant("shared_chats", ("chats_are_private",), _SharedChats),
    Variant(
        "new_chat_answered_waiting", ("created_chat_reads_back",), _responses(_new_chat_answered_waiting)
    ),
    Variant("user_content_dropped", ("transcript_holds_what_was_sent",), _responses(_user_content_dropped)),
    Variant("never_waits", ("run_ends_waiting_or_error",), lambda: current_mock(store=_NeverWaits)),
    Variant(
        "interrupt_of_idle_chat_accepted",
        ("idle_chat_refuses_busy_operations",),
        _responses(_interrupt_of_idle_chat_accepted),
    ),
    Variant(
        "archives_busy_chats",
        ("busy_chat_cannot_be_archived",),
        lambda: current_mock(engine=_ArchivesBusyChats),
    ),
    Variant("offset_ignored", ("chat_list_pages",), _requests(_offset_ignored)),
    Variant("archived_filter_inverted", ("chat_list_hides_archived",), _requests(_archived_filter_inverted)),
    Variant(
        "archived_interrupt_conflicts",
        ("archived_chat_refuses_changes",),
        _responses(_archived_interrupt_conflicts),
    ),
    Variant("content_detail_dropped", ("create_refusals_are_coders",), _responses(_content_detail_dropped)),
    Variant("long_title_cut", ("update_refusals_are_coders",), _requests(_long_title_cut)),
    Variant(
        "unknown_busy_behavior_queues",
        ("send_refusals_are_coders",),
        _requests(_unknown_busy_behavior_queues),
    ),
    Variant("has_more_never", ("transcript_pages",), _responses(_has_more_never)),
    Variant("idle_send_without_message", ("send_runs_an_idle_chat",), _responses(_idle_send_without_message)),
    Variant("queue_not_listed", ("queue_holds_messages_sent_while_busy",), _responses(_queue_not_listed)),
    Variant(
        "promotion_ignored", ("promoted_message_runs_next",), lambda: current_mock(engine=_PromotionIgnored)
    ),
    Variant(
        "interrupt_answers_running", ("interrupt_stops_the_run",), _responses(_interrupt_answers_running)
    ),
    Variant(
        "edit_names_only_itself",
        ("edit_truncates_what_follows",),
        lambda: current_mock(store=_EditNamesOnlyItself),
    ),
    Variant(
        "tool_results_accepted_twice",
        ("client_tool_waits_for_its_result",),
        lambda: current_mock(engine=_ToolResultsAcceptedTwice),
    ),
    *STREAM_VARIANTS,
    *ROUND_3_VARIANTS,
    *ROUND_3_ROUTE_VARIANTS,
    *DOCUMENT_VARIANTS,
    Variant("status_in_capitals", ("response_schema_conformance",), _responses(_status_in_capitals)),
    Variant(
        "error_without_message",
        ("coder_error_body", "response_schema_conformance"),
        _responses(_error_without_message),
    ),
)
