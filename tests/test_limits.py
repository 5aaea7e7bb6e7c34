"""serve's limits, in-process: each refusal's status and exact body, and the store left as it was."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from mockserver import ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.errors import LimitExceeded
from mockserver.core.golang import encode_json
from mockserver.core.stopping import Stopping
from mockserver.edge.coder_errors import coder_error
from mockserver.edge.limits import Limits, LimitsMiddleware
from tests.app_settings import app_settings

ALICE = {"Coder-Session-Token": "alice00001-AliceDemoSessionSecret"}
SMALL = Limits(
    max_body_bytes=1000,
    max_header_bytes=2000,
    max_headers=20,
    max_message_bytes=100,
    max_json_depth=10,
    max_websockets=1,
)
INVALID_JSON = "Request body must be valid JSON."


@contextmanager
def _client(limits: Limits = SMALL, stopping: Stopping | None = None) -> Iterator[TestClient]:
    app = create_app(
        app_settings(limits=limits),
        clock=SteppingClock(),
        new_id=seeded_uuids(3),
        scheduler=ImmediateScheduler(),
        stopping=stopping,
    )
    with TestClient(app) as client:
        yield client


def _chat_with_a_message(client: TestClient) -> tuple[str, bytes]:
    """A chat with one run in it, and its transcript's bytes."""
    chat = client.post("/api/v2/chats", json={"provider": "p", "model": "m"}, headers=ALICE).json()["id"]
    assert (
        client.post(f"/api/v2/chats/{chat}/messages", json={"content": "hi"}, headers=ALICE).status_code
        == 201
    )
    return chat, client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE).content


def _unchanged(client: TestClient, chat: str, before: bytes) -> bool:
    return client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE).content == before


def test_a_body_over_the_limit_is_413_by_its_content_length_and_closes_the_connection() -> None:
    with _client() as client:
        chat, before = _chat_with_a_message(client)
        # When
        answer = client.post(
            f"/api/v2/chats/{chat}/messages", content=b'{"content":"' + b"x" * 2000 + b'"}', headers=ALICE
        )
        # Then
        assert answer.status_code == 413
        assert answer.json() == {
            "message": "Request body too large.",
            "detail": "The body is 2014 bytes; the mock reads at most 1000 (--max-body-bytes).",
        }
        assert answer.headers["connection"] == "close"
        assert _unchanged(client, chat, before)


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"content":"'
        for _ in range(30):
            yield b"x" * 100
        yield b'"}'

    with _client() as client:
        chat, before = _chat_with_a_message(client)
        # When the body has no Content-Length
        answer = client.post(f"/api/v2/chats/{chat}/messages", content=chunks(), headers=ALICE)
        # Then
        assert answer.status_code == 413
        assert answer.json()["message"] == "Request body too large."
        assert answer.json()["detail"].endswith("the mock reads at most 1000 (--max-body-bytes).")
        assert _unchanged(client, chat, before)


def test_a_huge_body_without_a_token_is_still_a_401_and_is_never_read() -> None:
    with _client() as client:
        # When (coderd authenticates before it reads a body)
        answer = client.post("/api/v2/chats", content=b"x" * 5000)
        # Then the connection closes: the body it did not read is not read after the answer either
        assert answer.status_code == 401
        assert answer.headers["connection"] == "close"


def test_too_many_header_fields_is_431() -> None:
    with _client() as client:
        answer = client.get("/api/v2/chats/x", headers={**ALICE, **{f"x-h{i}": "1" for i in range(30)}})
    assert answer.status_code == 431
    assert answer.json() == {
        "message": "Request header fields too large.",
        "detail": f"The request has {len(answer.request.headers)} header fields; "
        "the mock reads at most 20 (--max-headers).",
    }


def test_header_fields_over_the_byte_limit_is_431() -> None:
    with _client() as client:
        answer = client.get("/api/v2/chats/x", headers={**ALICE, "x-big": "y" * 3000})
    assert answer.status_code == 431
    assert answer.json()["message"] == "Request header fields too large."
    assert answer.json()["detail"].endswith("the mock reads at most 2000 (--max-header-bytes).")


