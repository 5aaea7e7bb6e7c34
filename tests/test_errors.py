"""Every row of WIRE.md's error table, to the letter, and the order in which coderd checks."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.edge.chat_param import ChatIds
from tests.conftest import ALICE, BOB

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
NOT_FOUND = {"message": "Resource not found or you do not have access to this resource"}
UNKNOWN_CHAT = "0967198e-ec7b-4c6b-b4d3-f71244cadbe9"
BOB_WORKSPACE = "fa1ff52b-ce2d-59c8-b162-26fcf0014304"


@pytest.fixture
def chat_id(client: TestClient) -> str:
    response = client.post("/api/v2/chats", json={"provider": "p", "model": "m"}, headers=ALICE)
    chat: dict[str, Any] = response.json()
    return str(chat["id"])


def assert_error(response: Any, status: int, body: dict[str, str]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == body


def test_no_session_token_is_401_with_coder_message(client: TestClient) -> None:
    detail = 'Cookie "coder_session_token" or query parameter must be provided.'
    for method, path in [("POST", "/api/v2/chats"), ("GET", f"/api/v2/chats/{UNKNOWN_CHAT}")]:
        assert_error(client.request(method, path), 401, {"message": SIGNED_OUT, "detail": detail})


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("nodash", "Invalid API key format: incorrect amount of API key parts, expected 2 got 1"),
        ("a-b-c", "Invalid API key format: incorrect amount of API key parts, expected 2 got 3"),
        (
            "short-AliceDemoSessionSecret",
            "Invalid API key format: invalid API key ID length, expected 10 got 5",
        ),
        ("alice00001-short", "Invalid API key format: invalid API key secret length, expected 22 got 5"),
        ("unknown001-AliceDemoSessionSecret", "API key is invalid."),
        ("alice00001-WrongDemoSessionSecret", "API key secret is invalid."),
    ],
)
def test_bad_session_token_is_401_saying_why(client: TestClient, token: str, detail: str) -> None:
    response = client.get(f"/api/v2/chats/{UNKNOWN_CHAT}", headers={"Coder-Session-Token": token})
    assert_error(response, 401, {"message": SIGNED_OUT, "detail": detail})


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/messages"), ("POST", "/messages")],
    ids=["get", "list", "post"],
)
@pytest.mark.parametrize(
    ("raw", "detail"),
    [("abc", "invalid UUID length: 3"), ("0967198e-ec7b-4c6b-b4d3-f71244cadbeZ", "invalid UUID format")],
)
def test_chat_not_a_uuid_is_400_quoting_the_raw_value(
    client: TestClient, method: str, suffix: str, raw: str, detail: str
) -> None:
    response = client.request(method, f"/api/v2/chats/{raw}{suffix}", headers=ALICE, json={"content": "x"})
    assert_error(response, 400, {"message": f'Invalid UUID "{raw}".', "detail": detail})


def test_a_chat_spelling_is_answered_alike_however_often_it_is_sent(client: TestClient, chat_id: str) -> None:
    # Go's uuid.Parse takes upper case, a urn: prefix and any first and last byte around 36
    spellings = [chat_id, chat_id.upper(), f"urn:uuid:{chat_id}", f"x{chat_id}y", "abc", chat_id[:-1] + "g"]

    answers = [
        [
            (r.status_code, r.json())
            for r in (client.get(f"/api/v2/chats/{s}", headers=ALICE) for s in spellings)
        ]
        for _ in range(3)
    ]

    assert answers[0] == answers[1] == answers[2]
    assert [status for status, _ in answers[0]] == [200, 200, 200, 200, 400, 400]
    assert {body["id"] for status, body in answers[0] if status == 200} == {chat_id}


def test_chat_ids_past_the_remembered_ones_still_parse() -> None:
    ids = ChatIds(size=1)

    first, second = (ids.parse(raw) for raw in (UNKNOWN_CHAT, BOB_WORKSPACE))

    assert (str(first), str(second)) == (UNKNOWN_CHAT, BOB_WORKSPACE)
    assert ids.parse(BOB_WORKSPACE.upper()) == second
    with pytest.raises(ValueError, match="invalid UUID length: 3"):
        ids.parse("abc")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/messages"), ("POST", "/messages")],
    ids=["get", "list", "post"],
)
def test_unknown_or_other_users_chat_is_404_without_detail(
    client: TestClient, chat_id: str, method: str, suffix: str
) -> None:
    for headers, chat in [(ALICE, UNKNOWN_CHAT), (BOB, chat_id)]:
        response = client.request(
            method, f"/api/v2/chats/{chat}{suffix}", headers=headers, json={"content": "x"}
        )
        assert_error(response, 404, NOT_FOUND)


def test_unknown_workspace_is_404(client: TestClient) -> None:
    body = {"provider": "p", "model": "m", "workspace_id": UNKNOWN_CHAT}
    assert_error(client.post("/api/v2/chats", json=body, headers=ALICE), 404, NOT_FOUND)


def test_workspace_of_another_user_is_403(client: TestClient) -> None:
    body = {"provider": "p", "model": "m", "workspace_id": BOB_WORKSPACE}
    detail = (
        "You don't have permission to view this content. If you believe this is a mistake, "
        "please contact your administrator or try signing in with different credentials."
    )
    assert_error(
        client.post("/api/v2/chats", json=body, headers=ALICE),
        403,
        {"message": "Forbidden.", "detail": detail},
    )


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"", "EOF"),
        (b'{"provider": "p",', "unexpected EOF"),
        (b"[1]", "json: cannot unmarshal array into Go value of type codersdk.CreateChatRequest"),
        (b'"text"', "json: cannot unmarshal string into Go value of type codersdk.CreateChatRequest"),
        (b"12", "json: cannot unmarshal number into Go value of type codersdk.CreateChatRequest"),
        (
            b'{"provider": 1, "model": "m"}',
            "json: cannot unmarshal number into Go struct field CreateChatRequest.provider of type string",
        ),
        (b'{"provider": "p", "model": "m", "workspace_id": "zzz"}', "invalid UUID length: 3"),
        (
            b'{"provider": "p", "model": "m", "title": ["t"]}',
            "json: cannot unmarshal array into Go struct field CreateChatRequest.title of type string",
        ),
    ],
)
def test_body_not_valid_json_or_wrong_type_is_400(client: TestClient, raw: bytes, detail: str) -> None:
    response = client.post("/api/v2/chats", content=raw, headers=ALICE)
    assert_error(response, 400, {"message": "Request body must be valid JSON.", "detail": detail})


@pytest.mark.parametrize(
    "raw",
    [b"{}", b"null", b'{"provider": "p"}', b'{"model": "m"}', b'{"provider": "", "model": "m"}',
     b'{"provider": null, "model": "m"}'],
)  # fmt: skip
def test_missing_or_empty_provider_or_model_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/v2/chats", content=raw, headers=ALICE)
    assert_error(response, 400, {"message": "provider and model are required"})


@pytest.mark.parametrize("raw", [b"{}", b"null", b'{"content": ""}', b'{"content": null}'])
def test_missing_or_empty_content_is_400(client: TestClient, chat_id: str, raw: bytes) -> None:
    response = client.post(f"/api/v2/chats/{chat_id}/messages", content=raw, headers=ALICE)
    assert_error(response, 400, {"message": "content is required"})


def test_unknown_route_is_404_route_not_found(client: TestClient) -> None:
    assert_error(client.get("/api/v2/nothing-here"), 404, {"message": "Route not found."})
    assert_error(client.get("/api/v2/chats/a/b/c", headers=ALICE), 404, {"message": "Route not found."})


def test_wrong_method_is_405_with_every_allowed_method(client: TestClient, chat_id: str) -> None:
    response = client.delete(f"/api/v2/chats/{chat_id}/messages", headers=ALICE)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}


# The order of checks: authentication, then {chat} (parse, then lookup), then the body, then fields.


def test_authentication_comes_before_the_chat_parameter(client: TestClient) -> None:
    assert client.post("/api/v2/chats/abc/messages", content=b"{").status_code == 401


def test_chat_parameter_comes_before_the_body(client: TestClient, chat_id: str) -> None:
    response = client.post("/api/v2/chats/abc/messages", content=b"{", headers=ALICE)
    assert response.json()["message"] == 'Invalid UUID "abc".'
    # an unknown or foreign chat is found missing before the body is read, as httpmw.ExtractChatParam does
    assert (
        client.post(f"/api/v2/chats/{UNKNOWN_CHAT}/messages", content=b"{", headers=ALICE).status_code == 404
    )
    assert client.post(f"/api/v2/chats/{chat_id}/messages", content=b"{", headers=BOB).status_code == 404


def test_body_type_errors_come_before_missing_fields(client: TestClient) -> None:
    response = client.post("/api/v2/chats", json={"provider": 1}, headers=ALICE)
    assert response.json()["message"] == "Request body must be valid JSON."


def test_field_checks_come_before_the_workspace_lookup(client: TestClient) -> None:
    response = client.post("/api/v2/chats", json={"model": "m", "workspace_id": UNKNOWN_CHAT}, headers=ALICE)
    assert response.json() == {"message": "provider and model are required"}


@pytest.mark.parametrize(
    ("headers", "raw"),
    [
        ({}, b'{"provider": "p", "model": "m"}'),  # no Content-Type: Go reads JSON anyway
        ({"Content-Type": "text/plain"}, b'{"provider": "p", "model": "m"}'),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b'{"provider": "p", "model": "m"}'),
        ({"Content-Type": "application/json"}, b'{"provider": "\xff\xfe", "model": "m"}'),  # invalid UTF-8
        (
            {"Content-Type": "application/json"},
            b'{"provider": "\\udc00", "model": "m", "metadata": "\\ud800"}',
        ),
    ],
)
def test_odd_but_readable_bodies_are_created_as_go_reads_them(
    client: TestClient, headers: dict[str, str], raw: bytes
) -> None:
    response = client.post("/api/v2/chats", content=raw, headers={**ALICE, **headers})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "raw",
    [b"\xff", b"{" * 5000, b'{"provider": "p", "model": "m", "metadata": 1e400}', b"\x00", b'{"a":1}' * 1000],
)
def test_hostile_bodies_never_get_a_5xx(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/v2/chats", content=raw, headers=ALICE)
    assert 400 <= response.status_code < 500 or response.status_code == 201, response.text
    # and nothing half-made was stored
    assert client.get(f"/api/v2/chats/{UNKNOWN_CHAT}", headers=ALICE).status_code == 404
