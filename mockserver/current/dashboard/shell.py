"""The dashboard shell's routes, in front of the Chats API as plain ASGI middleware.

A request whose method and path are one of the routes below is answered here, authenticated
as the Chats API is (edge/auth.py) and refused in Coder's error body; every other request goes
on untouched, so an unknown path under `/api/` stays the Chats API's 404 `Route not found.`
The paths sit under the prefix coderd mounts them on (`/api/v2` or `/api/experimental`);
openapi/current/dashboard.yaml documents each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.directory import Directory
from mockserver.core.errors import MockError
from mockserver.core.golang import GoJSONError, decode_json, encode_json
from mockserver.core.models import User
from mockserver.current.catalog import ModelCatalog
from mockserver.current.dashboard.accounts import (
    ai_provider_keys,
    ai_providers,
    appearance_settings,
    preferences,
    user_json,
)
from mockserver.current.dashboard.authcheck import authorize
from mockserver.current.dashboard.deployment import Deployment
from mockserver.current.dashboard.model_picker import (
    MODEL_CONFIGS_PATH,
    MODELS_PATH,
    PERSONAL_OVERRIDES_PATH,
    model_configs,
    models,
    personal_overrides,
)
from mockserver.current.dashboard.workspaces import WorkspaceQuery, workspaces_json
from mockserver.current.inputs import QueryParams
from mockserver.edge.auth import session_token
from mockserver.edge.coder_errors import (
    CONTENT_TYPE,
    RESOURCE_NOT_FOUND,
    CoderRefusal,
    coder_error,
    send_error,
)

__all__ = ["DashboardMiddleware", "dashboard_middleware", "model_picker_middleware"]

_V2 = "/api/v2"
_EXP = "/api/experimental"


@dataclass(frozen=True, slots=True)
class _Request:
    """What a route's handler reads: the caller (None on a public route), path values, query, body."""

    user: User | None
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    access_url: str


_Handler = Callable[[_Request], Any]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: _Handler
    authenticated: bool = True
    reads_body: bool = False


def _path(template: str) -> re.Pattern[str]:
    # chi's `{name}` matches one path segment.
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")


def _any_of(routes: tuple[_Route, ...]) -> re.Pattern[str]:
    """One pattern a path matches when any route's does (no route: never)."""
    unnamed = (re.sub(r"\(\?P<\w+>", "(?:", route.pattern.pattern) for route in routes)
    return re.compile("|".join(f"(?:{p})" for p in unnamed) or "(?!)")