def test_a_message_over_the_content_limit_is_400_and_one_at_it_is_stored() -> None:
    with _client() as client:
        chat, before = _chat_with_a_message(client)
        # When the content is 101 bytes of UTF-8 (34 three-byte characters, not 101 characters)
        over = client.post(f"/api/v2/chats/{chat}/messages", json={"content": "€" * 34}, headers=ALICE)
        # Then
        assert over.status_code == 400
        assert over.json() == {
            "message": "content is too long",
            "detail": "content is 102 bytes; the mock takes at most 100 (--max-message-bytes).",
        }
        assert _unchanged(client, chat, before)
        # And at the limit it is taken
        at = client.post(f"/api/v2/chats/{chat}/messages", json={"content": "x" * 100}, headers=ALICE)
        assert at.status_code == 201


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"[" * 11 + b"]" * 11, "invalid character '[' exceeded max depth"),
        (
            b'{"provider":"p","model":"m","metadata":' + b'{"a":' * 10 + b"1" + b"}" * 11,
            "invalid character '{' exceeded max depth",
        ),
        # Far deeper than Python's own decoder goes: still Go's words, never "maximum recursion depth"
        (b"[" * 100_000, "invalid character '[' exceeded max depth"),
        # A syntax error before the nesting goes too deep is what Go reports first
        (b"[1, x, " + b"[" * 20, "invalid character 'x' looking for beginning of value"),
        # Never Python's "Exceeds the limit (4300 digits) for integer string conversion"
        (
            b'{"provider":"p","model":"m","metadata":' + b"9" * 5000 + b"}",
            f"json: cannot unmarshal number {'9' * 5000} into Go value of type float64",
        ),
        (
            b'{"provider":"p","model":"m","metadata":-1' + b"0" * 400 + b"}",
            f"json: cannot unmarshal number -1{'0' * 400} into Go value of type float64",
        ),
    ],
    ids=["array", "object", "100k deep", "syntax first", "5000 digits", "beyond float64"],
)
def test_bodies_too_deep_or_numbers_too_large_are_400_in_gos_words(raw: bytes, detail: str) -> None:
    limits = Limits(max_json_depth=10, max_body_bytes=1_000_000)
    with _client(limits) as client:
        answer = client.post("/api/v2/chats", content=raw, headers=ALICE)
        listed = client.get("/api/v2/chats/00000000-0000-0000-0000-000000000000", headers=ALICE)
    assert answer.status_code == 400
    assert answer.json() == {"message": INVALID_JSON, "detail": detail}
    assert listed.status_code == 404  # and nothing was created


def test_nesting_at_the_limit_and_a_large_integer_in_range_are_taken() -> None:
    with _client(Limits(max_json_depth=10)) as client:
        metadata = {"n": 10**300, "deep": [[[[[[[[1]]]]]]]]}  # body, metadata, 8 arrays: depth 10
        answer = client.post(
            "/api/v2/chats", json={"provider": "p", "model": "m", "metadata": metadata}, headers=ALICE
        )
    assert answer.status_code == 201
    assert answer.json()["metadata"] == metadata


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/api/v2/chats",
        "headers": headers,
        "query_string": b"",
    }


async def _reads_body(scope: Any, receive: Any, send: Any) -> None:
    """An app that reads its whole body, then answers 201 (were it ever to get that far)."""
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _refusal_of(layer: LimitsMiddleware, receive: Any) -> tuple[int, dict[str, str]]:
    """What the app's error handler answers (coder_error) for what the layer raises to the handler."""

    async def send(message: Any) -> None:
        raise AssertionError(f"nothing is answered before the body: {message}")  # pragma: no cover

    with pytest.raises(LimitExceeded) as caught:
        await layer(_scope([(b"content-length", b"100")]), receive, send)
    return coder_error(caught.value)


