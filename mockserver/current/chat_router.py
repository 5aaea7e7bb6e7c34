"""coderd's chat mount as its chi router sees it: two prefixes, their reservations, and chi's not-found.

coderd mounts the chat routes twice (routes `registerChatAPIRoutes`, openapi/current/WIRE.md
section 1): `/api/v2` and `/api/experimental` serve the same promoted routes; the experimental
mount also serves the routes that were not promoted, and each mount reserves a few collection
names so that they answer 404 `Route not found.` instead of falling into `{chat}` (400 `Invalid
UUID`).

The app serves each documented operation once, under `/api/v2` (the document's server). This
layer sits in front of it, inside the control plane, so the journal and the fault rules see the
path the client sent: a chat path under `/api/experimental` is served by the same operation, its
path rewritten to `/api/v2`; a documented path that only the experimental mount serves (its path
item names `/api/experimental` as its only server) is unknown under `/api/v2`.

Unknown paths answer as chi does: the `/chats` router authenticates first (401), a path under
`/chats/{chat}/` then resolves the chat (400 `Invalid UUID`, 404), and only then is the route
missing (404 `Route not found.`), for plain requests and WebSocket handshakes alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from mockserver.core.directory import Directory
from mockserver.core.errors import MockError, RouteNotFound
from mockserver.core.golang import encode_json
from mockserver.core.models import Chat, User
from mockserver.current.legacy_providers import GONE, GONE_DETAIL
from mockserver.edge.auth import session_token
from mockserver.edge.coder_errors import (
    CONTENT_TYPE,
    RESOURCE_NOT_FOUND,
    CoderRefusal,
    coder_error,
    send_error,
)
from mockserver.edge.push_socket import refuse

__all__ = [
    "EXPERIMENTAL",
    "V2",
    "ChatMount",
    "ChatRouterMiddleware",
    "answer_refusal",
    "chat_router_middleware",
    "experimental_only_paths",
]

V2 = "/api/v2"
EXPERIMENTAL = "/api/experimental"
_V2_SLASH = V2 + "/"
_EXPERIMENTAL_SLASH = EXPERIMENTAL + "/"

# The chat paths of a prefix: `/chats...`, and the organization-scoped chat routes
# (`registerOrganizationChatRoutes`, `registerOrganizationMemberChatRoutes`), which both
# prefixes mount too (they take the prefix as an argument).
_CHAT_PATH = re.compile(r"/chats(?:/.*)?|/organizations/[^/]+(?:/members/[^/]+)?/chats(?:/.*)?")
_PARAM = re.compile(r"\\\{[^/]+?\\\}")
_LEGACY_CONFIG = re.compile(r"/chats/(?P<name>providers|user-provider-configs)/[^/]+/?")
_LEGACY_METHODS = {"providers": ("PATCH", "DELETE"), "user-provider-configs": ("PUT", "DELETE")}

# Resolves a raw `{chat}` for the caller as ExtractChatParam does (with the `orchestrator` alias).
ResolveChat = Callable[[User, str], Chat]


@dataclass(frozen=True, slots=True)
class ChatMount:
    """What one prefix mounts under `/chats` beyond the routes both share."""

    # Collection names that answer 404 `Route not found.` (after authentication), for
    # themselves and every path below them.
    reserved: frozenset[str]
    # Names of sub-routers under `/chats` (not `{chat}`): a path below one that no route
    # matches is a plain 404, with no chat to resolve.
    routers: frozenset[str]


# routes `registerChatAPIRoutes` (WIRE.md section 1).
MOUNTS = {
    V2: ChatMount(
        reserved=frozenset({"model-configs", "providers", "user-provider-configs"}),
        routers=frozenset({"files", "config"}),
    ),
    EXPERIMENTAL: ChatMount(
        reserved=frozenset({"models", "model-configs"}),
        routers=frozenset({"files", "config", "providers", "user-provider-configs"}),
    ),
}


def experimental_only_paths(paths: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """The document's path templates whose only server is `/api/experimental`."""
    return tuple(
        template
        for template, item in paths.items()
        if item.get("servers") and all(s.get("url") == EXPERIMENTAL for s in item["servers"])
    )


class _Templates:
    """Path templates (under `/api/v2`), matched as chi matches a segment: any characters but `/`.

    A template matches paths of its own number of segments (a trailing slash aside), so they are
    kept by that number: one alternation of those, matched in C, instead of one of them all that
    a path of the send route walks ~40 templates of.
    """

    def __init__(self, templates: Iterable[str]) -> None:
        by_depth: dict[int, list[str]] = {}
        for template in templates:
            full = V2 + template
            by_depth.setdefault(full.count("/"), []).append(_PARAM.sub("[^/]+", re.escape(full)))
        self._by_depth = {
            depth: re.compile("|".join(f"(?:{p})" for p in patterns)) for depth, patterns in by_depth.items()
        }

    def match(self, path: str) -> bool:
        if path.endswith("/"):
            path = path[:-1]  # a template matches with one trailing slash too
        pattern = self._by_depth.get(path.count("/"))
        return pattern is not None and pattern.fullmatch(path) is not None