class DashboardMiddleware:
    """Answers the dashboard shell's routes; everything else goes on to the next app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        directory: Directory,
        catalog: ModelCatalog,
        deployment: Deployment,
        shell: bool = True,
        model_routes: bool = False,
    ) -> None:
        self._app = app
        self._directory = directory
        self._catalog = catalog
        self._deployment = deployment
        self._shell = shell
        self._routes = (self._table() if shell else ()) + (self._model_picker() if model_routes else ())
        self._any_route = _any_of(self._routes)  # most paths (the chats API's) match none: one test

    def _model_picker(self) -> tuple[_Route, ...]:
        # The two routes a UI older than the pinned server reads (model_picker.py).
        return (
            _Route("GET", _path(MODELS_PATH), lambda _r: models(self._catalog)),
            _Route("GET", _path(MODEL_CONFIGS_PATH), lambda _r: model_configs(self._catalog)),
            _Route("GET", _path(PERSONAL_OVERRIDES_PATH), lambda _r: personal_overrides(self._catalog)),
        )

    def _table(self) -> tuple[_Route, ...]:
        d = self._deployment
        return (
            _Route(
                "GET", _path(f"{_V2}/buildinfo"), lambda r: d.build_info(r.access_url), authenticated=False
            ),
            _Route("GET", _path(f"{_V2}/entitlements"), lambda _r: d.entitlements(), authenticated=False),
            _Route("GET", _path(f"{_V2}/users/first"), self._first_user, authenticated=False),
            _Route("GET", _path(f"{_V2}/experiments"), lambda _r: []),
            _Route("GET", _path(f"{_V2}/appearance"), lambda _r: d.appearance()),
            _Route("GET", _path(f"{_V2}/regions"), lambda r: d.regions(r.access_url)),
            _Route("GET", _path(f"{_V2}/deployment/ssh"), lambda _r: d.ssh_config()),
            _Route("GET", _path(f"{_V2}/organizations"), lambda _r: [d.organization()]),
            _Route(
                "POST", _path(f"{_V2}/authcheck"), lambda r: authorize(_caller(r), r.body), reads_body=True
            ),
            _Route("GET", _path(f"{_V2}/users/{{user}}"), lambda r: user_json(self._self(r), d)),
            _Route("GET", _path(f"{_V2}/users/{{user}}/appearance"), self._appearance),
            _Route("GET", _path(f"{_V2}/users/{{user}}/preferences"), self._preferences),
            _Route("GET", _path(f"{_V2}/workspaces"), self._workspaces),
            _Route(
                "GET",
                _path(f"{_V2}/organizations/{{organization}}/members/{{user}}/workspace-quota"),
                self._quota,
            ),
            _Route("GET", _path(f"{_V2}/ai/providers"), lambda _r: ai_providers(self._catalog.providers, d)),
            # Both prefixes mount these (chat_routes.go: registerOrganizationChatRoutes and
            # registerUserAIProviderKeyRoutes are shared by the two chat mounts).
            *(
                _Route(
                    "GET", _path(f"{prefix}/organizations/{{organization}}/mcp-servers"), self._mcp_servers
                )
                for prefix in (_V2, _EXP)
            ),
            *(
                _Route("GET", _path(f"{prefix}/users/{{user}}/ai-provider-keys"), self._provider_keys)
                for prefix in (_V2, _EXP)
            ),
            _Route("GET", _path(f"{_EXP}/users/{{user}}/skills"), self._skills),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and await self.answer(scope, receive, send)):
            await self._app(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a plain request if one of the shell's paths; False (nothing sent) if not."""
        if self._shell and scope["method"] == "GET" and scope["path"] in _ROOT_FILES:
            await _send_file(send, *_ROOT_FILES[scope["path"]])
            return True
        found = self._match(scope)
        if found is None:
            return False
        if isinstance(found, list):
            # A method the mock does not serve on a shell path (coderd serves some, e.g. the PUTs
            # that save settings; the mock's settings are fixed): 405, as chi answers a path it
            # has no such method for.
            allow = (b"allow", ", ".join(found).encode())
            await _send_json(
                send, 405, {"message": "Method not allowed."}, (allow, (b"connection", b"close"))
            )
            return True
        route, params = found
        try:
            user = self._directory.authenticate(session_token(scope)) if route.authenticated else None
            body = await _json_body(receive) if route.reads_body else None
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            content = route.handler(_Request(user, params, query, body, _access_url(scope)))
        except MockError as error:
            status, refusal = coder_error(error)
            await send_error(send, status, refusal)
            return True
        await _send_json(send, 200, content)
        return True

    def _match(self, scope: Scope) -> tuple[_Route, dict[str, str]] | list[str] | None:
        """The route and its path values; else the methods the path is served with (chi's 405)."""
        path: str = scope.get("path", "")
        if not path.startswith(("/api/v2/", "/api/experimental/")) or self._any_route.match(path) is None:
            return None
        allowed: list[str] = []
        for route in self._routes:
            matched = route.pattern.match(path)
            if matched is None:
                continue
            if route.method == scope["method"]:
                return route, matched.groupdict()
            allowed.append(route.method)
        return allowed or None

    # --- handlers ------------------------------------------------------------------------------

    @staticmethod
    def _first_user(_request: _Request) -> dict[str, str]:
        return {"message": "The initial user has already been created!"}

    def _self(self, request: _Request) -> User:
        """`{user}` as httpmw.ExtractUserParam reads it; the mock's users see only themselves."""
        user = _caller(request)
        if request.params["user"] in ("me", user.username, str(user.id)):
            return user
        raise CoderRefusal(404, RESOURCE_NOT_FOUND)

    def _appearance(self, request: _Request) -> dict[str, Any]:
        self._self(request)
        return appearance_settings()

    def _preferences(self, request: _Request) -> dict[str, Any]:
        self._self(request)
        return preferences()

    def _organization(self, request: _Request) -> None:
        if not self._deployment.owns(request.params["organization"]):
            raise CoderRefusal(404, RESOURCE_NOT_FOUND)

    def _workspaces(self, request: _Request) -> dict[str, Any]:
        user = _caller(request)
        params = QueryParams(request.query)
        limit = params.integer("limit")
        offset = params.integer("offset")
        params.check()
        search = WorkspaceQuery(params.first("q"))
        mine = [w for w in self._directory.workspaces_of(user) if search.matches(user, w, self._deployment)]
        return workspaces_json(user, mine, self._deployment, offset=offset, limit=limit)

    def _quota(self, request: _Request) -> dict[str, int]:
        self._organization(request)
        self._self(request)
        return {"credits_consumed": 0, "budget": 0}

    def _mcp_servers(self, request: _Request) -> list[Any]:
        self._organization(request)
        return []

    def _provider_keys(self, request: _Request) -> list[dict[str, Any]]:
        self._self(request)
        return ai_provider_keys(self._catalog.providers)

    def _skills(self, request: _Request) -> list[Any]:
        self._self(request)
        return []