async def _stalled() -> dict[str, Any]:
    """The receive of a client that sent its headers and 10 bytes of a 100-byte body, then nothing."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")  # pragma: no cover


def test_a_stalled_body_is_408_once_its_timeout_passes() -> None:
    layer = LimitsMiddleware(_reads_body, limits=Limits(body_timeout=0.05), stopping=Stopping())
    # When the body never comes
    status, body = asyncio.run(_refusal_of(layer, _stalled))
    # Then
    assert status == 408
    assert body == (
        {
            "message": "Request body not received in time.",
            "detail": "The body did not arrive within 0.05 seconds (--body-timeout).",
        }
    )


def test_a_stalled_body_is_let_go_with_503_when_the_server_begins_to_stop() -> None:
    stopping = Stopping()
    layer = LimitsMiddleware(_reads_body, limits=Limits(body_timeout=3600), stopping=stopping)

    async def scenario() -> tuple[int, dict[str, str]]:
        refusal = asyncio.ensure_future(_refusal_of(layer, _stalled))
        await asyncio.sleep(0)  # the request is waiting for its body
        # When
        stopping.begin()
        return await refusal

    status, body = asyncio.run(scenario())
    # Then, long before the body timeout
    assert status == 503
    assert body == (
        {
            "message": "The server is shutting down.",
            "detail": "The request's body was still awaited when the server began to stop.",
        }
    )


def test_a_websocket_past_the_limit_is_503_before_the_upgrade() -> None:
    with _client() as client:
        chat, _ = _chat_with_a_message(client)
        path = f"/api/v2/chats/{chat}/messages/watch-ws"
        with client.websocket_connect(path, headers=dict(ALICE)) as first:
            first.receive_json()
            # When a second watcher comes while one is open (max_websockets=1)
            with (
                pytest.raises(WebSocketDenialResponse) as caught,
                client.websocket_connect(path, headers=dict(ALICE)),
            ):
                pass  # pragma: no cover - refused
    assert caught.value.status_code == 503
    assert caught.value.json() == {
        "message": "Too many concurrent connections.",
        "detail": "1 WebSockets are open; the mock serves at most 1 at once (--max-websockets).",
    }


def test_a_watcher_gets_a_going_away_close_when_the_server_begins_to_stop() -> None:
    stopping = Stopping()
    with _client(Limits(), stopping) as client:
        chat, _ = _chat_with_a_message(client)
        with client.websocket_connect(
            f"/api/v2/chats/{chat}/messages/watch-ws", headers=dict(ALICE)
        ) as socket:
            socket.receive_json()  # the backlog is streaming: the watcher is live
            # When
            stopping.begin()
            # Then
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    socket.receive_json()
    assert closed.value.code == 1001


def test_a_large_transcript_does_not_hold_a_small_request_behind_it() -> None:
    app = create_app(
        app_settings(), clock=SteppingClock(), new_id=seeded_uuids(4), scheduler=ImmediateScheduler()
    )

    async def scenario() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=ALICE) as http:
            big = (await http.post("/api/v2/chats", json={"provider": "p", "model": "m"})).json()["id"]
            small = (await http.post("/api/v2/chats", json={"provider": "p", "model": "m"})).json()["id"]
            for _ in range(40):  # 40 runs of ~12 kB: a transcript of a few MB
                await http.post(f"/api/v2/chats/{big}/messages", json={"content": "y" * 60_000})
            done: list[str] = []

            async def get(name: str, path: str) -> None:
                response = await http.get(path)
                assert response.status_code == 200
                done.append(name)

            # When the large list is asked first and a small GET right after it
            await asyncio.gather(
                get("large", f"/api/v2/chats/{big}/messages"), get("small", f"/api/v2/chats/{small}")
            )
            return done

    # Then the small one is answered while the large one is still being encoded
    assert asyncio.run(scenario()) == ["small", "large"]


def test_a_transcript_listed_in_pieces_is_the_same_bytes_as_one_encoding() -> None:
    with _client(Limits(max_message_bytes=200_000)) as client:
        chat = client.post("/api/v2/chats", json={"provider": "p", "model": "m"}, headers=ALICE).json()["id"]
        for text in ("<a & b>", "z" * 150_000, "\u2028"):
            client.post(f"/api/v2/chats/{chat}/messages", json={"content": text}, headers=ALICE)
        answer = client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE)
    assert "content-length" not in answer.headers  # it went out in pieces
    assert answer.content == encode_json(answer.json())


def test_a_websocket_whose_app_is_not_listening_is_closed_too_when_the_server_stops() -> None:
    stopping = Stopping()
    sent: list[dict[str, Any]] = []

    async def deaf(scope: Any, receive: Any, send: Any) -> None:
        """Accepts, then never reads again (only sends, were there anything)."""
        await receive()
        await send({"type": "websocket.accept"})
        await asyncio.Event().wait()

    layer = LimitsMiddleware(deaf, limits=Limits(), stopping=stopping)

    async def scenario() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        app = asyncio.ensure_future(layer({"type": "websocket", "headers": []}, receive, send))
        await asyncio.sleep(0)  # accepted
        # When
        stopping.begin()
        for _ in range(3):
            await asyncio.sleep(0)  # the stop callback, then the close it sends
        app.cancel()

    asyncio.run(scenario())
    # Then
    assert sent == [
        {"type": "websocket.accept"},
        {"type": "websocket.close", "code": 1001, "reason": "server stopping"},
    ]
