"""`/chats/config/...`: the deployment's chat settings and each user's own, kept in memory.

Read from the pinned handlers (`getChatSystemPrompt` ... `putChatAutoArchiveDays`,
`getUserChatCompactionThresholds`, `putUserChatCompactionThreshold`; the debug-logging,
computer-use and advisor handlers from the nearest stored version; openapi/current/WIRE.md
section 5). Every demo user may administer the deployment in the mock, so the admin routes
answer them (coderd: 404 on an admin GET, 403 on an admin PUT, for a user who may not). The
settings start at coderd's defaults and live as long as the app (a reset of the store keeps them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from starlette.responses import Response

from mockserver.core.golang import parse_uuid, quote
from mockserver.core.models import User
from mockserver.current.catalog import ModelCatalog
from mockserver.current.responses import json_response, no_content
from mockserver.edge.coder_errors import RESOURCE_NOT_FOUND, CoderRefusal

__all__ = ["ChatConfigApi", "DeploymentChatSettings", "UserChatSettings"]

_MAX_PROMPT_BYTES = 131072  # maxSystemPromptLenBytes
_DAYS_MAXIMUM = 3650
_TTL_MINIMUM_MS = 60 * 1000  # ttlMinimum (coderd/workspaces.go)
_TTL_MAXIMUM_MS = 30 * 24 * 3600 * 1000  # ttlMaximum
_COMPUTER_USE_PROVIDERS = ("anthropic", "openai")  # sdk AllChatComputerUseProviders
# chatd.DefaultSystemPrompt was not read: the mock's stand-in.
DEFAULT_SYSTEM_PROMPT = (
    "You are Coder's agent (mock). The mock's runs are scripted; this prompt is not sent anywhere."
)


@dataclass(frozen=True, slots=True)
class DeploymentChatSettings:
    """The deployment-wide settings, at coderd's defaults (`chatOperationalSetting.defaultValue`)."""

    system_prompt: str = ""
    include_default_system_prompt: bool | None = None  # None: never set (the legacy rule applies)
    plan_mode_instructions: str = ""
    personal_model_overrides: bool = False
    debug_logging_allow_users: bool = False
    workspace_ttl_ms: int = 0
    retention_days: int = 30
    debug_retention_days: int = 30  # sdk DefaultChatDebugRetentionDays
    auto_archive_days: int = 0  # sdk DefaultChatAutoArchiveDays
    computer_use_provider: str = "anthropic"  # chattool.DefaultComputerUseProvider("") was not read
    advisor_max_uses_per_run: int = 0
    advisor_max_output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class UserChatSettings:
    """One user's own chat settings."""

    custom_prompt: str = ""
    debug_logging: bool = False
    compaction_thresholds: Mapping[str, int] = field(default_factory=dict)  # model config id -> percent


