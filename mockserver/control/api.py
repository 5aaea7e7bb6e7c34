"""The control plane's operations: thin handlers over the plane's parts."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.responses import Response

from mockserver.core.golang import encode_json, parse_uuid
from mockserver.edge.coder_errors import CONTENT_TYPE, error_body
from mockserver.edge.streams import OpenStreams

from .faults import FaultRule, Faults
from .journal import Journal, JournalFilter
from .paths import PathPattern

__all__ = ["SENDABLE_CLOSE_CODES", "ControlApi", "Resettable", "Steppable"]

# The close codes a server may put in a close frame (RFC 6455 7.4, the IANA registry, 3000-4999).
SENDABLE_CLOSE_CODES = frozenset([*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)])
_MAX_REASON_BYTES = 123


class Resettable(Protocol):
    """What puts the mock back to its start-up state."""

    def __call__(self) -> None:
        """Reset."""


class Steppable(Protocol):
    """The part of the Scheduler protocol the clock endpoints use."""

    def advance(self, seconds: float) -> int:
        """Run what falls due within `seconds`; returns how many ran."""

    def finish_all(self) -> int:
        """Run everything pending; returns how many ran."""


def _json(status: int, body: Any) -> Response:
    return Response(content=encode_json(body), status_code=status, media_type=CONTENT_TYPE)


def _no_content() -> Response:
    return Response(status_code=204)


class ControlApi:
    """Handlers by operationId; Connexion has already validated the request."""

    def __init__(
        self,
        *,
        reset: Resettable,
        journal: Journal,
        faults: Faults,
        clock: Steppable,
        streams: OpenStreams | None = None,
    ) -> None:
        self._reset = reset
        self._journal = journal
        self._faults = faults
        self._clock = clock
        self._streams = streams or OpenStreams()

    def resolve(self, operation_id: str) -> Any:
        """The handler of an operation: `list-requests` is `list_requests`."""
        return getattr(self, operation_id.replace("-", "_"))

    async def reset(self) -> Response:
        """POST /__mock/reset."""
        self._reset()
        return _no_content()

    async def list_requests(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        user: str | None = None,
        limit: int | None = None,
    ) -> Response:
        """GET /__mock/requests."""
        try:
            pattern = None if path is None else PathPattern(path)
        except ValueError as error:
            return _json(400, error_body("Invalid path pattern.", str(error)))
        where = JournalFilter(method=method, path=pattern, status=status, user=user)
        entries = self._journal.entries(where, limit)
        return _json(
            200,
            {
                "capacity": self._journal.capacity,
                "recorded": self._journal.recorded,
                "requests": [entry.to_json() for entry in entries],
            },
        )

    async def clear_requests(self) -> Response:
        """DELETE /__mock/requests."""
        self._journal.clear()
        return _no_content()

    async def list_faults(self) -> Response:
        """GET /__mock/faults."""
        return _json(200, {"faults": self._faults.listing()})

    async def add_fault(self, body: dict[str, Any]) -> Response:
        """POST /__mock/faults."""
        try:
            return _json(201, self._faults.add(FaultRule.from_json(body)))
        except ValueError as error:
            return _json(400, error_body("Invalid fault rule.", str(error)))

    async def clear_faults(self) -> Response:
        """DELETE /__mock/faults."""
        self._faults.clear()
        return _no_content()

    async def remove_fault(self, fault: int) -> Response:
        """DELETE /__mock/faults/{fault}."""
        if not self._faults.remove(fault):
            return _json(404, error_body(f"No fault rule {fault}."))
        return _no_content()

    async def advance_clock(self, body: dict[str, Any]) -> Response:
        """POST /__mock/clock/advance."""
        return _json(200, {"ran": self._clock.advance(float(body["seconds"]))})

    async def finish_runs(self) -> Response:
        """POST /__mock/clock/finish."""
        return _json(200, {"ran": self._clock.finish_all()})

    async def close_chat_streams(self, chat_id: str, body: dict[str, Any]) -> Response:
        """POST /__mock/chats/{chat_id}/streams/close (not `{chat}`: that name is the Chats API's)."""
        code = int(body.get("code", 1000))
        reason = str(body.get("reason", ""))
        if code not in SENDABLE_CLOSE_CODES:
            return _json(
                400,
                error_body(
                    "Invalid close code.",
                    f"{code} may not be sent by a server; use 1000-1003, 1007-1014 or 3000-4999",
                ),
            )
        if len(reason.encode("utf-8")) > _MAX_REASON_BYTES:
            return _json(400, error_body("Invalid close reason.", "a close reason holds at most 123 bytes"))
        try:
            chat = parse_uuid(chat_id)
        except ValueError as error:
            return _json(400, error_body("Invalid chat id.", str(error)))
        return _json(200, {"closed": self._streams.close_chat(chat, code, reason)})
