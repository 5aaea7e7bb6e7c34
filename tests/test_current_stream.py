"""`GET /chats/{chat}/stream` of today's API: refusals, the snapshot, live events, reconnects, closes.

Runs play on a ManualScheduler and a SteppingClock: a test moves virtual time and reads what the
stream sent. Frames are read until a condition holds (never by timing); how live events fall
into frames depends on when the writer runs, so live assertions are on the events in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import connect

from mockserver import ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.models import ChatStatus, Role
from mockserver.core.scheduler import ImmediateScheduler
from mockserver.core.stopping import Stopping
from mockserver.core.store import ChatStore
from mockserver.current.stream import StreamMiddleware
from mockserver.current.stream_feed import ChatStreamFeed
from mockserver.edge.fanout import Fanout
from mockserver.edge.origins import CorsPolicy
from mockserver.edge.streams import OpenStreams
from tests.agent_support import serve_on_free_port
from tests.app_settings import app_settings
from tests.current_support import ALICE, BOB, ORG, text, text_of

Event = dict[str, Any]


@dataclass
class Mock:
    """A current-API mock whose store the test can reach, on virtual time."""

    client: TestClient
    scheduler: ManualScheduler
    store: ChatStore

    def create(self, message: str) -> str:
        response = self.client.post(
            "/api/v2/chats", headers=ALICE, json={"organization_id": ORG, "content": text(message)}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def send(self, chat: str, message: str) -> Any:
        response = self.client.post(
            f"/api/v2/chats/{chat}/messages", headers=ALICE, json={"content": text(message)}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def transcript(self, chat: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v2/chats/{chat}/messages?limit=200", headers=ALICE)
        assert response.status_code == 200, response.text
        return list(reversed(response.json()["messages"]))


@contextmanager
def mock(**settings: Any) -> Iterator[Mock]:
    clock = SteppingClock()
    new_id = seeded_uuids(11)
    scheduler = ManualScheduler()
    store = ChatStore(clock=clock, new_id=new_id)
    app = create_app(
        app_settings(api="current", **settings), clock=clock, new_id=new_id, scheduler=scheduler, store=store
    )
    with TestClient(app) as client:
        yield Mock(client, scheduler, store)


class Reader:
    """A stream's frames as they come: each one a JSON array of events, ending with a newline."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[str] = []
        self.events: list[Event] = []

    def frame(self) -> list[Event]:
        raw = self.ws.receive_text()
        assert raw.endswith("]\n"), raw
        batch: list[Event] = json.loads(raw)
        assert isinstance(batch, list) and 1 <= len(batch) <= 256
        self.frames.append(raw)
        self.events += batch
        return batch

    def until(self, done: Callable[[list[Event]], bool]) -> list[Event]:
        """Read frames until `done(events read so far)`; returns the events."""
        while not done(self.events):
            self.frame()
        return self.events


def status_is(*statuses: str) -> Callable[[list[Event]], bool]:
    def done(events: list[Event]) -> bool:
        return any(e["type"] == "status" and e["status"]["status"] in statuses for e in events)

    return done


def ended(events: list[Event]) -> bool:
    """A run's end: the last status event is waiting or error."""
    seen = [e["status"]["status"] for e in events if e["type"] == "status"]
    return bool(seen) and seen[-1] in ("waiting", "error")


