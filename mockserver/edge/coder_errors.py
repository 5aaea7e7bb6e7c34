"""Every refusal, answered once, at the edge, with Coder's error body and status."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.exceptions import ExceptionMiddleware
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.errors import (
    BodyTooLarge,
    ChatEvicted,
    ChatNotFound,
    ContentTooLong,
    CrossOriginHandshake,
    HeadersTooLarge,
    InvalidJSONBody,
    InvalidQueryParam,
    InvalidUUIDParam,
    MissingFields,
    MockError,
    RequestTimeout,
    RouteNotFound,
    ServerBusy,
    ShuttingDown,
    Unauthenticated,
    WorkspaceForbidden,
    WorkspaceNotFound,
)
from mockserver.core.golang import encode_json, quote
from mockserver.edge.methods import MethodIndex
from mockserver.edge.next_layer import direct_call

__all__ = [
    "CONTENT_TYPE",
    "CoderErrorMiddleware",
    "CoderRefusal",
    "coder_error",
    "error_body",
    "install_error_handlers",
    "send_error",
]

CONTENT_TYPE = "application/json; charset=utf-8"

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
RESOURCE_NOT_FOUND = "Resource not found or you do not have access to this resource"
FORBIDDEN_DETAIL = (
    "You don't have permission to view this content. If you believe this is a mistake, "
    "please contact your administrator or try signing in with different credentials."
)
INTERNAL_ERROR = "An internal server error occurred."
EVICTED_DETAIL = "The mock evicted this chat to stay within --max-chats / --max-messages."

_log = logging.getLogger(__name__)


class CoderRefusal(MockError):
    """A refusal a handler spells out itself: Coder's status and body for that route and case."""

    def __init__(
        self, status: int, message: str, detail: str = "", *, validations: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = dict(error_body(message, detail))
        if validations:
            self.body["validations"] = validations


def error_body(message: str, detail: str = "") -> dict[str, str]:
    """codersdk.Response: `detail` omitted when empty."""
    return {"message": message, "detail": detail} if detail else {"message": message}


def coder_error(error: Exception) -> tuple[int, dict[str, Any]]:
    """The status and body a real Coder server sends for this refusal."""
    match error:
        case CoderRefusal():
            return error.status, error.body
        case Unauthenticated():
            return 401, error_body(SIGNED_OUT, error.detail)
        case InvalidUUIDParam():
            return 400, error_body(f"Invalid UUID {quote(error.raw)}.", error.detail)
        case InvalidQueryParam():
            return 400, error_body(error.message, error.detail)
        case InvalidJSONBody():
            return 400, error_body("Request body must be valid JSON.", error.detail)
        case MissingFields():
            return 400, error_body(error.message)
        case RouteNotFound():
            return 404, error_body("Route not found.")
        case CrossOriginHandshake():
            # coder/websocket's Accept refuses with this sentence (accept.go, authenticateOrigin),
            # as text/plain; the mock sends it in Coder's error body like its other refusals.
            return 403, error_body(
                f"request Origin {quote(error.origin)} is not authorized for Host {quote(error.host)}"
            )
        case ChatEvicted():
            # Coder's 404, with a detail only the owner sees: a mock left running forgot it.
            return 404, error_body(RESOURCE_NOT_FOUND, EVICTED_DETAIL)
        case ChatNotFound() | WorkspaceNotFound():
            return 404, error_body(RESOURCE_NOT_FOUND)
        case WorkspaceForbidden():
            return 403, error_body("Forbidden.", FORBIDDEN_DETAIL)
        # serve's limits (README, Reliability): Coder has none of these, so the wording is the
        # mock's own, in the shape of Coder's messages; `detail` names the limit and its option.
        case ContentTooLong():
            return 400, error_body("content is too long", error.detail)
        case BodyTooLarge():
            return 413, error_body("Request body too large.", error.detail)
        case HeadersTooLarge():
            return 431, error_body("Request header fields too large.", error.detail)
        case RequestTimeout():
            return 408, error_body(f"Request {error.part} not received in time.", error.detail)
        case ServerBusy():
            return 503, error_body("Too many concurrent connections.", error.detail)
        case ShuttingDown():
            return 503, error_body("The server is shutting down.", error.detail)
        case HTTPException(status_code=404) | ProblemException(status=404):
            return 404, error_body("Route not found.")
        case HTTPException(status_code=405) | ProblemException(status=405):
            return 405, error_body("Method not allowed.")
        case ProblemException():
            return error.status, error_body(str(error.title or "Bad request."), str(error.detail or ""))
        case HTTPException():
            return error.status_code, error_body(str(error.detail))
    _log.error("unexpected error", exc_info=error)
    return 500, error_body(INTERNAL_ERROR, str(error))


def install_error_handlers(app: Any, methods: MethodIndex) -> None:
    """Answer every exception with Coder's body (domain, request, Connexion's and the unexpected).

    A 405 lists in `Allow` every method the document declares for the path. The handler is a
    coroutine: Connexion runs a plain function in a worker thread, a thread hop for every
    refusal (and, at the first, anyio's thread machinery imported: part of start-up, whose
    first answer is often a 401 or 404).
    """

    async def handle(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
        status, body = coder_error(error)
        headers = {}
        if status == 405:
            headers["Allow"] = ", ".join(methods.allowed(request.url.path))
        return ConnexionResponse(
            status_code=status, content_type=CONTENT_TYPE, body=encode_json(body), headers=headers
        )

    for kind in (MockError, ProblemException, HTTPException, Exception):
        app.add_error_handler(kind, handle)


async def send_error(send: Send, status: int, body: dict[str, str], *, close: bool = False) -> None:
    """Answer with Coder's error body straight over ASGI, for layers outside Connexion's.

    `close` asks the server to close the connection after it (a body left unread).
    """
    content = encode_json(body)
    headers = [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", str(len(content)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


class CoderErrorMiddleware(ExceptionMiddleware):  # type: ignore[misc]  # connexion is untyped
    """The one layer that turns an exception into an answer: Connexion's ExceptionMiddleware
    (the error handlers `install_error_handlers` gives the app land here) and the last resort
    its ServerErrorMiddleware was, in one.

    For an HTTP request, one `try` around the rest of the app and one send that notes when the
    answer began; the Starlette `Request` an error handler reads is built only for an error
    (Starlette's layers build it, and their own wrappers, for every request). An exception is
    answered by the most specific handler of its class (a status handler first, for an
    HTTPException), once: after the answer has begun, or if no handler takes it, it goes on up
    to the server. A handler that fails itself leaves a 500 in Coder's body, then the failure
    goes on up. A WebSocket goes Starlette's way.
    """

    def __init__(self, next_app: ASGIApp) -> None:
        super().__init__(next_app)
        self._handlers = (self._exception_handlers, self._status_handlers)
        self._next = direct_call(next_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = self._handlers  # what Starlette routes inside read
        started = False

        # A plain function that hands back the server's awaitable: no coroutine of its own for
        # each message of every answer.
        def noting_start(message: Message) -> Awaitable[None]:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            return send(message)

        try:
            await self._next(scope, receive, noting_start)
        except Exception as error:
            handler = self._handler_of(error)
            if handler is None or started:
                raise
            try:
                response = await handler(Request(scope, receive, send), error)
            except Exception as failure:
                if not started:
                    await send_error(send, *coder_error(failure))
                raise
            if response is not None:
                await response(scope, receive, noting_start)
            error.__traceback__ = None  # a reused exception would pile up tracebacks

    def _handler_of(self, error: Exception) -> Any:
        if isinstance(error, HTTPException):
            handler = self._status_handlers.get(error.status_code)
            if handler is not None:
                return handler
        for kind in type(error).__mro__:
            handler = self._exception_handlers.get(kind)
            if handler is not None:
                return handler
        return None
