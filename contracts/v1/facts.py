"""The wire facts the checks compare against: read from the document, or cited from WIRE.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.checking import read_openapi

__all__ = [
    "FINISH_REASONS",
    "ROUTE_NOT_FOUND",
    "SYSTEM_PROMPT",
    "WireFacts",
    "load_document",
]

# WIRE.md section 3: the one message a new chat's transcript holds.
SYSTEM_PROMPT: Mapping[str, str] = {"type": "system_prompt", "content": "You are a helpful assistant."}
# WIRE.md section 2: an unknown route under /api/v2 (not an operation of the document).
ROUTE_NOT_FOUND = "Route not found."


def load_document(path: Path | None = None) -> dict[str, Any]:
    """The OpenAPI document: the packaged one unless a path is given."""
    if path is None:
        import coder_chats_openapi

        path = coder_chats_openapi.document()
    return read_openapi(path)


@dataclass(frozen=True, slots=True)
class WireFacts:
    """Coder's exact error messages, as the document's error responses show them."""

    signed_out: str  # 401, any token problem
    no_token_detail: str  # 401 detail when no token was sent at all
    not_found: str  # 404, a chat that is missing or another user's, or an unknown workspace
    forbidden: str  # 403, another user's workspace
    invalid_json: str  # 400, a body that is not JSON or has a field of the wrong type
    chat_fields_required: str  # 400, provider or model missing or empty
    content_required: str  # 400, message content missing or empty

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> WireFacts:
        """Read the facts from components/responses examples and `x-coder-required-message`."""
        components = document["components"]
        responses = components["responses"]
        schemas = components["schemas"]

        def example(name: str) -> Mapping[str, Any]:
            media = responses[name]["content"]["application/json"]
            found: Mapping[str, Any] = media["example"]
            return found

        bad_request = responses["BadRequest"]["content"]["application/json"]["examples"]
        return cls(
            signed_out=example("Unauthorized")["message"],
            no_token_detail=example("Unauthorized")["detail"],
            not_found=example("NotFound")["message"],
            forbidden=example("Forbidden")["message"],
            invalid_json=bad_request["invalid-json"]["value"]["message"],
            chat_fields_required=schemas["codersdk.CreateChatRequest"]["x-coder-required-message"],
            content_required=schemas["codersdk.CreateChatMessageRequest"]["x-coder-required-message"],
        )

    def bad_request_messages(self) -> frozenset[str]:
        """Every fixed 400 message (the invalid-UUID one is a pattern)."""
        return frozenset({self.invalid_json, self.chat_fields_required, self.content_required})


# WIRE.md §4: `run_finished.finish_reason` (`stop`, `length`, `tool-calls`, `error`, ...): the AI
# SDK's finish reasons (coder/aisdk-go), the four WIRE.md names and the SDK's other three.
FINISH_REASONS = frozenset({"stop", "length", "tool-calls", "error", "content-filter", "other", "unknown"})
