"""Coder's error body as a scenario check expects it (WIRE.md §2): exact status, message and detail."""

from __future__ import annotations

import httpx

from contracts.checking import json_object_or_none, snippet
from contracts.v1.shapes import error_view
from contracts.violations import ContractBroken

__all__ = ["expect_error"]


def expect_error(
    response: httpx.Response,
    status: int,
    message: str,
    *,
    kind: str,
    detail: str | bool | None = None,
    rule: str | None = None,
) -> None:
    """Coder's error: this status, this exact message; `detail` exact, present (True) or absent (None).

    The body is open: fields beyond `message`, `detail` and `validations` are ignored.
    """
    if response.status_code != status:
        raise ContractBroken(
            kind,
            f"expected status {status} `{message}`, got {response.status_code}: {snippet(response)}",
            rule=rule,
        )
    body = error_view(json_object_or_none(response))
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
