"""An organization's chat models and model overrides: `/organizations/{organization}/chats/...`.

Read from the pinned handlers (`createChatModelConfig`, `getChatModelConfig`,
`getOrganizationChatModelOverrides`, `putOrganizationChatModelOverride`,
`getUserChatPersonalModelOverrides`, `putUserChatPersonalModelOverride`,
`validateChatModelOverride`; routes `registerOrganizationChatRoutes`,
`registerOrganizationMemberChatRoutes`; openapi/current/WIRE.md section 5). The models live in
the generation's catalog, so a model made here is one a chat can run. Where the pinned handler
was not read (a model's update and delete, its ACL), the mock's choice is written in WIRE.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from starlette.responses import Response

from mockserver.core.clock import Clock, IdFactory
from mockserver.core.directory import Directory
from mockserver.core.errors import InvalidUUIDParam
from mockserver.core.golang import parse_uuid, quote
from mockserver.core.models import User
from mockserver.current.catalog import ChatModelConfig, ModelCatalog
from mockserver.current.inputs import REASONING_EFFORTS, go_trim_space
from mockserver.current.responses import json_response, no_content
from mockserver.current.wire import model_json
from mockserver.edge.coder_errors import RESOURCE_NOT_FOUND, CoderRefusal

__all__ = ["ChatModelsApi"]

# sdk AllChatModelOverrideContexts, ChatPersonalModelOverrideContext*.
_OVERRIDE_CONTEXTS = ("general", "explore", "title_generation", "compaction", "advisor")
_PERSONAL_CONTEXTS = ("root", "general", "explore")
_PERSONAL_MODES = ("deployment_default", "chat_default", "model")


class ChatModelsApi:
    """Handlers of the organization's model routes, by operationId, over the catalog."""

    def __init__(
        self,
        *,
        catalog: ModelCatalog,
        directory: Directory,
        clock: Clock,
        new_id: IdFactory,
        personal_enabled: Callable[[], bool],
    ) -> None:
        """`personal_enabled`: whether users may set their own models (a deployment setting)."""
        self._catalog = catalog
        self._directory = directory
        self._clock = clock
        self._new_id = new_id
        self._overrides: dict[str, dict[str, Any]] = {}  # context -> ChatModelOverrideResponse
        self._personal: dict[tuple[UUID, str], dict[str, Any]] = {}  # (user, context) -> override
        self._personal_enabled = personal_enabled

    def _organization(self, path: Mapping[str, str]) -> None:
        if not self._catalog.owns(path["organization"]):
            raise CoderRefusal(404, RESOURCE_NOT_FOUND)

    def _model(self, path: Mapping[str, str]) -> ChatModelConfig:
        self._organization(path)
        raw = path["model"]
        try:
            model_id = parse_uuid(raw)
        except ValueError as error:
            raise InvalidUUIDParam(raw, str(error)) from None
        found = self._catalog.get(model_id)
        if found is None:
            raise CoderRefusal(404, RESOURCE_NOT_FOUND)
        return found

    # --- models -------------------------------------------------------------------------------

    async def create_an_ai_model_in_an_organization(
        self, path: Mapping[str, str], request_body: dict[str, Any]
    ) -> Response:
        """POST /organizations/{organization}/chats/models."""
        self._organization(path)
        body = request_body
        if "group_acl" in body or "user_acl" in body:
            raise CoderRefusal(
                400, "Model ACLs cannot be set here. Use the nested /acl endpoint after creating the model."
            )
        if body.get("ai_provider_id") is None:
            raise CoderRefusal(400, "AI provider ID is required.")
        model = go_trim_space(body.get("model") or "")
        if not model:
            raise CoderRefusal(400, "Model is required.")
        limit = body.get("context_limit")
        if limit is None or limit <= 0:
            raise CoderRefusal(400, "Context limit is required.", "context_limit must be greater than zero.")
        threshold = _threshold(body.get("compression_threshold"), 30 if limit >= 500_000 else 70)
        provider = self._catalog.provider(parse_uuid(body["ai_provider_id"]))
        if provider is None:
            raise CoderRefusal(400, "AI provider not found.")  # errChatProviderMissing's text was not read
        default = bool(body.get("is_default")) or not self._catalog.models
        config = ChatModelConfig(
            id=self._new_id(),
            organization_id=self._catalog.organization_id,
            provider=provider,
            model=model,
            display_name=go_trim_space(body.get("display_name") or ""),
            is_default=default,
            context_limit=int(limit),
            compression_threshold=threshold,
            created_at=self._clock(),
        )
        self._catalog.add(config)
        return json_response(201, model_json(config))

    async def get_an_ai_model(self, path: Mapping[str, str]) -> Response:
        """GET /organizations/{organization}/chats/models/{model}."""
        return json_response(200, model_json(self._model(path)))

    async def update_an_ai_model(self, path: Mapping[str, str], request_body: dict[str, Any]) -> Response:
        """PATCH .../models/{model} (not read: the create's rules for the fields sent)."""
        found = self._model(path)
        body = request_body
        changes: dict[str, Any] = {}
        if body.get("display_name") is not None:
            changes["display_name"] = go_trim_space(body["display_name"])
        if body.get("model") is not None:
            model = go_trim_space(body["model"])
            if not model:
                raise CoderRefusal(400, "Model is required.")
            changes["model"] = model
        if body.get("context_limit") is not None:
            if body["context_limit"] <= 0:
                raise CoderRefusal(
                    400, "Context limit is required.", "context_limit must be greater than zero."
                )
            changes["context_limit"] = int(body["context_limit"])
        if body.get("compression_threshold") is not None:
            changes["compression_threshold"] = _threshold(body["compression_threshold"], 70)
        if body.get("is_default"):
            changes["is_default"] = True
        updated = replace(found, **changes)
        self._catalog.replace(updated)
        return json_response(200, model_json(updated))

    async def delete_an_ai_model(self, path: Mapping[str, str]) -> Response:
        """DELETE .../models/{model} (not read: 204, the default passing to the first left)."""
        self._catalog.remove(self._model(path).id)
        return no_content()

    async def get_ai_model_acl(self, path: Mapping[str, str]) -> Response:
        """GET .../models/{model}/acl: the organization's everyone group reads it (seeded at create)."""
        self._model(path)
        everyone = {"id": str(self._catalog.organization_id), "name": "Everyone", "role": "read"}
        return json_response(200, {"users": [], "groups": [everyone]})

    async def update_ai_model_acl(
        self, user: User, path: Mapping[str, str], request_body: dict[str, Any]
    ) -> Response:
        """PATCH .../models/{model}/acl (not read): as the chat ACL, nobody else to share with."""
        self._model(path)
        entries = [("user_roles", raw) for raw in request_body.get("user_roles") or {}] + [
            ("group_roles", raw) for raw in request_body.get("group_roles") or {}
        ]
        if entries:
            raise CoderRefusal(
                400,
                "Invalid request to update chat model ACL.",
                validations=[
                    {"field": f, "detail": f"{quote(r)} cannot be shared with in the mock"}
                    for f, r in entries
                ],
            )
        return no_content()

    async def list_ai_model_acl_available(self, path: Mapping[str, str]) -> Response:
        """GET .../models/{model}/acl/available (not read): nobody to add in the mock."""
        self._model(path)
        return json_response(200, {"users": [], "groups": []})

    # --- the organization's overrides ----------------------------------------------------------

    async def list_organization_chat_model_overrides(self, path: Mapping[str, str]) -> Response:
        """GET /organizations/{organization}/chats/model-overrides."""
        self._organization(path)
        return json_response(
            200, {"overrides": [self._overrides[c] for c in _OVERRIDE_CONTEXTS if c in self._overrides]}
        )

    async def update_organization_chat_model_override(
        self, path: Mapping[str, str], request_body: dict[str, Any]
    ) -> Response:
        """PUT .../model-overrides/{context}: an empty model clears it."""
        self._organization(path)
        context = path["context"]
        if context not in _OVERRIDE_CONTEXTS:
            raise CoderRefusal(
                400,
                "Invalid chat model override context.",
                f"Expected one of {', '.join(_OVERRIDE_CONTEXTS)}. Got {quote(context)}.",
            )
        raw_model = go_trim_space(request_body.get("model_config_id") or "")
        effort = request_body.get("reasoning_effort")
        if not raw_model:
            if effort is not None:
                raise CoderRefusal(400, "reasoning_effort requires model_config_id.")
            self._overrides.pop(context, None)
            return json_response(200, {"context": context, "model_config_id": ""})
        model_id = self._override_model(raw_model, effort)
        row: dict[str, Any] = {"context": context, "model_config_id": str(model_id)}
        if effort is not None:
            row["reasoning_effort"] = effort
        self._overrides[context] = row
        return json_response(200, row)

    def _override_model(self, raw: str, effort: str | None) -> UUID:
        try:
            model_id = parse_uuid(raw)
        except ValueError:
            raise CoderRefusal(
                400, "Invalid model_config_id.", f"Value {quote(raw)} is not a valid UUID."
            ) from None
        if model_id.int == 0 or self._catalog.get(model_id) is None:
            raise CoderRefusal(400, "Invalid model_config_id.")
        if effort is not None and effort not in REASONING_EFFORTS:
            raise CoderRefusal(
                400,
                "Invalid reasoning_effort value.",
                "Must be one of none, minimal, low, medium, high, xhigh, max.",
            )
        return model_id

    # --- a member's own -----------------------------------------------------------------------

    def _member(self, user: User, path: Mapping[str, str]) -> User:
        self._organization(path)
        raw = path["user"]
        for candidate in self._directory.users:
            if (raw == "me" and candidate.id == user.id) or raw in (candidate.username, str(candidate.id)):
                return candidate
        raise CoderRefusal(404, RESOURCE_NOT_FOUND)

    async def get_organization_member_chat_model_overrides(
        self, user: User, path: Mapping[str, str]
    ) -> Response:
        """GET /organizations/{organization}/members/{user}/chats/model-overrides."""
        member = self._member(user, path)
        out: dict[str, Any] = {"enabled": self._personal_enabled()}
        for context in _PERSONAL_CONTEXTS:
            out[context] = self._personal.get(
                (member.id, context),
                {
                    "context": context,
                    "mode": "chat_default" if context == "root" else "deployment_default",
                    "model_config_id": "",
                    "is_set": False,
                },
            )
        out["deployment_defaults"] = {
            context: self._overrides.get(context, {"context": context, "model_config_id": ""})
            for context in ("general", "explore")
        }
        return json_response(200, out)

    async def update_organization_member_chat_model_override(
        self, user: User, path: Mapping[str, str], request_body: dict[str, Any]
    ) -> Response:
        """PUT .../members/{user}/chats/model-overrides/{context} (every demo user administers)."""
        member = self._member(user, path)
        context = path["context"]
        if context not in _PERSONAL_CONTEXTS:
            raise CoderRefusal(
                400,
                "Invalid chat personal model override context.",
                f"Expected one of {', '.join(_PERSONAL_CONTEXTS)}. Got {quote(context)}.",
            )
        mode = request_body.get("mode") or ""
        raw_model = go_trim_space(request_body.get("model_config_id") or "")
        effort = request_body.get("reasoning_effort")
        if mode not in _PERSONAL_MODES:
            raise CoderRefusal(400, "Invalid chat personal model override mode.")  # the mock's wording
        row: dict[str, Any] = {"context": context, "mode": mode, "model_config_id": "", "is_set": True}
        if mode != "model":
            if raw_model:
                raise CoderRefusal(400, "model_config_id must be empty unless mode is model.")
            if effort is not None:
                raise CoderRefusal(400, "reasoning_effort must be empty unless mode is model.")  # the mock's
        else:
            row["model_config_id"] = str(self._override_model(raw_model, effort))
            if effort is not None:
                row["reasoning_effort"] = effort
        self._personal[member.id, context] = row
        return no_content()


def _threshold(value: Any, fallback: int) -> int:
    threshold = fallback if value is None else int(value)
    if not 0 <= threshold <= 100:
        raise CoderRefusal(
            400, "Invalid compression threshold.", "context_compression_threshold must be between 0 and 100"
        )
    return threshold
