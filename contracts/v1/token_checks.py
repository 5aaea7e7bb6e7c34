"""Session tokens in each place coderd reads them (WIRE.md §2), on every route and on watch-ws (§5)."""

from __future__ import annotations

import json
from itertools import combinations

from contracts.checking import ScenarioContext, snippet
from contracts.refusals import expect_error
from contracts.token_sources import CODER_ORDER, TokenSource, token_cases
from contracts.v1.scenarios import OPERATIONS, UNKNOWN_TOKEN, body_for, path_of
from contracts.v1.watch_socket import WatchOutcome, open_watch
from contracts.violations import ContractBroken, Violation

__all__ = [
    "every_token_source_is_read",
    "token_sources_in_coder_order",
    "watch_reads_every_token_source",
    "wrong_token_is_refused_in_every_source",
]

WATCH = "GET /chats/{chat}/messages/watch-ws"


def _chat(ctx: ScenarioContext) -> str:
    return str(ctx.create_chat({"provider": "p", "model": "m", "title": "tokens"})["id"])


def every_token_source_is_read(ctx: ScenarioContext) -> str | None:
    """A valid token authenticates every operation from the cookie, the query, the header and bearer."""
    chat = _chat(ctx)
    for source in CODER_ORDER:
        for method, template in OPERATIONS:
            body = body_for(method, template)
            response = ctx.probe.send(
                method, path_of(template, chat), auth={source: ctx.token}, json_body=body
            )
            expected = 201 if method == "POST" else 200
            if response.status_code != expected:
                raise ContractBroken(
                    "TokenSourceIgnored",
                    f"{method} {template} with the token in the {source.value} answered "
                    f"{response.status_code}, expected {expected}: {snippet(response)}",
                )
            if template.endswith("/messages") and method == "POST":
                ctx.note_run(chat, response.json(), "hello")
    return None


def wrong_token_is_refused_in_every_source(ctx: ScenarioContext) -> str | None:
    """An unknown token in any one source is Coder's 401 (message and a detail) on every operation."""
    chat = _chat(ctx)
    for source in CODER_ORDER:
        for method, template in OPERATIONS:
            body = body_for(method, template)
            response = ctx.probe.send(
                method, path_of(template, chat), auth={source: UNKNOWN_TOKEN}, json_body=body
            )
            expect_error(
                response, 401, ctx.facts.signed_out, kind=f"WrongTokenIn{source.name.title()}", detail=True
            )
    return None


def token_sources_in_coder_order(ctx: ScenarioContext) -> str | None:
    """Two sources that disagree: the one coderd reads first decides (cookie, query, header, bearer)."""
    chat = _chat(ctx)
    for first, later in combinations(CODER_ORDER, 2):
        # When the source read first holds the valid token # Then the request is the user's
        response = ctx.probe.send("GET", f"/chats/{chat}", auth={first: ctx.token, later: UNKNOWN_TOKEN})
        if response.status_code != 200:
            raise ContractBroken(
                "LaterSourceWon",
                f"a valid token in the {first.value} and an unknown one in the {later.value} answered "
                f"{response.status_code}: the {later.value} was read before the {first.value}",
            )
        # When the source read first holds an unknown token # Then it is refused, whatever follows
        response = ctx.probe.send("GET", f"/chats/{chat}", auth={first: UNKNOWN_TOKEN, later: ctx.token})
        expect_error(response, 401, ctx.facts.signed_out, kind="EarlierSourceSkipped", detail=True)
    return None


def _refused_as_coder(outcome: WatchOutcome, message: str) -> bool:
    try:
        body = json.loads(outcome.body)
    except ValueError:
        return False
    return outcome.status == 401 and isinstance(body, dict) and body.get("message") == message


def watch_reads_every_token_source(ctx: ScenarioContext) -> str | None:
    """watch-ws, where served: each token source opens it, an unknown token is the 401, coderd's order holds."""
    chat = _chat(ctx)

    def handshake(auth: dict[TokenSource, str]) -> WatchOutcome:
        return open_watch(ctx.target, ctx.probe.client, chat, auth, ctx.probe.tokens)

    first = handshake({TokenSource.HEADER: ctx.token})
    if not first.accepted:
        return (
            f"watch-ws is not served here (the header token got {first.status or first.body}): not exercised"
        )
    ctx.exercise("watch_reads_every_token_source")

    def broken(kind: str, message: str, outcome: WatchOutcome) -> None:
        ctx.record(
            Violation(
                "watch_reads_every_token_source",
                kind,
                WATCH,
                message,
                outcome.command,
                subject=f"chat {chat}",
                evidence=(f"answer: {outcome.status or 'upgraded'} {outcome.body[:300]}",),
            )
        )

    cases = token_cases(ctx.token, UNKNOWN_TOKEN)
    for auth, accept, what in cases:
        outcome = handshake(auth)
        if accept and not outcome.accepted:
            broken("WatchRefusedValidToken", f"{what}: the handshake was refused", outcome)
            return None
        if not accept and not _refused_as_coder(outcome, ctx.facts.signed_out):
            broken("WatchWrongTokenNotRefused", f"{what}: expected Coder's 401 before the upgrade", outcome)
            return None
    return None