def _caller(request: _Request) -> User:
    assert request.user is not None, "an authenticated route"
    return request.user


_TRUSTED_PROXY = "127.0.0.1"  # uvicorn's forwarded_allow_ips default


def _access_url(scope: Scope) -> str:
    """The URL the client reached the mock by (coderd answers its configured access URL): the
    Host it sent, over https when it came by TLS. A proxy on this machine (127.0.0.1, whom
    uvicorn's proxy headers trust by default) says which in X-Forwarded-Proto; serve's server
    reads no forwarded header itself, so that no other request pays for it (serving.py)."""
    host = ""
    forwarded: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = host or value.decode("latin-1")
        elif name == b"x-forwarded-proto":
            forwarded = value  # the last one, as uvicorn reads it
    secure = scope.get("scheme") == "https"
    client = scope.get("client")
    if forwarded is not None and client is not None and client[0] == _TRUSTED_PROXY:
        proto = forwarded.decode("latin-1").strip()
        if proto in ("http", "https", "ws", "wss"):  # else ignored, as uvicorn ignores it
            secure = proto == "https"
    scheme = "https" if secure else "http"
    return f"{scheme}://{host}" if host else ""


async def _json_body(receive: Receive) -> Any:
    """The body as httpapi.Read decodes it (Go's json.Decoder): an empty one is `EOF`."""
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        return decode_json(b"".join(chunks))
    except GoJSONError as error:
        raise CoderRefusal(400, "Request body must be valid JSON.", str(error)) from None


async def _send_json(
    send: Send, status: int, value: Any, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    content = encode_json(value)
    headers = [
        (b"content-type", CONTENT_TYPE.encode()),
        (b"content-length", str(len(content)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


# Outside /api/: what coderd's root router serves that the UI fetches before its pages.
# `/latency-check` (latencycheck.go): the UI times the primary region with it; `/serviceWorker.js`
# (the site's push-notification worker): registered on every load. The mock's worker does nothing.
_ROOT_FILES = {
    "/latency-check": (b"text/plain; charset=utf-8", b"OK", ((b"timing-allow-origin", b"*"),)),
    "/serviceWorker.js": (
        b"application/javascript",
        b"// chats-mock: a service worker that handles nothing (the mock sends no push notifications).\n",
        (),
    ),
}


async def _send_file(
    send: Send, content_type: bytes, body: bytes, extra: tuple[tuple[bytes, bytes], ...]
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def dashboard_middleware(directory: Directory, catalog: ModelCatalog, deployment: Deployment) -> Any:
    """The shell's middleware, bound to its parts, in the form Connexion's list takes."""
    return partial(DashboardMiddleware, directory=directory, catalog=catalog, deployment=deployment)


def model_picker_middleware(directory: Directory, catalog: ModelCatalog, deployment: Deployment) -> Any:
    """The 2026-08 UI's model-picker routes (model_picker.py), to sit before the chat router."""
    return partial(
        DashboardMiddleware,
        directory=directory,
        catalog=catalog,
        deployment=deployment,
        shell=False,
        model_routes=True,
    )
