"""The wire facts of today's API the checks compare against: read from the document, or cited from WIRE.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.checking import read_openapi
from contracts.current.shapes import Shapes

__all__ = [
    "CHAT_STATUSES",
    "EXPERIMENTAL_PREFIX",
    "IDLE_STATUSES",
    "SCENARIO_LABEL",
    "WireFacts",
    "experimental_only_paths",
    "load_dashboard_document",
    "load_document",
    "transition_detail",
]

# WIRE.md §3 `ChatStatus`: every status a chat can have.
CHAT_STATUSES = frozenset({"waiting", "running", "error", "requires_action", "interrupting"})
# WIRE.md §4: a run ends in `waiting` (FinishTurn, FinishInterruption) or `error` (FinishError).
IDLE_STATUSES = frozenset({"waiting", "error"})
# The label a scripted agent reads to pick a scenario (the mock's: README, "Scenarios"). A real
# Coder keeps it as a plain label; the checks that need a slow or failing run say when none arose.
SCENARIO_LABEL = "scenario"
# WIRE.md §1 (routes `registerChatAPIRoutes`): the second mount of the same chat routes.
EXPERIMENTAL_PREFIX = "/api/experimental"


def transition_detail(transition: str, state: str) -> str:
    """WIRE.md §4 (errors `TransitionError.Error`): the `detail` of a refused transition's 409."""
    return f"chat state transition {transition} not allowed from state {state}"


