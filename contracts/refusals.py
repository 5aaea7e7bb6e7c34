"""Coder's error body as a check expects it, in every generation (WIRE.md §2 of each): status, message, detail, validations."""

from __future__ import annotations

import httpx

from contracts.checking import json_object_or_none, snippet
from contracts.violations import ContractBroken

__all__ = ["expect_error", "invalid_uuid_message"]

# The fields of Coder's `Response` the document names; any other field is a newer server's and ignored.
_ERROR_FIELDS = ("message", "detail", "validations")


def expect_error(
    response: httpx.Response,
    status: int,
    message: str,
    *,
    kind: str,
    detail: str | bool | None = None,
    field: str | None = None,
    rule: str | None = None,
) -> None:
    """Coder's error: this status and exact message; `detail` exact, present (True) or absent (None);
    `field`: a `validations` entry names this field, with a detail.

    The body is open: fields beyond `message`, `detail` and `validations` are ignored.
    """
    if response.status_code != status:
        raise ContractBroken(
            kind,
            f"expected status {status} `{message}`, got {response.status_code}: {snippet(response)}",
            rule=rule,
        )
    raw = json_object_or_none(response)
    body = {name: raw[name] for name in _ERROR_FIELDS if name in raw} if isinstance(raw, dict) else raw
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        raise ContractBroken(
            "NotCoderErrorBody", f"expected {{message, detail?}}, got {snippet(response)}", rule=rule
        )
    if body["message"] != message:
        raise ContractBroken(
            "WrongErrorMessage", f"expected message {message!r}, got {body['message']!r}", rule=rule
        )
    got_detail = body.get("detail")
    if got_detail == "":
        raise ContractBroken("EmptyDetailSent", "`detail` must be omitted when empty", rule=rule)
    if detail is None and got_detail is not None:
        raise ContractBroken(
            "UnexpectedDetail", f"expected no detail with {message!r}, got {got_detail!r}", rule=rule
        )
    if detail is True and not isinstance(got_detail, str):
        raise ContractBroken(
            "MissingDetail", f"expected a detail with {message!r}, got {snippet(response)}", rule=rule
        )
    if isinstance(detail, str) and got_detail != detail:
        raise ContractBroken("WrongErrorDetail", f"expected detail {detail!r}, got {got_detail!r}", rule=rule)
    if field is not None:
        validations = body.get("validations")
        named = (
            [
                entry
                for entry in validations or []
                if isinstance(entry, dict)
                and entry.get("field") == field
                and isinstance(entry.get("detail"), str)
            ]
            if isinstance(validations, list)
            else []
        )
        if not named:
            raise ContractBroken(
                "ValidationMissing",
                f"expected `validations` naming {field!r} with a detail, got {validations!r}",
                rule=rule,
            )


def invalid_uuid_message(raw: str) -> str:
    """WIRE.md section 2 (both generations): `Invalid UUID "<raw>".`, with Go's %q quoting (plain ASCII here)."""
    return 'Invalid UUID "' + raw.replace("\\", "\\\\").replace('"', '\\"') + '".'
