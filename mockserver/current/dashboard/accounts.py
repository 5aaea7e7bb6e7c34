"""A user of the mock as the dashboard shows it: the user, its settings, keys and skills.

Sources and choices: openapi/current/DASHBOARD.md section 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.core.models import User
from mockserver.current.catalog import Provider
from mockserver.current.dashboard.deployment import Deployment

__all__ = ["ai_provider_keys", "ai_providers", "appearance_settings", "preferences", "user_json"]


def user_json(user: User, deployment: Deployment) -> dict[str, Any]:
    """codersdk.User: an active member of the default organization, with no site role."""
    return {
        "id": str(user.id),
        "username": user.username,
        "name": "",
        "avatar_url": "",
        "email": f"{user.username}@example.com",
        "created_at": deployment.created,
        "updated_at": deployment.created,
        "last_seen_at": deployment.created,
        "status": "active",
        "login_type": "password",
        "theme_preference": "",
        "organization_ids": [str(user.organization_id)],
        "roles": [],
        "has_ai_seat": True,
    }


def appearance_settings() -> dict[str, Any]:
    """codersdk.UserAppearanceSettings of a user who never changed them."""
    return {
        "theme_preference": "",
        "theme_mode": "",
        "theme_light": "",
        "theme_dark": "",
        "terminal_font": "",
    }


def preferences() -> dict[str, Any]:
    """codersdk.UserPreferenceSettings of a user who never changed them."""
    return {
        "thinking_display_mode": "auto",
        "shell_tool_display_mode": "auto",
        "code_diff_display_mode": "auto",
        "agent_chat_send_shortcut": "enter",
    }


def ai_providers(providers: Sequence[Provider], deployment: Deployment) -> list[dict[str, Any]]:
    """codersdk.AIProvider rows: the chat catalog's providers, enabled, their key masked."""
    return [
        {
            "id": str(provider.id),
            "type": provider.type,
            "name": provider.type,
            "display_name": provider.display_name,
            "icon": "",
            "enabled": True,
            "base_url": "",
            "api_keys": [{"id": str(provider.id), "masked": "sk-...mock", "created_at": deployment.created}],
            "settings": {},
            "created_at": deployment.created,
            "updated_at": deployment.created,
        }
        for provider in providers
    ]


def ai_provider_keys(providers: Sequence[Provider]) -> list[dict[str, Any]]:
    """codersdk.UserAIProviderKeyConfig rows: the deployment holds each key; no BYOK."""
    return [
        {
            "provider": {
                "id": str(provider.id),
                "type": provider.type,
                "name": provider.type,
                "display_name": provider.display_name,
                "icon": "",
                "enabled": True,
                "deleted": False,
            },
            "has_user_api_key": False,
            "has_provider_api_key": True,
            "byok_enabled": False,
        }
        for provider in providers
    ]