def experimental_only_paths(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The document's paths whose path-level `servers` is `/api/experimental` alone, with a GET and no
    parameter but `{chat}`: each is 404 `Route not found.` under `/api/v2`."""
    found = []
    for path, item in document.get("paths", {}).items():
        servers = [server.get("url") for server in item.get("servers", [])]
        parameters = [part for part in path.split("/") if part.startswith("{")]
        if servers == [EXPERIMENTAL_PREFIX] and "get" in item and set(parameters) <= {"{chat}"}:
            found.append(path)
    return tuple(found)


def load_dashboard_document() -> dict[str, Any]:
    """The dashboard shell's document (openapi/current/dashboard.yaml), as packaged."""
    import coder_chats_openapi

    return read_openapi(coder_chats_openapi.current_dashboard_document())


def load_document(path: Path | None = None) -> dict[str, Any]:
    """Today's OpenAPI document: the packaged one unless a path is given."""
    if path is None:
        import coder_chats_openapi

        path = coder_chats_openapi.current_document()
    return read_openapi(path)


@dataclass(frozen=True, slots=True)
class WireFacts:
    """Coder's exact refusals, as the error examples of the document's `components/responses` show them."""

    signed_out: str  # 401, any token problem
    no_token_detail: str  # 401 detail when no token was sent at all
    not_found: str  # 404, a chat that is missing or another user's
    invalid_json: str  # 400, a body that is not JSON or has a field of the wrong type
    organization_required: str  # 400, POST /chats without organization_id
    not_a_member: str  # 403, POST /chats in another organization
    content_required: str  # 400, empty content
    content_required_detail: str
    invalid_part: str  # 400, a part that is not text, file or file-reference, or an empty text
    invalid_query: str  # 400, a paging parameter that does not parse
    invalid_search: str  # 400, a `q` the chat search cannot read
    title_empty: str  # 400, PATCH with a blank title
    already_archived: str  # 400, archiving an archived chat
    pin_negative: str  # 400, a negative pin_order
    archive_active: str  # 409, archiving a busy chat
    invalid_limit: str  # 400, a transcript page outside 1-200
    cursors_transposed: str  # 400, after_id >= before_id
    send_archived: str  # 400, a send to an archived chat
    invalid_busy: str  # 400, an unknown busy_behavior
    invalid_busy_detail: str
    edit_archived: str  # 400, an edit in an archived chat
    invalid_message_id: str  # 400, {message} not a positive integer
    invalid_message_id_detail: str
    not_user_message: str  # 400, an edit of a message that is not the user's
    message_not_found: str  # 404, an edit of a message of another chat (or none)
    message_not_found_detail: str
    interrupt_archived: str  # 400
    not_interruptible: str  # 409
    invalid_queued_id: str  # 400, {queuedMessage} not an int64
    queued_not_found: str  # 404
    nothing_to_delete: str  # 409
    promote_archived: str  # 400
    nothing_to_promote: str  # 409
    promotion_accepted: str  # 202 body's message
    shapes: Shapes  # the document's schemas, for every payload a check reads
    experimental_only_paths: tuple[str, ...]  # 404 `Route not found.` under /api/v2 (WIRE.md §1)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> WireFacts:
        """Read the facts from the examples of components/responses."""
        responses = document["components"]["responses"]

        def example(response: str, name: str | None = None) -> Mapping[str, Any]:
            media = responses[response]["content"]["application/json"]
            found: Mapping[str, Any] = media["example"] if name is None else media["examples"][name]["value"]
            return found

        return cls(
            signed_out=example("Unauthorized")["message"],
            no_token_detail=example("Unauthorized")["detail"],
            not_found=example("NotFound")["message"],
            invalid_json=example("CreateChatBadRequest", "invalid-json")["message"],
            organization_required=example("CreateChatBadRequest", "organization")["message"],
            not_a_member=example("CreateChatForbidden")["message"],
            content_required=example("CreateChatBadRequest", "content-empty")["message"],
            content_required_detail=example("CreateChatBadRequest", "content-empty")["detail"],
            invalid_part=example("CreateChatBadRequest", "part")["message"],
            invalid_query=example("ListChatsBadRequest", "paging")["message"],
            invalid_search=example("ListChatsBadRequest", "query")["message"],
            title_empty=example("UpdateChatBadRequest", "title")["message"],
            already_archived=example("UpdateChatBadRequest", "archived")["message"],
            pin_negative=example("UpdateChatBadRequest", "pin")["message"],
            archive_active=example("UpdateChatConflict")["message"],
            invalid_limit=example("ListMessagesBadRequest", "limit")["message"],
            cursors_transposed=example("ListMessagesBadRequest", "cursors")["message"],
            send_archived=example("SendMessageBadRequest", "archived")["message"],
            invalid_busy=example("SendMessageBadRequest", "busy")["message"],
            invalid_busy_detail=example("SendMessageBadRequest", "busy")["detail"],
            edit_archived=example("EditMessageBadRequest", "archived")["message"],
            invalid_message_id=example("EditMessageBadRequest", "message-id")["message"],
            invalid_message_id_detail=example("EditMessageBadRequest", "message-id")["detail"],
            not_user_message=example("EditMessageBadRequest", "not-user")["message"],
            message_not_found=example("EditMessageNotFound", "message")["message"],
            message_not_found_detail=example("EditMessageNotFound", "message")["detail"],
            interrupt_archived=example("InterruptBadRequest", "archived")["message"],
            not_interruptible=example("InterruptConflict")["message"],
            invalid_queued_id=example("QueuedMessageBadRequest")["message"],
            queued_not_found=example("QueuedMessageNotFound", "queued")["message"],
            nothing_to_delete=example("DeleteQueuedConflict")["message"],
            promote_archived=example("PromoteBadRequest", "archived")["message"],
            nothing_to_promote=example("PromoteQueuedConflict")["message"],
            promotion_accepted=_promotion_message(document),
            shapes=Shapes.from_document(document),
            experimental_only_paths=experimental_only_paths(document),
        )


def _promotion_message(document: Mapping[str, Any]) -> str:
    """The 202 body of a promotion, from the operation's example."""
    operation = document["paths"]["/chats/{chat}/queue/{queuedMessage}/promote"]["post"]
    media = operation["responses"]["202"]["content"]["application/json"]
    message: str = media["example"]["message"]
    return message
