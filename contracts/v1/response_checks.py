"""Coder checks run on every response of the Schemathesis phase, in Schemathesis' check form.

A check is `(ctx, response, case) -> None` and raises a Failure subclass named for the violation;
`checks` on the class names the rule. They are passed explicitly (never registered globally), so
importing contracts does not change anyone else's Schemathesis run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from schemathesis.core.failures import Failure

from contracts.v1.facts import ROUTE_NOT_FOUND, WireFacts

__all__ = ["response_checks"]


class NotCoderErrorBody(Failure):
    """A refusal whose body is not Coder's `{message, detail?}` with a known message."""

    code: ClassVar[str] = "CC901"
    checks: ClassVar[tuple[str, ...]] = ("coder_error_body",)
    kind_title: ClassVar[str] = "Refusal without Coder's error body"


class MessagesNotAscending(Failure):
    """A transcript whose ids are not unique and ascending, or not of the chat asked for."""

    code: ClassVar[str] = "CC902"
    checks: ClassVar[tuple[str, ...]] = ("transcript_is_ordered",)
    kind_title: ClassVar[str] = "Transcript out of order"


class AnswerDiffersFromRequest(Failure):
    """A success whose body does not answer the request that was sent."""

    code: ClassVar[str] = "CC903"
    checks: ClassVar[tuple[str, ...]] = ("answer_matches_request",)
    kind_title: ClassVar[str] = "Answer does not match the request"


def _label(case: Any) -> str:
    return str(case.operation.label)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except Exception:  # any undecodable body: the caller reports it
        return None


def response_checks(facts: WireFacts) -> list[Callable[[Any, Any, Any], None]]:
    """The Coder checks, bound to the document's facts."""
    bad_request = facts.bad_request_messages()
    expected_messages: dict[int, Callable[[str], bool]] = {
        400: lambda m: m in bad_request or (m.startswith('Invalid UUID "') and m.endswith('".')),
        401: lambda m: m == facts.signed_out,
        403: lambda m: m == facts.forbidden,
        404: lambda m: m in (facts.not_found, ROUTE_NOT_FOUND),
    }

    def coder_error_body(ctx: Any, response: Any, case: Any) -> None:
        """Every 4xx body is Coder's `{message, detail?}` with the message its status sends (fields beyond are ignored)."""
        if not 400 <= response.status_code < 500:
            return
        body = _json(response)
        problem = None
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            problem = "not a JSON object with a string `message`"
        elif "detail" in body and (not isinstance(body["detail"], str) or body["detail"] == ""):
            problem = "`detail` present but empty or not a string"
        elif response.status_code in expected_messages and not expected_messages[response.status_code](
            body["message"]
        ):
            problem = f"message {body['message']!r} is not what Coder sends with {response.status_code}"
        if problem:
            raise NotCoderErrorBody(
                operation=_label(case), message=f"{response.status_code}: {problem}: {response.text[:300]}"
            )

    def transcript_is_ordered(ctx: Any, response: Any, case: Any) -> None:
        """A listed transcript has unique ids, ascending, all of the chat asked for."""
        if case.operation.label != "GET /chats/{chat}/messages" or response.status_code != 200:
            return
        rows = _json(response)
        if not isinstance(rows, list):
            return  # response_schema_conformance reports it
        ids: list[Any] = [row.get("id") for row in rows if isinstance(row, dict)]
        if not all(isinstance(i, int) for i in ids):
            return  # response_schema_conformance reports it
        if len(set(ids)) != len(ids) or ids != sorted(ids):
            raise MessagesNotAscending(operation=_label(case), message=f"message ids listed: {ids}")
        chat = str(case.path_parameters.get("chat", "")).lower()
        others = {row.get("chat_id") for row in rows if isinstance(row, dict)} - {chat}
        if others:
            raise MessagesNotAscending(
                operation=_label(case),
                message=f"rows of chats {sorted(str(o) for o in others)} listed for {chat}",
            )

    def answer_matches_request(ctx: Any, response: Any, case: Any) -> None:
        """A success answers the chat and the fields that were sent."""
        body = _json(response)
        if not isinstance(body, dict) or not 200 <= response.status_code < 300:
            return
        label = case.operation.label
        sent = case.body if isinstance(case.body, dict) else {}
        chat = str(case.path_parameters.get("chat", "")).lower() if case.path_parameters else ""
        problem = None
        if label == "GET /chats/{chat}" and body.get("id") != chat:
            problem = f"asked for chat {chat}, got {body.get('id')!r}"
        elif label == "POST /chats":
            for name in ("provider", "model"):
                if isinstance(sent.get(name), str) and body.get(name) != sent[name]:
                    problem = f"{name}: sent {sent[name]!r}, got {body.get(name)!r}"
            if (
                sent.get("workspace_id") is None
                and "workspace_id" in body
                and body["workspace_id"] is not None
            ):
                problem = f"workspace_id not sent, got {body['workspace_id']!r}"
            if "metadata" in sent and body.get("metadata") != sent["metadata"]:
                problem = f"metadata: sent {sent['metadata']!r}, got {body.get('metadata')!r}"
        elif label == "POST /chats/{chat}/messages":
            message = body.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            if (
                not isinstance(message, dict)
                or message.get("chat_id") != chat
                or message.get("role") != "user"
            ):
                problem = f"expected the user message of chat {chat}, got {message!r}"
            elif not isinstance(content, dict) or content.get("run_id") != body.get("run_id"):
                problem = (
                    f"the envelope's run_id is not the answer's run_id {body.get('run_id')!r}: {content!r}"
                )
        if problem:
            raise AnswerDiffersFromRequest(operation=_label(case), message=problem)

    return [coder_error_body, transcript_is_ordered, answer_matches_request]
