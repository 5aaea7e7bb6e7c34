"""`/chats/{chat}/stream/git` and `/stream/desktop`: WebSockets into the chat's workspace agent.

coderd proxies these to the workspace agent (handlers `watchChatGit`, `watchChatDesktop`,
`authorizeChatWorkspaceExec`): a chat with no workspace is refused with 400 before the upgrade,
and a workspace needs a connected agent. The mock's workspaces run no agent, so both sockets are
always refused before the upgrade with the answer coderd gives for that chat (openapi/current/
WIRE.md section 7.4); a scenario cannot open them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from mockserver.core.directory import Directory
from mockserver.core.errors import MockError, WorkspaceForbidden, WorkspaceNotFound
from mockserver.core.models import Chat, User
from mockserver.edge.auth import session_token
from mockserver.edge.coder_errors import CoderRefusal
from mockserver.edge.push_socket import refuse, refuse_plain_http

__all__ = ["WORKSPACE_SOCKET_PATH", "workspace_sockets_middleware"]

WORKSPACE_SOCKET_PATH = re.compile(r"/api/v2/chats/(?P<chat>[^/]+)/stream/(?P<kind>git|desktop)")

# sdk `ChatGitWatchNoWorkspaceMessage`, `ChatGitWatchWorkspaceNotFoundMessage`,
# `ChatGitWatchNoEligibleAgentMessage`; the desktop's own no-workspace sentence (handlers).
_NO_WORKSPACE = {"git": "Chat has no workspace to watch.", "desktop": "Chat has no workspace."}
_WORKSPACE_NOT_FOUND = "Chat workspace not found."
_NO_AGENT = "No eligible agent found for chat workspace."
_NO_AGENT_DETAIL = "The mock's workspaces run no agent."  # agentselect's error was not read


class WorkspaceSocketsMiddleware:
    """Refuses the git and desktop sockets with coderd's checks, in coderd's order."""

    def __init__(self, *, directory: Directory, resolve_chat: Callable[[User, str], Chat]) -> None:
        self._directory = directory
        self._resolve_chat = resolve_chat

    async def answer(self, scope: Scope, receive: Receive, send: Send, raw_chat: str, kind: str) -> None:
        """Refuse a request for a git or desktop socket path (`WORKSPACE_SOCKET_PATH`)."""
        checks = partial(self._checks, scope, raw_chat, kind)
        if scope["type"] == "http":
            await refuse_plain_http(scope, receive, send, checks, "Failed to open chat stream.")
            return
        websocket = WebSocket(scope, receive, send)
        try:
            checks()
        except MockError as error:
            await refuse(websocket, error)

    def _checks(self, scope: Scope, raw_chat: str, kind: str) -> None:
        user = self._directory.authenticate(session_token(scope))
        chat = self._resolve_chat(user, raw_chat)
        if chat.workspace_id is None:
            raise CoderRefusal(400, _NO_WORKSPACE[kind])
        try:
            self._directory.check_workspace(user, chat.workspace_id)
        except WorkspaceNotFound:
            raise CoderRefusal(400, _WORKSPACE_NOT_FOUND) from None
        except WorkspaceForbidden:
            raise CoderRefusal(403, "Forbidden.") from None
        raise CoderRefusal(400, _NO_AGENT, _NO_AGENT_DETAIL)


def workspace_sockets_middleware(directory: Directory, *, resolve_chat: Callable[[User, str], Chat]) -> Any:
    """The part, bound to its parts, for the front layer (front.py) to build."""
    return partial(WorkspaceSocketsMiddleware, directory=directory, resolve_chat=resolve_chat)
