"""The model picker of a Coder web UI older than the pinned server (opt-in: `--ui-model-routes`).

Coder's `site/` of 2026-08 fills its model picker from `GET /api/experimental/chats/models`
and `GET /api/experimental/chats/model-configs`, and reads the user's model overrides from
`GET /api/experimental/chats/config/user-personal-model-overrides`; the pinned coderd
(004053e8) reserves the first two as 404 `Route not found.` and moved the lists under the
organization (and its members). Without these routes that UI shows "No Models Configured" and
cannot send, on real coderd as on the mock.
With the switch the mock answers them from its model catalog, in the shapes of that UI's
`typesGenerated.ts` (openapi/current/DASHBOARD.md section 7); off by default, the pinned
server's 404 stands.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.golang import format_time
from mockserver.current.catalog import ModelCatalog

__all__ = [
    "MODELS_PATH",
    "MODEL_CONFIGS_PATH",
    "PERSONAL_OVERRIDES_PATH",
    "model_configs",
    "models",
    "personal_overrides",
]

MODELS_PATH = "/api/experimental/chats/models"
MODEL_CONFIGS_PATH = "/api/experimental/chats/model-configs"
PERSONAL_OVERRIDES_PATH = "/api/experimental/chats/config/user-personal-model-overrides"


def models(catalog: ModelCatalog) -> dict[str, Any]:
    """codersdk.ChatModelsResponse (2026-08): each provider available, with its models."""
    return {
        "providers": [
            {
                "provider": provider.type,
                "available": True,
                "models": [
                    {
                        "id": f"{model.provider.type}:{model.model}",
                        "provider": model.provider.type,
                        "model": model.model,
                        "display_name": model.display_name,
                    }
                    for model in catalog.models
                    if model.provider == provider
                ],
            }
            for provider in catalog.providers
        ],
        "unsupported_providers": [],
    }


def model_configs(catalog: ModelCatalog) -> list[dict[str, Any]]:
    """codersdk.ChatModelConfig rows (2026-08): the catalog's models, by their config ids."""
    return [
        {
            "id": str(model.id),
            "ai_provider_id": str(model.provider.id),
            "model": model.model,
            "display_name": model.display_name,
            "enabled": True,
            "is_default": model.is_default,
            "context_limit": model.context_limit,
            "compression_threshold": model.compression_threshold,
            "created_at": format_time(model.created_at),
            "updated_at": format_time(model.created_at),
        }
        for model in catalog.models
    ]


def personal_overrides(catalog: ModelCatalog) -> dict[str, Any]:
    """codersdk.UserChatPersonalModelOverridesResponse (2026-08): none set, the default model."""

    def unset(context: str) -> dict[str, Any]:
        return {
            "context": context,
            "mode": "chat_default",
            "model_config_id": "",
            "is_set": False,
            "is_malformed": False,
        }

    def deployment_default(context: str) -> dict[str, Any]:
        return {"context": context, "model_config_id": str(catalog.default.id), "is_malformed": False}

    return {
        "enabled": False,
        "root": unset("root"),
        "general": unset("general"),
        "explore": unset("explore"),
        "deployment_defaults": {
            "general": deployment_default("general"),
            "explore": deployment_default("explore"),
        },
    }
