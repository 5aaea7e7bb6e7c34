"""Who may call the mock: users, their session tokens and their workspaces."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID, uuid5

from mockserver.core.errors import Unauthenticated, WorkspaceForbidden, WorkspaceNotFound
from mockserver.core.models import User, Workspace

__all__ = [
    "DEFAULT_ORGANIZATION_ID",
    "DEMO_TOKENS",
    "TOKEN_MASK",
    "Directory",
    "mask_token",
    "split_token",
    "user_for_token",
]

# Coder's default organization; every user of the mock belongs to it.
DEFAULT_ORGANIZATION_ID = UUID("7c60d51f-b44e-4682-87d6-449835ea4de6")
# Ids are derived from names under this namespace, so a restart gives the same ids.
_ID_NAMESPACE = UUID("6f0c3b2e-5d1a-4c7e-9b8f-2a4d6e8f0a1c")

# The demo users `chats-mock serve` starts with when no --token is given (documented in the README).
DEMO_TOKENS = {
    "alice": "alice00001-AliceDemoSessionSecret",
    "bob": "bob0000001-BobDemoSessionSecret00",
}

_TOKEN_PART = re.compile(r"[A-Za-z0-9]+")

# What stands for a secret wherever the mock shows one: journal entries, log lines, the banner.
TOKEN_MASK = "***"


def split_token(token: str) -> tuple[str, str]:
    """Split `<10-char id>-<22-char secret>` like coderd's SplitAPIToken; ValueError says why."""
    parts = token.split("-")
    if len(parts) != 2:
        raise ValueError(f"incorrect amount of API key parts, expected 2 got {len(parts)}")
    token_id, secret = parts
    if len(token_id) != 10:
        raise ValueError(f"invalid API key ID length, expected 10 got {len(token_id)}")
    if len(secret) != 22:
        raise ValueError(f"invalid API key secret length, expected 22 got {len(secret)}")
    return token_id, secret


def mask_token(token: str) -> str:
    """A session token as the mock shows it: its public id part only, `<id>-***`."""
    try:
        token_id, _ = split_token(token)
    except ValueError:
        return TOKEN_MASK  # a malformed token may still be someone's secret: show none of it
    return f"{token_id}-{TOKEN_MASK}"


def user_for_token(username: str, token: str) -> tuple[User, Workspace]:
    """A user with a well-formed Coder token, and the one workspace it owns."""
    token_id, secret = split_token(token)
    if not (_TOKEN_PART.fullmatch(token_id) and _TOKEN_PART.fullmatch(secret)):
        raise ValueError("a Coder session token is letters and digits: <10-char id>-<22-char secret>")
    user = User(
        id=uuid5(_ID_NAMESPACE, f"user:{token_id}"),
        username=username,
        organization_id=DEFAULT_ORGANIZATION_ID,
        token_id=token_id,
        token_secret=secret,
    )
    workspace = Workspace(
        id=uuid5(_ID_NAMESPACE, f"workspace:{token_id}"), owner_id=user.id, name=f"{username}-ws"
    )
    return user, workspace


@dataclass(frozen=True, slots=True)
class _Account:
    user: User
    workspaces: tuple[Workspace, ...]


class Directory:
    """Users by token id, and workspaces by id; read-only once built."""

    def __init__(self, accounts: Iterable[tuple[User, Workspace]]) -> None:
        self._users: dict[str, User] = {}
        self._workspaces: dict[UUID, Workspace] = {}
        for user, workspace in accounts:
            if user.token_id in self._users:
                raise ValueError(f"two users share the token id {user.token_id!r}")
            self._users[user.token_id] = user
            self._workspaces[workspace.id] = workspace

    @classmethod
    def from_tokens(cls, tokens: dict[str, str]) -> Directory:
        """A directory of one user (and one workspace) per `username: token`."""
        return cls(user_for_token(name, token) for name, token in tokens.items())

    @property
    def users(self) -> tuple[User, ...]:
        """Every user, in the order given."""
        return tuple(self._users.values())

    def workspaces_of(self, user: User) -> tuple[Workspace, ...]:
        """The workspaces a user owns."""
        return tuple(w for w in self._workspaces.values() if w.owner_id == user.id)

    def authenticate(self, token: str | None) -> User:
        """The user a session token belongs to, checked as coderd's ExtractAPIKey does."""
        if not token:
            raise Unauthenticated('Cookie "coder_session_token" or query parameter must be provided.')
        try:
            token_id, secret = split_token(token)
        except ValueError as error:
            raise Unauthenticated(f"Invalid API key format: {error}") from None
        user = self._users.get(token_id)
        if user is None:
            raise Unauthenticated("API key is invalid.")
        if not hmac.compare_digest(user.token_secret.encode(), secret.encode()):
            raise Unauthenticated("API key secret is invalid.")
        return user

    def check_workspace(self, user: User, workspace_id: UUID) -> Workspace:
        """The workspace if the user may tie a chat to it; 404 unknown, 403 another user's."""
        workspace = self._workspaces.get(workspace_id)
        if workspace is None:
            raise WorkspaceNotFound(str(workspace_id))
        if workspace.owner_id != user.id:
            raise WorkspaceForbidden(str(workspace_id))
        return workspace