class ChatRouterMiddleware:
    """Both prefixes of the chat mount, and chi's answer where no route matches: the front layer's
    first step (front.py), which sends a refusal with `answer_refusal`."""

    def __init__(
        self,
        *,
        directory: Directory,
        resolve_chat: ResolveChat,
        owns_organization: Callable[[str], bool],
        shared: Iterable[str],
        experimental_only: Iterable[str],
        methods: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        """`shared`: the templates both prefixes serve; `experimental_only`: those only it serves;
        `methods`: the methods each template's operations take (the document's)."""
        self._methods = dict(methods or {})
        self._owns_organization = owns_organization
        self._directory = directory
        self._resolve_chat = resolve_chat
        shared = tuple(shared)
        only = tuple(experimental_only)
        self._known = {V2: _Templates(shared), EXPERIMENTAL: _Templates(shared + only)}

    def route(self, scope: Scope) -> Scope | MockError:
        """The request as the app serves it (a chat path under `/api/experimental` rewritten to
        `/api/v2`; any other path as it came), or chi's refusal (`answer_refusal` sends it)."""
        path: str = scope["path"]
        prefix = (
            V2
            if path.startswith(_V2_SLASH)
            else EXPERIMENTAL
            if path.startswith(_EXPERIMENTAL_SLASH)
            else None
        )
        rest = path[len(prefix) :] if prefix else ""
        if prefix is None or not _CHAT_PATH.fullmatch(rest):
            return scope
        internal = V2 + rest
        try:
            self._check(prefix, rest, internal, scope)
        except MockError as error:
            return error
        if prefix == EXPERIMENTAL:
            return dict(scope, path=internal, raw_path=_raw_path(scope, prefix))
        return scope

    def _check(self, prefix: str, rest: str, internal: str, scope: Scope) -> None:
        """Raise chi's refusal for a path no route of this prefix matches; return if one does."""
        segments = rest.split("/")  # ["", "chats", name, ...] for a /chats path
        if segments[1] == "organizations":
            # ExtractOrganizationParam, before any handler reads a body.
            self._directory.authenticate(session_token(scope))
            if not self._owns_organization(segments[2]):
                raise CoderRefusal(404, RESOURCE_NOT_FOUND)
            return
        mount = MOUNTS[prefix]
        name = segments[2] if len(segments) > 2 else ""
        if name in mount.reserved:
            self._directory.authenticate(session_token(scope))
            raise RouteNotFound()
        allowed = self._methods.get(f"/chats/{name}", ())
        if len(segments) == 3 and allowed and scope.get("method") not in allowed:
            # A static route's own path (`/chats/files`, `/chats/by-workspace`): a method it lacks
            # is 405, not the `{chat}` route's `Invalid UUID`. chi answers so for the `files`
            # sub-router; for `by-workspace` chi would hand the method to `{chat}` (400), and the
            # mock answers 405 as an OpenAPI client expects (WIRE.md section 1).
            self._directory.authenticate(session_token(scope))
            raise MethodNotAllowed(allowed)
        if self._known[prefix].match(internal):
            return
        legacy = _LEGACY_CONFIG.fullmatch(rest)
        if prefix == EXPERIMENTAL and legacy and scope.get("method") in _LEGACY_METHODS[legacy["name"]]:
            # The removed providers' per-config routes (not in the document, which they would
            # make ambiguous with `/chats/{chat}/...`): 410 Gone, as their collections answer.
            self._directory.authenticate(session_token(scope))
            raise CoderRefusal(410, GONE, GONE_DETAIL)
        user = self._directory.authenticate(session_token(scope))
        if len(segments) > 3 and name not in mount.routers:
            self._resolve_chat(user, name)  # `/chats/{chat}/...`: the chat first (400, 404)
        raise RouteNotFound()


def _raw_path(scope: Scope, prefix: str) -> bytes:
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    return V2.encode() + raw[len(prefix) :]


class MethodNotAllowed(MockError):
    """A method the route does not take (405, with the ones it does in `Allow`)."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__("Method not allowed.")
        self.allowed = allowed


async def answer_refusal(scope: Scope, receive: Receive, send: Send, error: MockError) -> None:
    """Send chi's refusal of a path (`ChatRouterMiddleware.route`), to a request or a handshake."""
    if scope["type"] == "websocket":
        await refuse(WebSocket(scope, receive, send), error)
        return
    if isinstance(error, MethodNotAllowed):
        content = encode_json({"message": "Method not allowed."})
        headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(content)).encode()),
            (b"allow", ", ".join(error.allowed).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 405, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        return
    status, body = coder_error(error)
    # A body left unread (a POST to no route) ends the connection after the answer.
    await send_error(send, status, body, close=scope["method"] not in ("GET", "HEAD"))


def chat_router_middleware(
    directory: Directory,
    *,
    resolve_chat: ResolveChat,
    owns_organization: Callable[[str], bool],
    shared: Iterable[str],
    experimental_only: Iterable[str],
    methods: Mapping[str, tuple[str, ...]] | None = None,
) -> Any:
    """The chat mount's step, bound to its parts, for the front layer to build."""
    return partial(
        ChatRouterMiddleware,
        directory=directory,
        resolve_chat=resolve_chat,
        owns_organization=owns_organization,
        shared=tuple(shared),
        experimental_only=tuple(experimental_only),
        methods=dict(methods or {}),
    )
