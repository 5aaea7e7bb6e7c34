"""The handlers of today's Chats API: each reads its request in coderd's order and calls the engine.

Authentication and `{chat}` (400 `Invalid UUID`, 404) are done before a handler runs; the body
arrives Go-decoded (`decoding`). Each handler then checks what coderd checks, in coderd's
order, with coderd's messages (openapi/current/WIRE.md section 5), before anything changes.
The `chat` a handler receives was read when the request's head arrived: it answers the checks
coderd makes on `httpmw.ChatParam`, while every change goes to the engine by the chat's id, which
decides on the chat as it is then (WIRE.md section 4.1).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

from starlette.responses import Response

from mockserver.core.directory import Directory
from mockserver.core.errors import (
    MessageNotFound,
    QueuedMessageNotFound,
    WorkspaceForbidden,
    WorkspaceNotFound,
)
from mockserver.core.golang import encode_json_text, parse_uuid, quote
from mockserver.core.models import Chat, Role, User
from mockserver.core.store import ChatStore
from mockserver.current.catalog import ChatModelConfig
from mockserver.current.chat_search import parse_chat_search
from mockserver.current.encoded import EncodedRows, json_array
from mockserver.current.engine import (
    ChatArchived,
    ChatEngine,
    EditedMessageNotUser,
    QueueFull,
    ToolResultsInvalid,
)
from mockserver.current.inputs import (
    MessageLimits,
    QueryParams,
    chat_labels,
    content_parts,
    go_trim_space,
    parse_go_int,
    reasoning_effort,
)
from mockserver.current.orchestrator import ORCHESTRATOR_MODE, ORCHESTRATOR_TITLE, check_orchestrator_create
from mockserver.current.responses import JSONBody, json_response, no_content
from mockserver.current.states import TransitionNotAllowed
from mockserver.current.wire import (
    message_text,
    models_json,
    queued_json,
)
from mockserver.edge.coder_errors import RESOURCE_NOT_FOUND, CoderRefusal
from mockserver.edge.sliced_body import joined_pieces, sliced_json

__all__ = ["CurrentChatsApi"]

_MAX_TITLE_RUNES = 200
_MAX_DYNAMIC_TOOLS = 250
_PLAN_MODES = ("", "plan")
_ACTIVE_CHAT = "Cannot archive an active chat. Interrupt or wait for the chat to finish first."
_CLIENT_TYPES = ("ui", "api")


_json = json_response
_no_content = no_content


def _encoded(status: int, text: str) -> Response:
    """An answer whose JSON is encoded already (encode_json_text's pieces, joined)."""
    return JSONBody((text + "\n").encode("utf-8"), status)


def _conflict(message: str, error: TransitionNotAllowed) -> CoderRefusal:
    return CoderRefusal(409, message, str(error))


class CurrentChatsApi:
    """Handlers by operationId, over the store (reads) and the engine (everything that changes)."""

    def __init__(
        self, *, store: ChatStore, engine: ChatEngine, directory: Directory, message_limits: MessageLimits
    ) -> None:
        self._store = store
        self._engine = engine
        self._directory = directory
        self._message_limits = message_limits
        self._encoded = EncodedRows()

    def resolve(self, operation_id: str) -> Any:
        """The handler of an operation: `list-chats` is `list_chats`."""
        return getattr(self, operation_id.replace("-", "_"))

    def _chat_text(self, chat: Chat) -> str:
        return self._encoded.chat(chat, self._engine.model_of(chat), has_unread=self._has_unread(chat))

    def _has_unread(self, chat: Chat) -> bool:
        return self._store.has_message_after(chat.id, Role.ASSISTANT, chat.last_read_message_id)

    def _texts(self, chat: Chat) -> Iterator[str]:
        return (message_text(message) for message in self._store.messages_of(chat.id))

    # --- chats -----------------------------------------------------------------------------

    async def list_chats(self, user: User, query: dict[str, list[str]]) -> Response:
        """GET /chats."""
        params = QueryParams(query)
        after_id = params.uuid("after_id")
        limit = params.integer("limit")
        offset = params.integer("offset")
        params.check()
        search = parse_chat_search(params.first("q"))
        labels = _label_filter(params.all("label"))
        # Pinned first by pin_order, then updated_at, created_at and id, each newest first: one
        # sort on one key (pin_order is never negative). Sorted first, then drawn through the
        # filters only until the page is full: a `has_unread:` or `search:` reads the transcripts
        # of the chats it has to, not of every chat.
        ordered = sorted(
            self._store.chats_of(user),
            key=lambda c: (c.pin_order != 0, -c.pin_order, c.updated_at, c.created_at, c.id.int),
            reverse=True,
        )
        shown = search.select(ordered, has_unread=self._has_unread, texts=self._texts)
        if labels:
            shown = (c for c in shown if all(c.labels.get(key) == value for key, value in labels.items()))
        if after_id is not None:
            shown = _after(shown, after_id)
        chats = list(itertools.islice(shown, offset, offset + limit if limit else None))
        # In pieces, each chat encoded (or found encoded) as it is sent: a long list holds up no one.
        return sliced_json(joined_pieces("[", map(self._chat_text, chats), "]\n"))

    async def create_chat(self, user: User, request_body: dict[str, Any]) -> Response:
        """POST /chats."""
        body = request_body
        organization = body.get("organization_id")
        organization_id = None if organization is None else parse_uuid(organization)
        if organization_id is None or organization_id.int == 0:
            raise CoderRefusal(400, "organization_id is required.")
        if organization_id != user.organization_id:
            raise CoderRefusal(403, "You are not a member of the specified organization.")
        parts = content_parts(body.get("content"), self._message_limits)
        orchestrator = bool(body.get("orchestrator"))
        chat_id = check_orchestrator_create(self._store, user, body) if orchestrator else None
        workspace_id = self._workspace(user, body.get("workspace_id"))
        model = self._model(body.get("model_config_id"), nil_message="Invalid model config ID.")
        if model is None and not self._engine.catalog.has_models:
            # defaultCreateChatModelConfigID's noLocalChatModelResponse (its text was not read).
            raise CoderRefusal(400, "No chat model is configured.")
        plan_mode = body.get("plan_mode") or ""
        if plan_mode not in _PLAN_MODES:
            raise CoderRefusal(400, "Invalid plan_mode value.")
        _no_mcp_servers(body.get("mcp_server_ids"))
        labels = chat_labels(body.get("labels") or {})
        dynamic_tools = _dynamic_tool_names(body.get("unsafe_dynamic_tools") or [])
        client_type = body.get("client_type") or "api"
        if client_type not in _CLIENT_TYPES:
            raise CoderRefusal(400, "Invalid client_type.", f"got {quote(client_type)}, want one of [ui api]")
        reasoning_effort(body.get("reasoning_effort"))
        attributes = {"client_type": client_type, "plan_mode": plan_mode, "dynamic_tools": dynamic_tools}
        if orchestrator:
            attributes["mode"] = ORCHESTRATOR_MODE
        chat = self._engine.create(
            user,
            title=ORCHESTRATOR_TITLE if orchestrator else _title_of(parts),
            model=model or self._engine.catalog.default,
            labels=labels,
            parts=parts,
            workspace_id=workspace_id,
            attributes=attributes,
            chat_id=chat_id,
        )
        return _encoded(201, self._chat_text(chat))

    async def get_chat_by_id(self, chat: Chat) -> Response:
        """GET /chats/{chat}."""
        return _encoded(200, self._chat_text(chat))

    async def update_chat(self, user: User, chat: Chat, request_body: dict[str, Any]) -> Response:
        """PATCH /chats/{chat}: every check first, then every change (coderd changes as it goes)."""
        body = request_body
        changes: dict[str, Any] = {}
        plan_mode = body.get("plan_mode")
        if plan_mode is not None and plan_mode not in _PLAN_MODES:
            raise CoderRefusal(400, "Invalid plan_mode value.")
        if "title" in body:
            title = go_trim_space(body["title"])
            if not title:
                raise CoderRefusal(400, "Title cannot be empty.")
            if len(title) > _MAX_TITLE_RUNES:
                raise CoderRefusal(400, f"Title must be at most {_MAX_TITLE_RUNES} characters.")
            changes["title"] = title
        if "labels" in body:
            changes["labels"] = chat_labels(body["labels"])
        archived = chat.archived
        if "archived" in body:
            archived = body["archived"]
            if archived == chat.archived:
                raise CoderRefusal(400, f"Chat is already {'archived' if archived else 'not archived'}.")
            try:
                self._engine.check_archive(chat.id, archived)
            except TransitionNotAllowed as error:
                raise _conflict(_ACTIVE_CHAT, error) from None
        if "pin_order" in body:
            pin_order = body["pin_order"]
            if pin_order < 0:
                raise CoderRefusal(400, "Pin order must be non-negative.")
            if pin_order > 0 and archived:
                raise CoderRefusal(400, "Cannot pin an archived chat.")
            changes["pin_order"] = self._pin_position(user, chat, pin_order)
        if "workspace_id" in body:
            workspace_id = parse_uuid(body["workspace_id"])
            changes["workspace_id"] = (
                None if workspace_id.int == 0 else self._workspace(user, body["workspace_id"])
            )
        if plan_mode is not None:
            changes["metadata"] = {**chat.metadata, "plan_mode": plan_mode}
        if "archived" in body:
            try:
                self._engine.set_archived(chat.id, archived, **changes)
            except TransitionNotAllowed as error:
                raise _conflict(_ACTIVE_CHAT, error) from None
        elif changes:
            self._store.update_chat(chat.id, **changes)
        return _no_content()

    def _pin_position(self, user: User, chat: Chat, asked: int) -> int:
        """0 unpins; a new pin goes last; a pinned chat moves, clamped to [1, pinned count]."""
        if asked == 0:
            return 0
        pinned = [c for c in self._store.chats_of(user) if c.pin_order > 0 and c.id != chat.id]
        if chat.pin_order == 0:
            return len(pinned) + 1
        return max(1, min(asked, len(pinned) + 1))

    # --- messages --------------------------------------------------------------------------

    async def list_chat_messages(self, chat: Chat, query: dict[str, list[str]]) -> Response:
        """GET /chats/{chat}/messages: one page of the transcript, and the queue on the first page."""
        params = QueryParams(query)
        before_id = params.positive_int("before_id", 0, 64)
        after_id = params.positive_int("after_id", 0, 64)
        limit = params.positive_int("limit", 50, 32)
        params.check()
        if not 1 <= limit <= 200:
            raise CoderRefusal(400, "Invalid limit parameter (1-200).")
        if before_id and after_id and after_id >= before_id:
            raise CoderRefusal(400, "after_id must be less than before_id.")
        rows, has_more = self._store.message_page(
            chat.id,
            before_id=before_id,
            after_id=after_id,
            limit=limit,
            ascending=bool(after_id and not before_id),
        )
        queued = self._store.queue_of(chat.id) if not before_id and not after_id else ()
        # {"messages", "queued_messages", "has_more"}, each stored message encoded once (EncodedRows),
        # in pieces as it is sent: 200 rows of 256 KiB are a 50 MB page.
        tail = (
            '],"queued_messages":'
            + encode_json_text([queued_json(q) for q in queued])
            + ',"has_more":'
            + ("true" if has_more else "false")
            + "}\n"
        )
        return sliced_json(joined_pieces('{"messages":[', map(self._encoded.message, rows), tail))

    async def send_chat_message(self, user: User, chat: Chat, request_body: dict[str, Any]) -> Response:
        """POST /chats/{chat}/messages."""
        if chat.archived:
            raise CoderRefusal(400, "Cannot send messages to an archived chat.")
        body = request_body
        parts = content_parts(body.get("content"), self._message_limits)
        _no_mcp_servers(body.get("mcp_server_ids"))
        if body.get("plan_mode") not in (None, *_PLAN_MODES):
            raise CoderRefusal(400, "Invalid plan_mode value.")
        busy = body.get("busy_behavior") or "queue"
        if busy not in ("queue", "interrupt"):
            raise CoderRefusal(400, "Invalid busy_behavior value.", 'Must be "queue" or "interrupt".')
        model = self._model(body.get("model_config_id"), nil_message=None)
        reasoning_effort(body.get("reasoning_effort"))
        try:
            result = self._engine.send(user, chat.id, parts, interrupt=busy == "interrupt", model=model)
        except ChatArchived:
            raise CoderRefusal(400, "Cannot send messages to an archived chat.") from None
        except QueueFull as error:
            raise CoderRefusal(
                429, "Message queue is full.", f"Maximum {error.limit} messages can be queued."
            ) from None
        except TransitionNotAllowed as error:
            raise _conflict("Chat is not in a state that accepts new messages.", error) from None
        # Its fields in codersdk's order, each stored message encoded once (EncodedRows: the
        # message sent is also the first of `messages`, and the next page lists it again).
        fields: list[str] = []
        if result.message is not None:
            fields.append('"message":' + self._encoded.message(result.message, result.content))
        if result.inserted:
            fields.append('"messages":' + json_array(map(self._encoded.message, result.inserted)))
        if result.queued is not None:
            fields.append('"queued_message":' + encode_json_text(queued_json(result.queued)))
        fields.append('"queued":' + ("true" if result.queued is not None else "false"))
        return _encoded(200, "{" + ",".join(fields) + "}")

    async def edit_chat_message(
        self, user: User, chat: Chat, path: Mapping[str, str], request_body: dict[str, Any]
    ) -> Response:
        """PATCH /chats/{chat}/messages/{message}."""
        if chat.archived:
            raise CoderRefusal(400, "Cannot edit messages in an archived chat.")
        try:
            message_id = parse_go_int(path["message"], 64)
        except ValueError:
            message_id = 0
        if message_id <= 0:
            raise CoderRefusal(400, "Invalid chat message ID.", "Message ID must be a positive integer.")
        body = request_body
        parts = content_parts(body.get("content"), self._message_limits)
        model = self._model(body.get("model_config_id"), nil_message=None)
        reasoning_effort(body.get("reasoning_effort"))
        _no_mcp_servers(body.get("mcp_server_ids"))
        try:
            result = self._engine.edit(user, chat.id, message_id, parts, model)
        except ChatArchived:
            raise CoderRefusal(400, "Cannot edit messages in an archived chat.") from None
        except MessageNotFound:
            raise CoderRefusal(
                404, "Chat message not found.", "Message does not belong to this chat."
            ) from None
        except EditedMessageNotUser:
            raise CoderRefusal(400, "Only user messages can be edited.") from None
        except TransitionNotAllowed as error:
            raise _conflict("Chat is not in a state that accepts message edits.", error) from None
        text = self._encoded.message(result.message)
        fields = ['"message":' + text, '"messages":[' + text + "]"]
        if result.deleted_ids:
            fields.append('"deleted_message_ids":' + encode_json_text(list(result.deleted_ids)))
        return _encoded(200, "{" + ",".join(fields) + "}")

    async def interrupt_chat(self, chat: Chat) -> Response:
        """POST /chats/{chat}/interrupt."""
        if chat.archived:
            raise CoderRefusal(400, "Cannot interrupt an archived chat.")
        try:
            updated = self._engine.interrupt(chat.id)
        except ChatArchived:
            raise CoderRefusal(400, "Cannot interrupt an archived chat.") from None
        except TransitionNotAllowed as error:
            raise _conflict("Chat is not in an interruptible state.", error) from None
        return _encoded(200, self._chat_text(updated))

    async def submit_chat_tool_results(self, chat: Chat, request_body: dict[str, Any]) -> Response:
        """POST /chats/{chat}/tool-results: the client's answers to the tool calls the turn waits for."""
        if chat.archived:
            raise CoderRefusal(400, "Cannot submit tool results to an archived chat.")
        results = request_body.get("results") or []
        if not results:
            raise CoderRefusal(400, "At least one tool result is required.")
        try:
            self._engine.submit_tool_results(chat.id, results)
        except ChatArchived:
            raise CoderRefusal(400, "Cannot submit tool results to an archived chat.") from None
        except TransitionNotAllowed:
            status = self._store.chat(chat.id).status  # as the engine found it: nothing awaited since
            raise CoderRefusal(
                409,
                "Chat is not waiting for tool results.",
                f'chat status is {quote(status.value)}, expected "requires_action"',
            ) from None
        except ToolResultsInvalid as error:
            raise CoderRefusal(400, error.message, error.detail) from None
        return _no_content()

    # --- the queue -------------------------------------------------------------------------

    async def delete_chat_queued_message(self, chat: Chat, path: Mapping[str, str]) -> Response:
        """DELETE /chats/{chat}/queue/{queuedMessage}."""
        queued_id = _queued_id(path)
        try:
            self._engine.delete_queued(chat.id, queued_id)
        except QueuedMessageNotFound:
            raise CoderRefusal(404, "Queued message not found.") from None
        except TransitionNotAllowed as error:
            raise _conflict("Chat has no queued messages to delete.", error) from None
        return _no_content()

    async def promote_chat_queued_message(self, chat: Chat, path: Mapping[str, str]) -> Response:
        """POST /chats/{chat}/queue/{queuedMessage}/promote."""
        if chat.archived:
            raise CoderRefusal(400, "Cannot promote queued messages in an archived chat.")
        queued_id = _queued_id(path)
        try:
            self._engine.promote(chat.id, queued_id)
        except ChatArchived:
            raise CoderRefusal(400, "Cannot promote queued messages in an archived chat.") from None
        except QueuedMessageNotFound:
            raise CoderRefusal(404, "Queued message not found.") from None
        except TransitionNotAllowed as error:
            raise _conflict("Chat has no queued messages to promote.", error) from None
        return _json(202, {"message": "Queued message promotion accepted."})

    # --- models ----------------------------------------------------------------------------

    async def list_ai_models_and_provider_descriptors_in_an_organization(
        self, user: User, path: Mapping[str, str]
    ) -> Response:
        """GET /organizations/{organization}/chats/models."""
        if not self._engine.catalog.owns(path["organization"]):
            raise CoderRefusal(404, RESOURCE_NOT_FOUND)
        return _json(200, models_json(self._engine.catalog))

    # --- shared readings -------------------------------------------------------------------

    def _workspace(self, user: User, raw: str | None) -> UUID | None:
        """The caller's workspace of `workspace_id`; unknown or another's: coderd's 400.

        Every workspace of the mock is in the caller's organization, so the "does not belong"
        refusals cannot happen.
        """
        if raw is None:
            return None
        workspace_id = parse_uuid(raw)
        try:
            self._directory.check_workspace(user, workspace_id)
        except (WorkspaceNotFound, WorkspaceForbidden):
            raise CoderRefusal(
                400, "Workspace not found or you do not have access to this resource"
            ) from None
        return workspace_id

    def _model(self, raw: str | None, *, nil_message: str | None) -> ChatModelConfig | None:
        """The model config a request names; None when it names none (or the nil UUID on a send)."""
        if raw is None:
            return None
        model_config_id = parse_uuid(raw)
        if model_config_id.int == 0:
            if nil_message is None:
                return None  # sends and edits: the nil UUID keeps the chat's model
            raise CoderRefusal(400, nil_message)
        model = self._engine.catalog.get(model_config_id)
        if model is None:
            raise CoderRefusal(400, "Invalid model_config_id: model config not found or disabled.")
        return model


def _queued_id(path: Mapping[str, str]) -> int:
    try:
        return parse_go_int(path["queuedMessage"], 64)
    except ValueError as error:
        raise CoderRefusal(400, "Invalid queued message ID.", str(error)) from None


def _no_mcp_servers(ids: Sequence[Any] | None) -> None:
    """The mock's organization has no MCP servers: any id named is invalid."""
    if ids:
        unique = list(dict.fromkeys(str(parse_uuid(i)) for i in ids))
        if unique:
            raise CoderRefusal(
                400,
                "One or more MCP server IDs are invalid or disabled.",
                f"Invalid IDs: {', '.join(unique)}",
            )


def _dynamic_tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    """The names of the tools a new chat declares the client runs, checked as postChats checks them."""
    if len(tools) > _MAX_DYNAMIC_TOOLS:
        raise CoderRefusal(
            400, "Too many dynamic tools.", f"Maximum {_MAX_DYNAMIC_TOOLS} dynamic tools per chat."
        )
    names: list[str] = []
    for tool in tools:
        name = tool.get("name", "")
        if not name:
            raise CoderRefusal(400, "Dynamic tool name must not be empty.")
        if name in names:
            raise CoderRefusal(
                400, "Duplicate dynamic tool name.", f"Tool {quote(name)} appears more than once."
            )
        names.append(name)
    return names


def _title_of(parts: list[dict[str, Any]]) -> str:
    """The title of a new chat: its first text, cut to the title's 200 runes."""
    text = next((p["text"] for p in parts if p["type"] == "text"), "")
    return text[:_MAX_TITLE_RUNES]


def _after(chats: Iterator[Chat], chat_id: UUID) -> Iterator[Chat]:
    """The chats after the one of `chat_id`; none when it is not among them."""
    for chat in chats:
        if chat.id == chat_id:
            return chats
    return iter(())


def _label_filter(raw: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for value in raw:
        key, sep, wanted = value.partition(":")
        if not sep or not key or not wanted:
            raise CoderRefusal(
                400,
                f"Invalid label filter: {quote(value)} (expected format key:value, both must be non-empty)",
            )
        labels[key] = wanted
    return labels
