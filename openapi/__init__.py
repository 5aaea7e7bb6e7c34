"""The OpenAPI document of Coder's Chats API, installed as the data package coder_chats_openapi."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = [
    "asyncapi_document",
    "control_document",
    "current_asyncapi_document",
    "current_dashboard_document",
    "current_document",
    "docs_page",
    "document",
    "schemathesis_config",
]


def document() -> Traversable:
    """The wire-true OpenAPI 3.0.3 document of the Chats API."""
    return files(__name__) / "chats.yaml"


def current_document() -> Traversable:
    """The OpenAPI 3.0.3 document of today's Chats API (coder/coder@004053e8), `current/chats.yaml`."""
    return files(__name__) / "current" / "chats.yaml"


def current_asyncapi_document() -> Traversable:
    """The AsyncAPI 3.0 document of today's chat stream and chat watcher; refers to `current/chats.yaml`."""
    return files(__name__) / "current" / "chats.asyncapi.yaml"


def current_dashboard_document() -> Traversable:
    """The OpenAPI 3.0.3 document of the dashboard shell Coder's web UI boots in (not the Chats API)."""
    return files(__name__) / "current" / "dashboard.yaml"


def docs_page() -> Traversable:
    """Coder's generated docs page for the Chats API, as published (the seed of check-docs)."""
    return files(__name__) / "chats-api-docs.md"


def control_document() -> Traversable:
    """The OpenAPI 3.0.3 document of the mock's own control plane (/__mock), not Coder's."""
    return files(__name__) / "control.yaml"


def asyncapi_document() -> Traversable:
    """The AsyncAPI 3.0 document of the live transcript (watch WebSocket); refers to chats.yaml."""
    return files(__name__) / "chats.asyncapi.yaml"


def schemathesis_config() -> Traversable:
    """The `schemathesis.toml` plain Schemathesis needs for today's document (and reads for V1's)."""
    return files(__name__) / "schemathesis.toml"
