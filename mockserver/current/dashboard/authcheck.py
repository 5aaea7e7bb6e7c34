"""`POST /api/v2/authcheck`: which of the UI's permission checks the caller passes.

The mock's users are members with no site role: a check passes when its object is the
caller's own (`owner_id` is the caller or `me`), and fails otherwise. So the UI may create
chats and read its own things, and shows no admin settings. Refusals are coderd's
(`checkAuthorization`); sources in openapi/current/DASHBOARD.md section 5.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from mockserver.core.golang import json_kind, quote
from mockserver.core.models import User
from mockserver.edge.coder_errors import CoderRefusal

__all__ = ["authorize"]

_MAX_RESOURCE_IDS = 10
# codersdk.AuthorizationObject's fields: strings, and `any_org` a bool.
_OBJECT_FIELDS = ("resource_type", "owner_id", "organization_id", "resource_id", "any_org")


def authorize(user: User, body: Any) -> dict[str, bool]:
    """codersdk.AuthorizationResponse for a decoded codersdk.AuthorizationRequest."""
    checks = _checks(body)
    with_id = sum(1 for check in checks.values() if _object(check).get("resource_id"))
    if with_id > _MAX_RESOURCE_IDS:
        raise CoderRefusal(
            400,
            f'Endpoint only supports using "resource_id" field {_MAX_RESOURCE_IDS} times, found '
            f"{with_id} usages. Remove {with_id - _MAX_RESOURCE_IDS} objects with this field set.",
        )
    answer: dict[str, bool] = {}
    for key, check in checks.items():
        target = _object(check)
        if not target.get("resource_type"):
            raise CoderRefusal(400, f'Object\'s "resource_type" field must be defined for key {quote(key)}.')
        resource_id = target.get("resource_id") or ""
        if resource_id:
            try:
                UUID(resource_id)
            except ValueError:
                raise CoderRefusal(
                    400,
                    f"Object {quote(resource_id)} id is not a valid uuid.",
                    validations=[{"field": "resource_id", "detail": "invalid UUID format"}],
                ) from None
        answer[key] = target.get("owner_id") in ("me", str(user.id))
    return answer


def _checks(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _type_error(body, "", "codersdk.AuthorizationRequest")
    checks = body.get("checks")
    if checks is None:
        return {}
    if not isinstance(checks, dict):
        raise _type_error(checks, ".checks", "map[string]codersdk.AuthorizationCheck")
    for key, check in checks.items():
        if check is not None and not isinstance(check, dict):
            raise _type_error(check, f".checks.{key}", "codersdk.AuthorizationCheck")
        target = (check or {}).get("object")
        if target is not None and not isinstance(target, dict):
            raise _type_error(target, f".checks.{key}.object", "codersdk.AuthorizationObject")
        fields = {name: (target or {}).get(name) for name in _OBJECT_FIELDS}
        for name, value in (*fields.items(), ("action", (check or {}).get("action"))):
            go_type = "bool" if name == "any_org" else "string"
            if value is not None and not isinstance(value, bool if go_type == "bool" else str):
                where = f".checks.{key}.action" if name == "action" else f".checks.{key}.object.{name}"
                raise _type_error(value, where, go_type)
    return checks


def _object(check: Any) -> dict[str, Any]:
    target = (check or {}).get("object")
    return target if isinstance(target, dict) else {}


def _type_error(value: Any, where: str, go_type: str) -> CoderRefusal:
    # httpapi.Read: a body Go's decoder refuses is "Request body must be valid JSON." with its error.
    field = f" into Go struct field AuthorizationRequest{where}" if where else ""
    return CoderRefusal(
        400,
        "Request body must be valid JSON.",
        f"json: cannot unmarshal {json_kind(value)}{field} of type {go_type}",
    )