class ChatConfigApi:
    """Handlers of `/chats/config/...`, by operationId, over the settings they keep."""

    def __init__(self, *, catalog: ModelCatalog) -> None:
        self._catalog = catalog
        self._deployment = DeploymentChatSettings()
        self._users: dict[UUID, UserChatSettings] = {}

    def personal_model_overrides_enabled(self) -> bool:
        """Whether users may pick their own default models (read by the member override routes)."""
        return self._deployment.personal_model_overrides

    def _set(self, **changes: Any) -> Response:
        self._deployment = replace(self._deployment, **changes)
        return no_content()

    def _user(self, user: User) -> UserChatSettings:
        return self._users.get(user.id, UserChatSettings())

    def _set_user(self, user: User, **changes: Any) -> None:
        self._users[user.id] = replace(self._user(user), **changes)

    # --- the deployment's ---------------------------------------------------------------------

    async def get_chat_system_prompt(self) -> Response:
        """GET /chats/config/system-prompt."""
        settings = self._deployment
        include = settings.include_default_system_prompt
        return json_response(
            200,
            {
                "system_prompt": settings.system_prompt,
                # Never set: a custom prompt opts out of the default (putChatSystemPrompt's legacy rule).
                "include_default_system_prompt": settings.system_prompt == "" if include is None else include,
                "default_system_prompt": DEFAULT_SYSTEM_PROMPT,
            },
        )

    async def update_chat_system_prompt(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/system-prompt."""
        prompt = _bounded_prompt(
            request_body.get("system_prompt") or "", "System prompt exceeds maximum length."
        )
        include = request_body.get("include_default_system_prompt")
        changes: dict[str, Any] = {"system_prompt": prompt}
        if include is not None:
            changes["include_default_system_prompt"] = include
        return self._set(**changes)

    async def get_chat_plan_mode_instructions(self) -> Response:
        """GET /chats/config/plan-mode-instructions."""
        return json_response(200, {"plan_mode_instructions": self._deployment.plan_mode_instructions})

    async def update_chat_plan_mode_instructions(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/plan-mode-instructions."""
        text = _bounded_prompt(
            request_body.get("plan_mode_instructions") or "", "Plan mode instructions exceed maximum length."
        )
        return self._set(plan_mode_instructions=text)

    async def get_chat_personal_model_override_settings(self) -> Response:
        """GET /chats/config/personal-model-overrides."""
        return json_response(200, {"allow_users": self._deployment.personal_model_overrides})

    async def update_chat_personal_model_override_settings(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/personal-model-overrides."""
        return self._set(personal_model_overrides=bool(request_body.get("allow_users")))

    async def get_chat_debug_logging(self) -> Response:
        """GET /chats/config/debug-logging (the deployment does not force debug logging on)."""
        return json_response(
            200, {"allow_users": self._deployment.debug_logging_allow_users, "forced_by_deployment": False}
        )

    async def update_chat_debug_logging(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/debug-logging."""
        return self._set(debug_logging_allow_users=bool(request_body.get("allow_users")))

    async def get_chat_workspace_ttl(self) -> Response:
        """GET /chats/config/workspace-ttl."""
        return json_response(200, {"workspace_ttl_ms": self._deployment.workspace_ttl_ms})

    async def update_chat_workspace_ttl(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/workspace-ttl."""
        ttl = int(request_body.get("workspace_ttl_ms") or 0)
        if ttl < 0:
            raise CoderRefusal(400, "Workspace TTL must be non-negative.")
        if 0 < ttl < _TTL_MINIMUM_MS:
            raise CoderRefusal(400, "Workspace TTL must not be less than 1 minute.")
        if ttl > _TTL_MAXIMUM_MS:
            raise CoderRefusal(400, "Workspace TTL must not exceed 30 days.")
        return self._set(workspace_ttl_ms=ttl)

    async def get_chat_retention_days(self) -> Response:
        """GET /chats/config/retention-days."""
        return json_response(200, {"retention_days": self._deployment.retention_days})

    async def update_chat_retention_days(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/retention-days."""
        days = _days(request_body.get("retention_days"), "Retention days must be between 0 and 3650.")
        return self._set(retention_days=days)

    async def get_chat_debug_retention_days(self) -> Response:
        """GET /chats/config/debug-retention-days."""
        return json_response(200, {"debug_retention_days": self._deployment.debug_retention_days})

    async def update_chat_debug_retention_days(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/debug-retention-days."""
        days = _days(
            request_body.get("debug_retention_days"), "Chat debug retention days must be between 0 and 3650."
        )
        return self._set(debug_retention_days=days)

    async def get_chat_auto_archive_days(self) -> Response:
        """GET /chats/config/auto-archive-days."""
        return json_response(200, {"auto_archive_days": self._deployment.auto_archive_days})

    async def update_chat_auto_archive_days(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/auto-archive-days."""
        days = _days(request_body.get("auto_archive_days"), "Auto-archive days must be between 0 and 3650.")
        return self._set(auto_archive_days=days)

    async def get_chat_computer_use_provider(self) -> Response:
        """GET /chats/config/computer-use-provider (experimental)."""
        return json_response(200, {"provider": self._deployment.computer_use_provider})

    async def update_chat_computer_use_provider(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/computer-use-provider (experimental)."""
        provider = request_body.get("provider") or ""
        if provider not in _COMPUTER_USE_PROVIDERS:
            raise CoderRefusal(
                400,
                "Invalid computer use provider.",
                f"Expected one of: {', '.join(_COMPUTER_USE_PROVIDERS)}. Got {quote(provider)}.",
            )
        return self._set(computer_use_provider=provider)

    async def get_chat_advisor_config(self) -> Response:
        """GET /chats/config/advisor (experimental; the advisor experiment is on in the mock)."""
        settings = self._deployment
        return json_response(
            200,
            {
                "enabled": True,
                "max_uses_per_run": settings.advisor_max_uses_per_run,
                "max_output_tokens": settings.advisor_max_output_tokens,
            },
        )

    async def update_chat_advisor_config(self, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/advisor (experimental)."""
        uses = int(request_body.get("max_uses_per_run") or 0)
        tokens = int(request_body.get("max_output_tokens") or 0)
        if uses < 0:
            raise CoderRefusal(400, f"max_uses_per_run {uses} must be non-negative.")
        if tokens < 0:
            raise CoderRefusal(400, f"max_output_tokens {tokens} must be non-negative.")
        return self._set(advisor_max_uses_per_run=uses, advisor_max_output_tokens=tokens)

    # --- the user's own -----------------------------------------------------------------------

    async def get_user_chat_debug_logging(self, user: User) -> Response:
        """GET /chats/config/user-debug-logging."""
        allowed = self._deployment.debug_logging_allow_users
        return json_response(
            200,
            {
                "debug_logging_enabled": allowed and self._user(user).debug_logging,
                "user_toggle_allowed": allowed,
                "forced_by_deployment": False,
            },
        )

    async def update_user_chat_debug_logging(self, user: User, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/user-debug-logging: only where an administrator allows it."""
        if not self._deployment.debug_logging_allow_users:
            raise CoderRefusal(403, "An administrator has not enabled user-controlled chat debug logging.")
        self._set_user(user, debug_logging=bool(request_body.get("debug_logging_enabled")))
        return no_content()

    async def get_user_chat_custom_prompt(self, user: User) -> Response:
        """GET /chats/config/user-prompt."""
        return json_response(200, {"custom_prompt": self._user(user).custom_prompt})

    async def update_user_chat_custom_prompt(self, user: User, request_body: dict[str, Any]) -> Response:
        """PUT /chats/config/user-prompt."""
        prompt = _bounded_prompt(
            request_body.get("custom_prompt") or "", "Custom prompt exceeds maximum length."
        )
        self._set_user(user, custom_prompt=prompt)
        return json_response(200, {"custom_prompt": prompt})

    async def get_user_chat_compaction_thresholds(self, user: User) -> Response:
        """GET /chats/config/user-compaction-thresholds."""
        thresholds = self._user(user).compaction_thresholds
        return json_response(
            200,
            {
                "thresholds": [
                    {"model_config_id": k, "threshold_percent": v} for k, v in sorted(thresholds.items())
                ]
            },
        )

    async def update_user_chat_compaction_threshold(
        self, user: User, path: Mapping[str, str], request_body: dict[str, Any]
    ) -> Response:
        """PUT /chats/config/user-compaction-thresholds/{modelConfig}."""
        model_id = _model_config_id(path)
        percent = int(request_body.get("threshold_percent") or 0)
        if not 0 <= percent <= 100:
            raise CoderRefusal(
                400,
                "threshold_percent is out of range.",
                f"threshold_percent must be between 0 and 100, got {percent}.",
            )
        if self._catalog.get(model_id) is None:
            raise CoderRefusal(404, RESOURCE_NOT_FOUND)
        thresholds = {**self._user(user).compaction_thresholds, str(model_id): percent}
        self._set_user(user, compaction_thresholds=thresholds)
        return json_response(200, {"model_config_id": str(model_id), "threshold_percent": percent})

    async def delete_user_chat_compaction_threshold(self, user: User, path: Mapping[str, str]) -> Response:
        """DELETE /chats/config/user-compaction-thresholds/{modelConfig}."""
        model_id = str(_model_config_id(path))
        thresholds = {k: v for k, v in self._user(user).compaction_thresholds.items() if k != model_id}
        self._set_user(user, compaction_thresholds=thresholds)
        return no_content()


def _bounded_prompt(text: str, message: str) -> str:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > _MAX_PROMPT_BYTES:
        raise CoderRefusal(400, message, f"Maximum length is {_MAX_PROMPT_BYTES} bytes, got {size}.")
    return text


def _days(value: Any, message: str) -> int:
    days = int(value or 0)
    if not 0 <= days <= _DAYS_MAXIMUM:
        raise CoderRefusal(400, message)
    return days


def _model_config_id(path: Mapping[str, str]) -> UUID:
    try:
        return parse_uuid(path["modelConfig"])
    except ValueError as error:
        raise CoderRefusal(400, "Invalid chat model config ID.", str(error)) from None
