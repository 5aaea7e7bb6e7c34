"""Session tokens in every place coderd reads them (WIRE.md §2), on REST and on both WebSockets.

coderd's API-key middleware reads the cookie `coder_session_token`, then the query parameter of
that name, then the `Coder-Session-Token` header, then `Authorization: Bearer`; the first that
holds a token decides. A browser UI authenticates with the cookie, and its WebSockets (which
cannot carry headers) with the cookie or the query parameter: a server that reads only the header
serves `curl` and fails the UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

from contracts.checking import ScenarioContext, snippet
from contracts.current.refusal_checks import UNKNOWN_TOKEN
from contracts.current.session import create_chat, organization, settle
from contracts.current.stream_socket import StreamRefused, open_stream
from contracts.refusals import expect_error
from contracts.token_sources import CODER_ORDER, TokenSource, placed, token_cases
from contracts.violations import ContractBroken

__all__ = [
    "every_token_source_is_read",
    "token_sources_in_coder_order",
    "websockets_read_every_token_source",
]

Auth = Mapping[TokenSource, str]


def _reads(ctx: ScenarioContext, chat: str) -> tuple[tuple[str, str], ...]:
    """The reads a UI makes on load: the list, the models, a chat, its transcript."""
    return (
        ("GET", "/chats"),
        ("GET", f"/organizations/{organization(ctx)}/chats/models"),
        ("GET", f"/chats/{chat}"),
        ("GET", f"/chats/{chat}/messages"),
    )


def _idle_chat(ctx: ScenarioContext, title: str) -> str:
    chat = str(create_chat(ctx, title, scenario="echo")["id"])
    settle(ctx, chat)
    return chat


def every_token_source_is_read(ctx: ScenarioContext) -> str | None:
    """A valid token authenticates from the cookie, the query, the header and bearer; an unknown one is the 401."""
    chat = _idle_chat(ctx, "tokens from every source")
    for source in CODER_ORDER:
        for method, path in _reads(ctx, chat):
            response = ctx.probe.send(method, path, auth={source: ctx.token})
            if response.status_code != 200:
                raise ContractBroken(
                    "TokenSourceIgnored",
                    f"{method} {path} with the token in the {source.value} answered "
                    f"{response.status_code}, expected 200: {snippet(response)}",
                )
        response = ctx.probe.send("GET", f"/chats/{chat}", auth={source: UNKNOWN_TOKEN})
        expect_error(
            response, 401, ctx.facts.signed_out, kind=f"WrongTokenIn{source.name.title()}", detail=True
        )
    return None


def token_sources_in_coder_order(ctx: ScenarioContext) -> str | None:
    """Two sources that disagree: the one coderd reads first decides (cookie, query, header, bearer)."""
    chat = _idle_chat(ctx, "tokens that disagree")
    for first, later in combinations(CODER_ORDER, 2):
        response = ctx.probe.send("GET", f"/chats/{chat}", auth={first: ctx.token, later: UNKNOWN_TOKEN})
        if response.status_code != 200:
            raise ContractBroken(
                "LaterSourceWon",
                f"a valid token in the {first.value} and an unknown one in the {later.value} answered "
                f"{response.status_code}: the {later.value} was read before the {first.value}",
            )
        response = ctx.probe.send("GET", f"/chats/{chat}", auth={first: UNKNOWN_TOKEN, later: ctx.token})
        expect_error(response, 401, ctx.facts.signed_out, kind="EarlierSourceSkipped", detail=True)
    return None


def _handshake(ctx: ScenarioContext, path: str, auth: Auth) -> int | None:
    """The status that refused the handshake, or None when the WebSocket opened."""
    headers, params = placed(auth)
    try:
        with open_stream(
            ctx.target, ctx.probe.client, "", headers, ctx.probe.tokens, path=path, params=params
        ):
            return None
    except StreamRefused as refused:
        return refused.status or 0


def websockets_read_every_token_source(ctx: ScenarioContext) -> str | None:
    """The stream and the watcher open with the token in any source, refuse an unknown one, in coderd's order."""
    chat = _idle_chat(ctx, "websockets and their tokens")
    cases = token_cases(ctx.token, UNKNOWN_TOKEN)
    for path in (f"/chats/{chat}/stream", "/chats/watch"):
        for auth, opens, what in cases:
            refused = _handshake(ctx, path, auth)
            if opens and refused is not None:
                raise ContractBroken(
                    "WebSocketTokenSourceIgnored",
                    f"GET {path}: {what}: the handshake was refused ({refused})",
                    subject=f"chat {chat}",
                )
            if not opens and refused != 401:
                raise ContractBroken(
                    "WebSocketWrongTokenNotRefused",
                    f"GET {path}: {what}: expected the 401 before the upgrade, got "
                    f"{'the upgrade' if refused is None else refused}",
                    subject=f"chat {chat}",
                )
    return None
