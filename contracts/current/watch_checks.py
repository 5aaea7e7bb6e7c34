"""The chat list watcher (WIRE.md §7.2): `GET /chats/watch` tells the caller about its own chats.

Each frame is one `ChatWatchEvent` object (`kind`, `chat`); a new chat is `created`, a rename a
`title_change`, an archive `deleted` and an unarchive `created` again; another user's chats are
never told. Status changes may come between them (`status_change`), and kinds the document does
not name are read past.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import httpx

from contracts.checking import ScenarioContext, expect_status, json_object
from contracts.current.session import create_chat, fits, label_of, organization, read_chat, settle
from contracts.current.stream_socket import StreamRefused, StreamSocket, open_stream
from contracts.refusals import expect_error
from contracts.violations import ContractBroken

__all__ = ["read_until_kind", "watch", "watch_reports_the_callers_chats"]

RULE = "watch_reports_the_callers_chats"


def _watch(ctx: ScenarioContext, token: str | None) -> Any:
    headers = {"Coder-Session-Token": token} if token is not None else {}
    return open_stream(ctx.target, ctx.probe.client, "", headers, ctx.probe.tokens, path="/chats/watch")


# The watcher as `token`, for the checks of other modules (a refusal raises StreamRefused).
watch = _watch


def _read_until_kind(
    ctx: ScenarioContext, socket: StreamSocket, chat: str, kind: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """Read events until one of `kind` for `chat`; each frame must be one event object."""
    deadline = ctx.clock() + ctx.agent_timeout
    while True:
        frame = socket.receive(ctx.read_slice)
        if frame is not None and frame.text is None:
            raise ContractBroken(
                "WatchClosed", f"the watcher closed ({frame.close_code}) before `{kind}` of {chat}"
            )
        if frame is not None:
            value = frame.value
            if (
                not isinstance(value, dict)
                or not isinstance(value.get("kind"), str)
                or not isinstance(value.get("chat"), dict)
            ):
                raise ContractBroken(
                    "WatchFrameNotAnEvent",
                    f"a watch frame is one {{kind, chat}} object, got {(frame.text or '')[:200]}",
                )
            ctx.tally.add("watch_events_read")
            events.append(fits(ctx, "codersdk.ChatWatchEvent", value, f"GET /chats/watch ({value['kind']})"))
            if value["kind"] == kind and value["chat"].get("id") == chat:
                return value
            continue
        if ctx.clock() >= deadline:
            seen = [f"{e['kind']} {e['chat'].get('id')}" for e in events]
            raise ContractBroken(
                "WatchEventMissing",
                f"no `{kind}` event of chat {chat} within {ctx.agent_timeout:g} s (--expect-agent)",
                evidence=seen[-12:],
            )
        read_chat(ctx, chat)  # a poll meanwhile (and what moves a virtual clock)
        ctx.sleep(ctx.poll_every)


# Read a watcher until an event of `kind` for a chat, for the checks of other modules.
read_until_kind = _read_until_kind


def watch_reports_the_callers_chats(ctx: ScenarioContext) -> str | None:
    """created, title_change, deleted on archive and created on unarchive, for the caller's chats only."""
    try:
        with _watch(ctx, None):
            pass
    except StreamRefused as refused:
        response = httpx.Response(refused.status or 0, content=refused.body.encode())
        expect_error(response, 401, ctx.facts.signed_out, kind="WatchWithoutToken", detail=True)
    else:
        raise ContractBroken("WatchWithoutToken", "the watcher was opened without a token")
    events: list[dict[str, Any]] = []
    with ExitStack() as stack:
        try:
            socket = stack.enter_context(_watch(ctx, ctx.token))
        except StreamRefused as refused:
            raise ContractBroken("WatchRefused", f"the watcher was refused: {refused}") from None
        chat = create_chat(ctx, "a chat watched from the list", scenario="echo")["id"]
        others = _other_users_chat(ctx)
        created = _read_until_kind(ctx, socket, chat, "created", events)
        settle(ctx, chat)
        expect_status(
            ctx.send("PATCH", f"/chats/{chat}", json_body={"title": "Renamed while watched"}),
            204,
            "RenameRefused",
        )
        renamed = _read_until_kind(ctx, socket, chat, "title_change", events)
        if renamed["chat"].get("title") != "Renamed while watched":
            raise ContractBroken(
                "TitleChangeWithoutTitle", f"title_change carries title {renamed['chat'].get('title')!r}"
            )
        expect_status(
            ctx.send("PATCH", f"/chats/{chat}", json_body={"archived": True}), 204, "ArchiveRefused"
        )
        _read_until_kind(ctx, socket, chat, "deleted", events)
        expect_status(
            ctx.send("PATCH", f"/chats/{chat}", json_body={"archived": False}), 204, "UnarchiveRefused"
        )
        _read_until_kind(ctx, socket, chat, "created", events)
    if created["chat"].get("organization_id") is None or created["chat"].get("id") != chat:
        raise ContractBroken("CreatedEventWrong", f"`created` carries {created['chat']!r}")
    leaked = [e["kind"] for e in events if others is not None and e["chat"].get("id") == others]
    if leaked:
        raise ContractBroken(
            "OtherUsersChatWatched", f"the watcher told events {leaked!r} of another user's chat"
        )
    if others is None:
        return "the watcher's isolation was not checked: no second user's chat (a second --token in the organization)"
    return None


def _other_users_chat(ctx: ScenarioContext) -> str | None:
    """A chat of the second user in the same organization, or None (one token, or not a member)."""
    if ctx.other_token is None:
        return None
    body = {
        "organization_id": organization(ctx),
        "content": [{"type": "text", "text": "another user's chat"}],
        "labels": {**label_of(ctx), "scenario": "echo"},
    }
    response = ctx.send("POST", "/chats", json_body=body, token=ctx.other_token)
    if response.status_code != 201:
        return None
    chat = json_object(response, "ChatNotAnObject").get("id")
    return chat if isinstance(chat, str) else None
