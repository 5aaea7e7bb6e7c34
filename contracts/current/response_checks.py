"""The Coder check run on every response of the Schemathesis phase against today's API.

A check is `(ctx, response, case) -> None` and raises a Failure subclass named for the violation;
`checks` on the class names the rule. It is passed explicitly (never registered globally).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from schemathesis.core.failures import Failure

from contracts.current.facts import WireFacts

__all__ = ["response_checks"]


class NotCoderErrorBody(Failure):
    """A refusal whose body is not Coder's `{message, detail?, validations?}`."""

    code: ClassVar[str] = "CC911"
    checks: ClassVar[tuple[str, ...]] = ("coder_error_body",)
    kind_title: ClassVar[str] = "Refusal without Coder's error body"


def _json(response: Any) -> Any:
    try:
        return response.json()
    except Exception:  # any undecodable body: the check reports it
        return None


def response_checks(facts: WireFacts) -> list[Callable[[Any, Any, Any], None]]:
    """The Coder check, bound to the document's facts."""
    expected_messages: dict[int, Callable[[str], bool]] = {
        401: lambda m: m == facts.signed_out,
    }

    def coder_error_body(ctx: Any, response: Any, case: Any) -> None:
        """Every 4xx body is Coder's `{message, detail?, validations?}` (fields beyond are ignored)."""
        if not 400 <= response.status_code < 500:
            return
        body = _json(response)
        problem = None
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            problem = "not a JSON object with a string `message`"
        elif "detail" in body and (not isinstance(body["detail"], str) or body["detail"] == ""):
            problem = "`detail` present but empty or not a string"
        elif "validations" in body and not isinstance(body["validations"], list):
            problem = "`validations` present but not a list"
        elif response.status_code in expected_messages and not expected_messages[response.status_code](
            body["message"]
        ):
            problem = f"message {body['message']!r} is not what Coder sends with {response.status_code}"
        if problem:
            raise NotCoderErrorBody(
                operation=str(case.operation.label),
                message=f"{response.status_code}: {problem}: {response.text[:300]}",
            )

    return [coder_error_body]
