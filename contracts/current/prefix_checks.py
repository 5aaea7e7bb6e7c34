"""Both mounts of the chat routes (WIRE.md §1): `/api/v2` and `/api/experimental` serve one set of
chats, the WebSockets open under both, and each mount's reserved names are 404 `Route not found.`

Every other check speaks to `/api/v2` (the document's server); these send the same requests to
`/api/experimental`, beside it at the deployment's root.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from typing import Any

from contracts.checking import ScenarioContext, expect_status, json_list, json_object
from contracts.current.chat_checks import stable_view
from contracts.current.facts import EXPERIMENTAL_PREFIX
from contracts.current.session import (
    create_chat,
    fits,
    label_of,
    organization,
    page,
    read_chat,
    settle,
    text,
    unique_value,
)
from contracts.current.stream_log import has_status, read_until
from contracts.current.stream_socket import StreamRefused, open_stream
from contracts.current.watch_checks import read_until_kind
from contracts.refusals import expect_error
from contracts.target import API_PREFIX, Target
from contracts.violations import ContractBroken

__all__ = [
    "both_prefixes_open_the_websockets",
    "both_prefixes_read_one_chat",
    "reserved_names_are_route_not_found",
]

# WIRE.md §1 (routes @2,900-3,700): what a reserved name, or a path no route of a mount matches, answers.
ROUTE_NOT_FOUND = "Route not found."
# WIRE.md §1: names each mount reserves so that they never reach `{chat}` (a 400 `Invalid UUID`).
# `/api/v2` also reserves `providers` and `user-provider-configs`, which the document marks as
# served by the experimental mount alone (read from it, below).
RESERVED_NAMES = {
    API_PREFIX: ("/chats/model-configs",),
    EXPERIMENTAL_PREFIX: ("/chats/models", "/chats/model-configs"),
}


def _experimental(ctx: ScenarioContext) -> Target:
    """The target with the experimental mount as its API prefix."""
    root = ctx.target.api_url.removesuffix(API_PREFIX)
    return dataclasses.replace(ctx.target, api_url=root + EXPERIMENTAL_PREFIX)


def _under(ctx: ScenarioContext, prefix: str, path: str) -> str:
    """An absolute URL of `path` under `prefix` (the probe sends it as is)."""
    return ctx.target.api_url.removesuffix(API_PREFIX) + prefix + path


def _ids(rows: Any) -> list[Any]:
    return [row.get("id") if isinstance(row, dict) else row for row in rows]


def both_prefixes_read_one_chat(ctx: ScenarioContext) -> str | None:
    """A chat created under one prefix reads the same under the other: GET, the list, the transcript."""
    mine = {"mount": unique_value()}
    made_in_v2 = create_chat(ctx, "created under /api/v2", scenario="echo", labels=mine)
    settle(ctx, made_in_v2["id"])
    response = ctx.send(
        "POST",
        _under(ctx, EXPERIMENTAL_PREFIX, "/chats"),
        json_body={
            "organization_id": organization(ctx),
            "content": text("created under /api/experimental"),
            "labels": {**label_of(ctx), "scenario": "echo", **mine},
        },
    )
    expect_status(response, 201, "ExperimentalCreateRefused")
    made_in_experimental = fits(
        ctx, "codersdk.Chat", json_object(response, "ChatNotAnObject"), "POST /api/experimental/chats"
    )
    settle(ctx, made_in_experimental["id"])
    for chat in (made_in_v2, made_in_experimental):
        in_v2 = read_chat(ctx, chat["id"])
        response = ctx.send("GET", _under(ctx, EXPERIMENTAL_PREFIX, f"/chats/{chat['id']}"))
        expect_status(response, 200, "ExperimentalChatUnreadable")
        in_experimental = json_object(response, "ChatNotAnObject")
        if stable_view(in_experimental) != stable_view(in_v2):
            raise ContractBroken(
                "MountsReadDifferentChats",
                f"chat {chat['id']}: /api/v2 reads {stable_view(in_v2)!r}, "
                f"/api/experimental {stable_view(in_experimental)!r}",
            )
        v2_page = page(ctx, chat["id"], "?limit=200")
        response = ctx.send(
            "GET", _under(ctx, EXPERIMENTAL_PREFIX, f"/chats/{chat['id']}/messages?limit=200")
        )
        expect_status(response, 200, "ExperimentalTranscriptUnreadable")
        experimental_rows = json_object(response, "PageNotAnObject").get("messages")
        if not isinstance(experimental_rows, list) or _ids(experimental_rows) != _ids(v2_page["messages"]):
            raise ContractBroken(
                "MountsListDifferentMessages",
                f"chat {chat['id']}: /api/v2 lists messages {_ids(v2_page['messages'])!r}, "
                f"/api/experimental {experimental_rows!r}"[:600],
            )
    query = f"/chats?label=mount:{mine['mount']}"
    listed = {}
    for prefix in (API_PREFIX, EXPERIMENTAL_PREFIX):
        response = ctx.send("GET", _under(ctx, prefix, query))
        expect_status(response, 200, "ChatListUnreadable")
        listed[prefix] = sorted(str(i) for i in _ids(json_list(response, "ChatListNotAList")))
    expected = sorted([made_in_v2["id"], made_in_experimental["id"]])
    if listed[API_PREFIX] != expected or listed[EXPERIMENTAL_PREFIX] != expected:
        raise ContractBroken(
            "MountsListDifferentChats",
            f"label mount:{mine['mount']} should list {expected!r} under both prefixes; got {listed!r}",
        )
    return None


def both_prefixes_open_the_websockets(ctx: ScenarioContext) -> str | None:
    """The stream and the watcher open under /api/experimental: the stream's snapshot holds the chat's
    messages, the watcher tells a chat created under /api/v2."""
    target = _experimental(ctx)
    headers = {"Coder-Session-Token": ctx.token}
    chat = create_chat(ctx, "streamed from the other mount", scenario="echo")["id"]
    settle(ctx, chat)
    stored = _ids(page(ctx, chat, "?limit=200")["messages"])
    with ExitStack() as stack:
        try:
            socket = stack.enter_context(
                open_stream(target, ctx.probe.client, chat, headers, ctx.probe.tokens)
            )
        except StreamRefused as refused:
            raise ContractBroken(
                "ExperimentalStreamRefused", f"the stream under {EXPERIMENTAL_PREFIX} was refused: {refused}"
            ) from None
        log = read_until(
            ctx,
            socket,
            chat,
            has_status,
            what="the snapshot's status",
            rule="both_prefixes_open_the_websockets",
        )
    if sorted(str(i) for i in log.message_ids()) != sorted(str(i) for i in stored):
        raise ContractBroken(
            "ExperimentalSnapshotDiffers",
            f"the snapshot under {EXPERIMENTAL_PREFIX} holds messages {log.message_ids()!r}, "
            f"GET /api/v2/chats/{{chat}}/messages lists {stored!r}",
            evidence=log.rows(),
        )
    events: list[dict[str, Any]] = []
    with ExitStack() as stack:
        try:
            watcher = stack.enter_context(
                open_stream(target, ctx.probe.client, "", headers, ctx.probe.tokens, path="/chats/watch")
            )
        except StreamRefused as refused:
            raise ContractBroken(
                "ExperimentalWatchRefused", f"the watcher under {EXPERIMENTAL_PREFIX} was refused: {refused}"
            ) from None
        watched = create_chat(ctx, "watched from the other mount", scenario="echo")["id"]
        read_until_kind(ctx, watcher, watched, "created", events)
    settle(ctx, watched)
    return None


def reserved_names_are_route_not_found(ctx: ScenarioContext) -> str | None:
    """Under /api/v2, the experimental-only paths and the reserved names are 404 `Route not found.`;
    under /api/experimental its reserved names are; neither is read as a `{chat}` (400 `Invalid UUID`)."""
    chat = create_chat(ctx, "a chat whose experimental-only routes /api/v2 lacks", scenario="echo")["id"]
    settle(ctx, chat)
    cases = [(API_PREFIX, path.replace("{chat}", chat)) for path in ctx.facts.experimental_only_paths] + [
        (prefix, path) for prefix, paths in RESERVED_NAMES.items() for path in paths
    ]
    for prefix, path in cases:
        response = ctx.send("GET", _under(ctx, prefix, path))
        expect_error(response, 404, ROUTE_NOT_FOUND, kind="ReservedNameRouted")
    return None
