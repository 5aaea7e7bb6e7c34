"""The mock's exceptions, raised where a rule is broken and answered in one place (`coder_errors`).

MockError
├── DomainError                 the store's and the directory's refusals (no HTTP in them)
│   ├── ChatNotFound            no such chat, or another user's
│   │   └── ChatEvicted         the owner's chat, evicted under the store's limits
│   ├── MessageNotFound         no such message in the chat
│   ├── QueuedMessageNotFound   no such queued message in the chat
│   ├── WorkspaceNotFound       no such workspace
│   └── WorkspaceForbidden      another user's workspace
└── RequestError                a request Coder refuses before any handler runs
    ├── Unauthenticated         no session token, or a bad one (`detail` says why)
    ├── InvalidUUIDParam        a path parameter that does not parse as a UUID
    ├── InvalidQueryParam       a query parameter the handler cannot read (`message` its own)
    ├── InvalidJSONBody         a body Go's decoder refuses
    ├── MissingFields           a required field missing or empty (`message` from the document)
    ├── CrossOriginHandshake    a browser's WebSocket handshake from an origin not allowed
    ├── RouteNotFound           no route under /api/v2
    ├── ContentTooLong          a message's content over the limit serve sets
    └── LimitExceeded           a request past one of serve's limits (`detail` names it)
        ├── HeadersTooLarge     too many header fields, or too many bytes of them
        ├── BodyTooLarge        a body over the limit, refused before the rest is read
        ├── RequestTimeout      headers or body not received in time
        ├── ServerBusy          too many connections or WebSockets at once
        └── ShuttingDown        the server is stopping (a request still waiting is let go)
"""

from __future__ import annotations

__all__ = [
    "BodyTooLarge",
    "ChatEvicted",
    "ChatNotFound",
    "ContentTooLong",
    "CrossOriginHandshake",
    "DomainError",
    "HeadersTooLarge",
    "InvalidJSONBody",
    "InvalidQueryParam",
    "InvalidUUIDParam",
    "LimitExceeded",
    "MessageNotFound",
    "MissingFields",
    "MockError",
    "QueuedMessageNotFound",
    "RequestError",
    "RequestTimeout",
    "RouteNotFound",
    "ServerBusy",
    "ShuttingDown",
    "Unauthenticated",
    "WorkspaceForbidden",
    "WorkspaceNotFound",
]


class MockError(Exception):
    """Base of every error the mock answers with a Coder error body."""


class DomainError(MockError):
    """A refusal of the store or the directory."""


class ChatNotFound(DomainError):
    """The chat does not exist or is not the caller's."""


class ChatEvicted(ChatNotFound):
    """The caller's chat existed but was evicted to keep the store within its limits."""


class MessageNotFound(DomainError):
    """No message of this id in the chat."""


class QueuedMessageNotFound(DomainError):
    """No queued message of this id in the chat."""


class WorkspaceNotFound(DomainError):
    """The workspace does not exist."""


class WorkspaceForbidden(DomainError):
    """The workspace belongs to another user."""


class RequestError(MockError):
    """A request refused at the edge, before any handler runs."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthenticated(RequestError):
    """No session token, or one that is malformed, unknown, wrong or expired."""


class InvalidUUIDParam(RequestError):
    """A path parameter that is not a UUID."""

    def __init__(self, raw: str, detail: str) -> None:
        super().__init__(detail)
        self.raw = raw


class InvalidQueryParam(RequestError):
    """A query parameter that does not parse, e.g. a non-integer `after_id`."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(detail)
        self.message = message


class InvalidJSONBody(RequestError):
    """A body that is not JSON, or a field of the wrong JSON type."""


class MissingFields(RequestError):
    """A required field missing or empty; `message` is the operation's own sentence."""

    def __init__(self, message: str) -> None:
        super().__init__("")
        self.message = message


class CrossOriginHandshake(RequestError):
    """A WebSocket handshake whose `Origin` is neither the request's host nor an allowed origin."""

    def __init__(self, origin: str, host: str) -> None:
        super().__init__("")
        self.origin = origin
        self.host = host


class RouteNotFound(RequestError):
    """No route under /api/v2 for this path."""


class ContentTooLong(RequestError):
    """A message whose content is longer than the mock takes (`detail` says the limit)."""


class LimitExceeded(RequestError):
    """A request past one of serve's limits; `detail` names the limit and its option."""


class HeadersTooLarge(LimitExceeded):
    """More header fields, or more bytes of them, than the mock reads."""


class BodyTooLarge(LimitExceeded):
    """A body larger than the mock reads; refused before the rest of it is read."""


class RequestTimeout(LimitExceeded):
    """The headers or the body did not arrive in time."""

    def __init__(self, part: str, detail: str) -> None:
        super().__init__(detail)
        self.part = part  # "headers" or "body"


class ServerBusy(LimitExceeded):
    """As many connections (or WebSockets) open as the mock serves at once."""


class ShuttingDown(LimitExceeded):
    """The server is stopping: a request still waiting (for its body, a fault's latency) is let go."""
