"""Requests whose body arrives after the chat changed: each decides on the chat as it is then.

A request's `{chat}` is loaded when its head arrives; its body may come seconds later, while
turns end and other requests change the chat. These tests hold bodies back on a virtual clock
(a ManualScheduler moves the turns, an asyncio.Event releases a body), so every interleaving
is exact and the run takes no real time (issue 27; openapi/current/WIRE.md section 4.1).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mockserver import ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.models import ChatStatus
from mockserver.current.states import ExecutionState, classify
from mockserver.edge.limits import Limits
from tests.app_settings import app_settings
from tests.current_support import ALICE, ORG, text

_SEED = 27


@dataclass
class _HeldBody:
    """A JSON body the client sends only when released; `reading` is set once the server asks for it."""

    body: dict[str, Any]
    reading: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def chunks(self) -> AsyncIterator[bytes]:
        self.reading.set()
        await self.release.wait()
        yield json.dumps(self.body).encode()


class _Mock:
    """Today's API on a virtual clock, spoken to over ASGI with bodies the test holds back."""

    def __init__(self) -> None:
        self.scheduler = ManualScheduler()
        self.app = create_app(
            # Bodies held back for as long as the test needs (the virtual clock does not move it).
            app_settings(api="current", validate_responses=True, limits=Limits(body_timeout=3600.0)),
            clock=SteppingClock(),
            new_id=seeded_uuids(_SEED),
            scheduler=self.scheduler,
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://mock", headers=ALICE
        )

    async def create(self, message: str) -> str:
        response = await self.http.post(
            "/api/v2/chats", json={"organization_id": ORG, "content": text(message)}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def post_held(self, path: str, held: _HeldBody) -> Awaitable[httpx.Response]:
        """Start a POST whose head goes now and whose body waits for `held.release`."""
        headers = {**ALICE, "Content-Type": "application/json"}
        return asyncio.ensure_future(self.http.post(path, content=held.chunks(), headers=headers))

    async def state(self, chat_id: str, *, whole: bool = True) -> tuple[ExecutionState, dict[str, Any]]:
        """The chat's execution state and its transcript (newest first; `whole`: every page) and queue."""
        chat = (await self.http.get(f"/api/v2/chats/{chat_id}")).json()
        path = f"/api/v2/chats/{chat_id}/messages?limit={200 if whole else 1}"
        page = (await self.http.get(path)).json()
        older = page
        while whole and older["has_more"]:
            older = (await self.http.get(f"{path}&before_id={older['messages'][-1]['id']}")).json()
            page["messages"].extend(older["messages"])
        state = classify(ChatStatus(chat["status"]), chat["archived"], bool(page["queued_messages"]))
        return state, page


def _user_texts(page: dict[str, Any]) -> list[str]:
    return [
        part["text"]
        for message in reversed(page["messages"])
        if message["role"] == "user"
        for part in message["content"]
        if part["type"] == "text"
    ]


def test_a_send_whose_body_arrives_after_the_turn_ended_starts_a_turn() -> None:
    async def scenario() -> None:
        mock = _Mock()
        chat_id = await mock.create("/slow take your time")  # a turn of 5.5 virtual seconds
        # When the head of a send arrives at 4 s, while the turn runs
        mock.scheduler.advance(4.0)
        held = _HeldBody({"content": text("are you done?")})
        send = mock.post_held(f"/api/v2/chats/{chat_id}/messages", held)
        await held.reading.wait()
        # And its body at 6 s, after the turn ended
        mock.scheduler.advance(2.0)
        assert (await mock.state(chat_id))[0] is ExecutionState.W
        held.release.set()
        response = await send
        # Then the send is applied to a waiting chat, as coderd decides it: stored, not queued, runs
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["queued"] is False
        assert body["message"]["content"][0]["text"] == "are you done?"
        state, page = await mock.state(chat_id)
        assert state is ExecutionState.R0
        # And its turn ends like any other: the chat waits, with nothing queued
        mock.scheduler.run_until_idle()
        state, page = await mock.state(chat_id)
        assert state is ExecutionState.W
        assert _user_texts(page) == ["/slow take your time", "are you done?"]
        assert page["messages"][0]["role"] == "assistant"
        # And the chat goes on answering: a send after all that is not a 409
        again = await mock.http.post(f"/api/v2/chats/{chat_id}/messages", json={"content": text("thanks")})
        assert again.status_code == 200, again.text

    asyncio.run(scenario())


def test_an_archive_whose_body_arrives_after_a_send_started_a_turn_is_409() -> None:
    async def scenario() -> None:
        mock = _Mock()
        chat_id = await mock.create("hello")
        mock.scheduler.run_until_idle()
        # When the head of an archive arrives while the chat waits
        held = _HeldBody({"archived": True})
        archive = asyncio.ensure_future(
            mock.http.patch(
                f"/api/v2/chats/{chat_id}",
                content=held.chunks(),
                headers={**ALICE, "Content-Type": "application/json"},
            )
        )
        await held.reading.wait()
        # And a send starts a turn before its body arrives
        sent = await mock.http.post(f"/api/v2/chats/{chat_id}/messages", json={"content": text("/slow go")})
        assert sent.json()["queued"] is False
        held.release.set()
        response = await archive
        # Then the archive is refused as coderd refuses archiving an active chat, and nothing changed
        assert response.status_code == 409, response.text
        assert response.json()["detail"] == "chat state transition SetArchived not allowed from state R0"
        assert (await mock.state(chat_id))[0] is ExecutionState.R0

    asyncio.run(scenario())


def test_a_send_whose_body_arrives_after_the_chat_was_archived_is_400() -> None:
    async def scenario() -> None:
        mock = _Mock()
        chat_id = await mock.create("hello")
        mock.scheduler.run_until_idle()
        held = _HeldBody({"content": text("too late")})
        send = mock.post_held(f"/api/v2/chats/{chat_id}/messages", held)
        await held.reading.wait()
        archived = await mock.http.patch(f"/api/v2/chats/{chat_id}", json={"archived": True})
        assert archived.status_code == 204
        held.release.set()
        response = await send
        # Then coderd's answer to a send on an archived chat (chatd ErrChatArchived), nothing stored
        assert response.status_code == 400
        assert response.json()["message"] == "Cannot send messages to an archived chat."
        state, page = await mock.state(chat_id)
        assert state is ExecutionState.XW
        assert "too late" not in _user_texts(page)

    asyncio.run(scenario())


def test_a_storm_of_slow_sends_never_wedges_a_chat_nor_loses_a_message() -> None:
    """200 sends (a third with busy_behavior interrupt) whose bodies arrive in a seeded shuffle."""

    async def scenario() -> None:
        rng = random.Random(_SEED)
        mock = _Mock()
        chat_id = await mock.create("/slow storm")
        pending: list[tuple[str, _HeldBody, Awaitable[httpx.Response]]] = []
        answered: list[tuple[str, httpx.Response]] = []
        for index in range(200):
            words = rng.choice(["/slow", "", "/tool-use"])
            message = f"{words} m{index}".strip()
            body: dict[str, Any] = {"content": text(message)}
            if rng.random() < 1 / 3:
                body["busy_behavior"] = "interrupt"
            held = _HeldBody(body)
            pending.append((message, held, mock.post_held(f"/api/v2/chats/{chat_id}/messages", held)))
            await held.reading.wait()
            # Time passes and earlier bodies arrive, in an order the seed picks
            mock.scheduler.advance(rng.choice([0.0, 0.1, 0.5, 2.0, 6.0]))
            while pending and rng.random() < 0.5:
                message, held, response = pending.pop(rng.randrange(len(pending)))
                held.release.set()
                answered.append((message, await response))
            state, _ = await mock.state(chat_id, whole=False)
            assert state is not ExecutionState.INVALID
        for message, held, response in pending:
            held.release.set()
            answered.append((message, await response))
        # Then every send was answered 200 (or 429 when the queue was full), none 409 or 5xx
        statuses = {response.status_code for _, response in answered}
        assert statuses <= {200, 429}, [r.text for _, r in answered if r.status_code not in (200, 429)]
        accepted = [message for message, response in answered if response.status_code == 200]
        assert len(accepted) > 150
        # And once the turns have played, the chat waits with an empty queue
        mock.scheduler.run_until_idle()
        state, page = await mock.state(chat_id)
        assert state is ExecutionState.W
        # And every accepted message ran: it is in the transcript, once
        ran = _user_texts(page)
        assert sorted(ran) == sorted(["/slow storm", *accepted])

    asyncio.run(scenario())