def kinds(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def stream_path(chat: str, after_id: int | None = None) -> str:
    return f"/api/v2/chats/{chat}/stream" + ("" if after_id is None else f"?after_id={after_id}")


def _refusal(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    with (
        pytest.raises(WebSocketDenialResponse) as caught,
        client.websocket_connect(path, headers=dict(headers)),
    ):
        pass  # pragma: no cover - the upgrade is refused
    return caught.value.status_code, caught.value.json()


# --- refusals and auth -------------------------------------------------------------------------


def test_stream_refuses_before_the_upgrade_with_coders_errors() -> None:
    with mock() as m:
        chat = m.create("hello")
        answers = {
            "no token": _refusal(m.client, stream_path(chat), {}),
            "bad uuid": _refusal(m.client, "/api/v2/chats/abc/stream", ALICE),
            "other user's chat": _refusal(m.client, stream_path(chat), BOB),
            "bad after_id": _refusal(m.client, f"{stream_path(chat)}?after_id=1.5", ALICE),
            "after_id out of range": _refusal(
                m.client, f"{stream_path(chat)}?after_id=9223372036854775808", ALICE
            ),
            "cross-origin": _refusal(
                m.client, stream_path(chat), {**ALICE, "Origin": "https://evil.example"}
            ),
        }
    assert answers["no token"][0] == 401
    assert answers["bad uuid"] == (
        400,
        {"message": 'Invalid UUID "abc".', "detail": "invalid UUID length: 3"},
    )
    assert answers["other user's chat"] == (
        404,
        {"message": "Resource not found or you do not have access to this resource"},
    )
    assert answers["bad after_id"] == (
        400,
        {
            "message": "Invalid after_id parameter.",
            "detail": 'strconv.ParseInt: parsing "1.5": invalid syntax',
        },
    )
    assert answers["after_id out of range"][1]["detail"].endswith("value out of range")
    assert answers["cross-origin"][0] == 403


def test_stream_takes_the_token_from_the_header_the_cookie_or_the_query() -> None:
    with mock() as m:
        chat = m.create("hello")
        token = ALICE["Coder-Session-Token"]
        ways = {
            "header": (stream_path(chat), ALICE),
            "cookie": (stream_path(chat), {"Cookie": f"coder_session_token={token}"}),
            "query": (f"{stream_path(chat)}?coder_session_token={token}", {}),
        }
        firsts = {}
        for way, (path, headers) in ways.items():
            with m.client.websocket_connect(path, headers=dict(headers)) as ws:
                firsts[way] = kinds(Reader(ws).frame())
    assert firsts["header"] == firsts["cookie"] == firsts["query"] == ["message", "status", "preview_reset"]


# --- the snapshot ---------------------------------------------------------------------------------


def test_snapshot_of_an_idle_chat_is_its_messages_then_its_status_in_one_frame() -> None:
    with mock() as m:
        chat = m.create("/tool-use please")
        m.scheduler.finish_all()
        stored = m.transcript(chat)
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            first = reader.frame()
    assert kinds(first) == ["message"] * len(stored) + ["status", "preview_reset"]
    assert [e["message"] for e in first[: len(stored)]] == stored
    assert first[len(stored)]["status"] == {"status": "waiting"}
    assert {e["chat_id"] for e in first} == {chat}
    # Go's json.Encoder: compact, one newline at the end
    assert reader.frames[0] == json.dumps(first, separators=(",", ":"), ensure_ascii=False) + "\n"


def test_snapshot_skips_the_messages_up_to_after_id() -> None:
    with mock() as m:
        chat = m.create("/tool-use please")
        m.scheduler.finish_all()
        stored = m.transcript(chat)
        cursor = stored[1]["id"]
        with m.client.websocket_connect(stream_path(chat, cursor), headers=dict(ALICE)) as ws:
            first = Reader(ws).frame()
    assert [e["message"]["id"] for e in first if e["type"] == "message"] == [m["id"] for m in stored[2:]]


def test_a_long_snapshot_goes_in_frames_of_at_most_256_events() -> None:
    with mock() as m:
        chat = m.create("hello")
        m.scheduler.finish_all()
        for n in range(300):
            m.store.append_message(UUID(chat), Role.USER, {"parts": [{"type": "text", "text": f"m{n}"}]})
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            sizes = [len(reader.frame()), len(reader.frame())]
    assert sizes == [256, 302 + 2 - 256]  # 302 messages, status and preview_reset


def test_snapshot_of_an_errored_chat_carries_its_error() -> None:
    with mock() as m:
        chat = m.create("/upstream-error now")
        m.scheduler.finish_all()
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            first = Reader(ws).frame()
    assert kinds(first)[-3:] == ["status", "error", "preview_reset"]
    assert first[-3]["status"] == {"status": "error"}
    assert first[-2]["error"] == {
        "message": "anthropic: 529 Overloaded: the model is overloaded, try again later",
        "kind": "generic",
        "provider": "anthropic",
        "retryable": True,
    }


# --- live events ----------------------------------------------------------------------------------


def test_a_run_streams_its_parts_then_each_message_then_its_status() -> None:
    with mock() as m:
        chat = m.create("/tool-use please")
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            snapshot = reader.frame()
            # When: the run plays out
            m.scheduler.finish_all()
            events = reader.until(ended)
        stored = m.transcript(chat)
    assert kinds(snapshot) == ["message", "status", "preview_reset"]
    assert snapshot[1]["status"] == {"status": "running"}
    live = events[len(snapshot) :]
    # Then: every stored message once, in id order, each followed by a preview_reset
    assert [e["message"] for e in live if e["type"] == "message"] == stored[1:]
    for index, event in enumerate(live):
        if event["type"] == "message":
            assert live[index + 1]["type"] == "preview_reset"
    assert live[-1] == {"type": "status", "chat_id": chat, "status": {"status": "waiting"}}
    # the parts of a step stream before its message, numbered from 1 after each reset
    preview: list[Event] = []
    for event in live:
        if event["type"] == "message_part":
            assert event["message_part"]["seq"] == len(preview) + 1
            assert event["message_part"]["role"] == "assistant"
            preview.append(event)
        elif event["type"] == "message" and preview:
            streamed = "".join(
                p["message_part"]["part"]["text"]
                for p in preview
                if p["message_part"]["part"]["type"] == "text"
            )
            assert streamed in ("", text_of(event["message"]))
        elif event["type"] == "preview_reset":
            preview = []
    texts = [e["message_part"]["part"] for e in live if e["type"] == "message_part"]
    assert texts[0]["type"] == "reasoning" and texts[-1]["text"] == "permission denied."
    # a part belongs to the history version of its time: one more per stored message
    for index, event in enumerate(events):
        if event["type"] == "message_part":
            assert event["message_part"]["history_version"] == kinds(events[:index]).count("message")


def test_a_queued_message_shows_as_queue_updates_and_runs_after_the_turn() -> None:
    with mock() as m:
        chat = m.create("/slow first")
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            reader.frame()
            # When: a message sent while the chat is busy
            sent = m.send(chat, "second")
            events = reader.until(lambda es: any(e["type"] == "queue_update" for e in es))
            queued = next(e for e in events if e["type"] == "queue_update")
            m.scheduler.finish_all()
            events = reader.until(lambda es: len([e for e in es if e["type"] == "queue_update"]) == 2)
            events = reader.until(ended)
    assert sent["queued"] is True
    assert queued["queued_messages"] == [sent["queued_message"]]
    emptied = [e for e in events if e["type"] == "queue_update"][1]
    assert "queued_messages" not in emptied  # an empty queue is left out (omitempty)
    users = [e["message"] for e in events if e["type"] == "message" and e["message"]["role"] == "user"]
    assert [text_of(u) for u in users] == ["/slow first", "second"]


def test_an_edit_sends_history_reset_and_the_whole_transcript() -> None:
    with mock() as m:
        chat = m.create("first")
        m.scheduler.finish_all()
        m.send(chat, "second")
        m.scheduler.finish_all()
        before = m.transcript(chat)
        with m.client.websocket_connect(stream_path(chat, before[-1]["id"]), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            reader.frame()
            # When: the second user message is edited
            edited = m.client.patch(
                f"/api/v2/chats/{chat}/messages/{before[2]['id']}",
                headers=ALICE,
                json={"content": text("again")},
            )
            assert edited.status_code == 200, edited.text
            events = reader.until(status_is("running"))
        with m.client.websocket_connect(stream_path(chat, 10_000), headers=dict(ALICE)) as ws:
            later = Reader(ws).frame()
    start = kinds(events).index("history_reset")
    after = events[start:]
    assert [e["message"]["id"] for e in after[1:3]] == [before[0]["id"], before[1]["id"]]
    assert after[3]["type"] == "preview_reset"
    assert after[4]["type"] == "message" and text_of(after[4]["message"]) == "again"
    # A stream opened later on a rewritten history gets it whole, whatever after_id says
    assert later[0]["type"] == "history_reset"
    assert [e["type"] for e in later[1:4]] == ["message"] * 3


def test_a_retry_and_a_new_attempt_reset_the_preview() -> None:
    with mock() as m:
        chat = m.create("/slow x")
        m.scheduler.advance(1.5)  # the first two chunks stream (at 1.0 s and 1.5 s)
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            first = list(reader.until(lambda es: kinds(es).count("message_part") == 2))
            # When: the model call fails and is tried again
            retry = {
                "attempt": 1,
                "delay_ms": 1000,
                "error": "overloaded",
                "retrying_at": "2026-01-01T00:00:00Z",
            }
            m.store.publish_retry(UUID(chat), retry)
            m.store.publish_reset(UUID(chat))
            m.scheduler.advance(0.5)
            events = reader.until(lambda es: kinds(es).count("message_part") == 3)
    assert kinds(first) == ["message", "status", "preview_reset", "message_part", "message_part"]
    live = events[len(first) :]
    assert kinds(live) == ["retry", "preview_reset", "message_part"]
    assert live[0]["retry"] == retry
    assert live[2]["message_part"]["generation_attempt"] == 1 and live[2]["message_part"]["seq"] == 1


def test_requires_action_sends_the_status_then_the_pending_tool_calls() -> None:
    with mock() as m:
        chat = m.create("hello")
        m.scheduler.finish_all()
        call = {
            "type": "tool-call",
            "tool_call_id": "call_1",
            "tool_name": "get_weather",
            "args": {"city": "Oslo"},
        }
        m.store.append_message(UUID(chat), Role.ASSISTANT, {"parts": [call]})
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            reader.frame()
            m.store.update_chat(UUID(chat), status=ChatStatus.REQUIRES_ACTION)
            events = reader.until(lambda es: "action_required" in kinds(es))
    assert kinds(events)[-2:] == ["status", "action_required"]
    assert events[-1]["action_required"] == {
        "tool_calls": [{"tool_call_id": "call_1", "tool_name": "get_weather", "args": '{"city":"Oslo"}'}]
    }


# --- reconnecting ---------------------------------------------------------------------------------


def _assembled(events: list[Event]) -> tuple[list[Event], str]:
    """The messages a client keeps from a stream, and its open preview's text."""
    messages: dict[int, Event] = {}
    preview = ""
    for event in events:
        match event["type"]:
            case "history_reset":
                messages.clear()
            case "message":
                assert event["message"]["id"] not in messages, "a message sent twice"
                messages[event["message"]["id"]] = event["message"]
            case "message_part":
                preview += event["message_part"]["part"].get("text", "")
            case "preview_reset":
                preview = ""
    return [messages[k] for k in sorted(messages)], preview


def test_a_reconnect_mid_run_with_after_id_gets_exactly_what_it_missed() -> None:
    with mock() as m:
        chat = m.create("/tool-use please")
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            reader.frame()
            m.scheduler.advance(0.5)  # the reasoning streams, the first step is stored
            first = list(
                reader.until(lambda es: any(e.get("message", {}).get("role") == "assistant" for e in es))
            )
        seen, _ = _assembled(first)
        # When: the client is away while the run goes on, into its last step's streaming text
        m.scheduler.advance(1.05)
        with m.client.websocket_connect(stream_path(chat, seen[-1]["id"]), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            again = list(reader.until(lambda es: "message_part" in kinds(es)))
            m.scheduler.finish_all()
            rest = reader.until(ended)
        stored = m.transcript(chat)
    # Then: nothing repeated, nothing missing
    missed, preview = _assembled(rest)
    assert seen + missed == stored
    assert preview == ""
    assert kinds(again)[-3:] == ["status", "preview_reset", "message_part"]
    part = again[-1]["message_part"]
    assert (part["seq"], part["part"]["text"]) == (1, "The workspace has three files. ")


def test_a_reconnect_during_a_streaming_step_gets_the_step_from_its_first_part() -> None:
    with mock() as m:
        chat = m.create("/slow x")
        m.scheduler.advance(2.5)  # four chunks streamed (every 0.5 s from 1.0 s)
        with m.client.websocket_connect(stream_path(chat, 1), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            events = reader.until(lambda es: kinds(es).count("message_part") == 4)
            m.scheduler.finish_all()
            events = reader.until(ended)
        stored = m.transcript(chat)
    messages, preview = _assembled(events)
    assert [e["message_part"]["seq"] for e in events if e["type"] == "message_part"] == list(range(1, 11))
    assert messages == stored[1:] and preview == ""
    answer = "".join(p["message_part"]["part"]["text"] for p in events if p["type"] == "message_part")
    assert answer == text_of(stored[-1])


# --- closing --------------------------------------------------------------------------------------


def test_a_data_frame_from_the_client_closes_the_stream_with_1008() -> None:
    with mock() as m:
        chat = m.create("hello")
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            Reader(ws).frame()
            ws.send_text("hello?")
            with pytest.raises(WebSocketDisconnect) as caught:
                ws.receive_text()
    assert caught.value.code == 1008


def test_the_control_plane_closes_a_chats_streams_with_the_code_asked() -> None:
    with mock(control=True) as m:
        chat = m.create("hello")
        other = m.create("other")
        with (
            m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws,
            m.client.websocket_connect(stream_path(other), headers=dict(ALICE)) as kept,
        ):
            Reader(ws).frame()
            Reader(kept).frame()
            # When
            answer = m.client.post(
                f"/__mock/chats/{chat}/streams/close", json={"code": 4000, "reason": "test"}
            )
            with pytest.raises(WebSocketDisconnect) as caught:
                ws.receive_text()
            # Then: the other chat's stream goes on
            m.scheduler.finish_all()
            assert "message" in kinds(Reader(kept).until(ended))
        refused = m.client.post(f"/__mock/chats/{chat}/streams/close", json={"code": 1005})
        nobody = m.client.post(f"/__mock/chats/{chat}/streams/close", json={})
    assert answer.status_code == 200 and answer.json() == {"closed": 1}
    assert (caught.value.code, caught.value.reason) == (4000, "test")
    assert refused.status_code == 400 and refused.json()["message"] == "Invalid close code."
    assert nobody.json() == {"closed": 0}


def test_when_the_server_begins_to_stop_every_stream_gets_going_away() -> None:
    stopping = Stopping()
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(5))
    app = create_app(
        app_settings(api="current"),
        new_id=seeded_uuids(6),
        store=store,
        scheduler=ManualScheduler(),
        stopping=stopping,
    )
    with TestClient(app) as client:
        chat = client.post(
            "/api/v2/chats", headers=ALICE, json={"organization_id": ORG, "content": text("hi")}
        )
        chat_id = chat.json()["id"]
        with client.websocket_connect(stream_path(chat_id), headers=dict(ALICE)) as ws:
            Reader(ws).frame()
            assert store.listener_count(UUID(chat_id)) == 1
            # When
            stopping.begin()
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1001, "server stopping")
    assert store.listener_count(UUID(chat_id)) == 0


def test_a_client_that_never_reads_is_closed_with_1008_and_costs_nothing_more() -> None:
    clock = SteppingClock()
    store = ChatStore(clock=clock, new_id=seeded_uuids(3))
    alice = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
    chat = store.create_chat(
        alice,
        workspace_id=None,
        title="t",
        provider="anthropic",
        model="claude-sonnet-4-5",
        metadata={},
        system_prompt=None,
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not sent:
            return {"type": "websocket.connect"}
        await asyncio.Event().wait()  # the client neither speaks nor leaves
        return {"type": "websocket.disconnect", "code": 1006}  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "websocket.send" and len(sent) > 2:
            await asyncio.Event().wait()  # the socket's buffer is full: a send never completes

    scope = {
        "type": "websocket",
        "path": f"/api/v2/chats/{chat.id}/stream",
        "query_string": b"",
        "headers": [(b"coder-session-token", DEMO_TOKENS["alice"].encode()), (b"host", b"127.0.0.1")],
        "extensions": {"websocket.http.response": {}},
    }
    middleware = StreamMiddleware(
        store=store,
        directory=Directory.from_tokens(DEMO_TOKENS),
        origins=CorsPolicy(),
        queue_limit=5,
        streams=OpenStreams(),
        close_timeout=0,  # the stalled client never takes the close frame
    )

    async def scenario() -> None:
        task = asyncio.ensure_future(middleware.answer(scope, receive, send, str(chat.id)))
        while len(sent) < 2 and not task.done():  # accepted, the snapshot sent
            await asyncio.sleep(0)
        store.publish_partial(chat.id, UUID(int=1), "text", {"type": "text", "text": "first"})
        while len(sent) < 3 and not task.done():  # a live frame the client never takes
            await asyncio.sleep(0)
        for n in range(20):
            store.publish_partial(chat.id, UUID(int=1), "text", {"type": "text", "text": f"{n}"})
        await task

    asyncio.run(scenario())
    # Then: the close frame was offered and the stream ended, leaving nothing behind
    assert sent[-1] == {
        "type": "websocket.close",
        "code": 1008,
        "reason": "watcher fell behind: more than 5 frames unsent; reconnect with after_id",
    }
    assert store.listener_count(chat.id) == 0


def test_the_owners_stream_marks_the_chat_read_on_connect_and_on_disconnect() -> None:
    with mock() as m:
        chat = m.create("hello")
        m.scheduler.finish_all()

        def unread() -> bool:
            return bool(m.client.get(f"/api/v2/chats/{chat}", headers=ALICE).json()["has_unread"])

        before = unread()
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            reader.frame()
            on_connect = unread()
            m.send(chat, "again")
            m.scheduler.finish_all()
            reader.until(ended)
            during = unread()  # a message came while the stream was open
        m.transcript(chat)  # a request after the disconnect was handled
        after = unread()
    assert (before, on_connect, during, after) == (True, False, True, False)


def test_a_get_without_the_upgrade_is_refused_as_coderd_does_426_after_the_routes_checks() -> None:
    with mock() as m:
        chat = m.create("hello")
        plain = m.client.get(stream_path(chat), headers=ALICE)
        bad_cursor = m.client.get(f"{stream_path(chat)}?after_id=x", headers=ALICE)
        signed_out = m.client.get(stream_path(chat))
        watch = m.client.get("/api/v2/chats/watch", headers=ALICE)
        watch_signed_out = m.client.get("/api/v2/chats/watch")
    assert (plain.status_code, plain.headers["upgrade"]) == (426, "websocket")
    assert plain.json()["message"] == "Failed to open chat stream."
    assert plain.json()["detail"].startswith("WebSocket protocol violation: Connection header")
    assert (bad_cursor.status_code, bad_cursor.json()["message"]) == (400, "Invalid after_id parameter.")
    assert (signed_out.status_code, watch_signed_out.status_code) == (401, 401)
    assert (watch.status_code, watch.json()["message"]) == (426, "Failed to open chat watch stream.")


def test_an_interrupt_shows_interrupting_then_the_kept_partial_answer_then_waiting() -> None:
    with mock() as m:
        chat = m.create("/slow x")
        m.scheduler.advance(1.5)  # two chunks streamed
        with m.client.websocket_connect(stream_path(chat), headers=dict(ALICE)) as ws:
            reader = Reader(ws)
            first = list(reader.until(lambda es: kinds(es).count("message_part") == 2))
            # When
            assert m.client.post(f"/api/v2/chats/{chat}/interrupt", headers=ALICE).status_code == 200
            m.scheduler.advance(0.0)  # the turn stops on the scheduler's next tick
            events = reader.until(ended)
        stored = m.transcript(chat)
    live = events[len(first) :]
    assert kinds(live) == ["status", "message", "preview_reset", "status"]
    assert [e["status"]["status"] for e in live if e["type"] == "status"] == ["interrupting", "waiting"]
    streamed = "".join(e["message_part"]["part"]["text"] for e in first if e["type"] == "message_part")
    assert text_of(live[1]["message"]) == streamed and live[1]["message"] == stored[-1]


def test_over_a_real_socket_a_reconnect_with_after_id_completes_the_transcript() -> None:
    app = create_app(
        app_settings(api="current"),
        clock=SteppingClock(),
        new_id=seeded_uuids(13),
        scheduler=ImmediateScheduler(),
    )
    with (
        serve_on_free_port(app) as address,
        httpx.Client(base_url=f"http://{address}", headers=ALICE) as http,
    ):
        chat = http.post(
            "/api/v2/chats", json={"organization_id": ORG, "content": text("/tool-use a")}
        ).json()["id"]
        url = f"ws://{address}/api/v2/chats/{chat}/stream"
        with connect(url, additional_headers=ALICE, open_timeout=10) as ws:
            raw = ws.recv(timeout=10)
        seen, _ = _assembled(json.loads(raw))
        # When: a second run while the client is away, then a reconnect after the last id it saw
        http.post(f"/api/v2/chats/{chat}/messages", json={"content": text("/tool-use b")})
        with connect(f"{url}?after_id={seen[-1]['id']}", additional_headers=ALICE, open_timeout=10) as ws:
            missed, _ = _assembled(json.loads(ws.recv(timeout=10)))
        stored = list(reversed(http.get(f"/api/v2/chats/{chat}/messages?limit=200").json()["messages"]))
    assert isinstance(raw, str) and raw.endswith("]\n")
    assert seen + missed == stored


def test_each_event_is_encoded_once_for_every_client_of_the_chat() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    alice = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
    chat = store.create_chat(
        alice, workspace_id=None, title="t", provider="p", model="m", metadata={}, system_prompt=None
    )
    made: list[ChatStreamFeed] = []

    def feed(chat_id: UUID) -> ChatStreamFeed:
        made.append(ChatStreamFeed(store, chat_id))
        return made[-1]

    async def scenario() -> list[list[str]]:
        fanout = Fanout(store, limit=100, feed=feed)
        watchers = [fanout.join(chat.id, last_id=0)[0] for _ in range(50)]
        store.publish_partial(chat.id, UUID(int=1), "text", {"type": "text", "text": "a"})
        store.append_message(chat.id, Role.ASSISTANT, {"parts": [{"type": "text", "text": "a"}]})
        return [list(w.frames) for w in watchers]

    queues = asyncio.run(scenario())
    # Then: one feed for the chat; the same string objects in every client's queue
    assert len(made) == 1
    assert len(queues[0]) == 3  # message_part, message, preview_reset
    assert all(all(a is b for a, b in zip(q, queues[0], strict=True)) for q in queues)


def test_every_client_of_a_chat_shares_its_rows_encodings() -> None:
    store = ChatStore(clock=SteppingClock(), new_id=seeded_uuids(3))
    alice = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
    chat = store.create_chat(
        alice, workspace_id=None, title="t", provider="p", model="m", metadata={}, system_prompt=None
    )
    for n in range(3):
        store.append_message(chat.id, Role.USER, {"parts": [{"type": "text", "text": f"m{n}"}]})
    feed = ChatStreamFeed(store, chat.id)

    # When: two clients connect
    first, second = list(feed.snapshot(chat, 0).state), list(feed.snapshot(chat, 0).state)

    # Then: the same string objects for the same rows; the events read as before
    assert [json.loads(e)["type"] for e in first][:4] == ["message"] * 3 + ["status"]
    assert [json.loads(e)["message"]["id"] for e in first[:3]] == [m.id for m in store.messages_of(chat.id)]
    assert all(a is b for a, b in zip(first[:3], second[:3], strict=True))
