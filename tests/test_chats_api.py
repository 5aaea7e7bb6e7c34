"""The four operations behave as WIRE.md sections 1, 3 and 4 say."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ALICE, BOB

SYSTEM_PROMPT = {"type": "system_prompt", "content": "You are a helpful assistant."}


def create_chat(client: TestClient, headers: dict[str, str] = ALICE, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v2/chats", json={"provider": "anthropic", "model": "m", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    chat: dict[str, Any] = response.json()
    return chat


def test_create_chat_echoes_the_docs_example_body_with_wire_shapes(client: TestClient) -> None:
    # When the docs page's own example body is posted
    docs_body = {"metadata": [0], "model": "string", "provider": "string", "title": "string"}
    response = client.post("/api/v2/chats", json=docs_body, headers=ALICE)
    # Then the chat comes back as the wire has it, fields in Go's order
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    chat = response.json()
    assert list(chat) == [
        "id", "created_at", "updated_at", "organization_id", "owner_id", "workspace_id",
        "title", "provider", "model", "metadata",
    ]  # fmt: skip
    assert chat["metadata"] == [0]
    assert chat["workspace_id"] is None
    assert chat["created_at"] == chat["updated_at"]
    assert chat["created_at"].endswith("Z")


def test_create_chat_omits_empty_or_null_title(client: TestClient) -> None:
    assert "title" not in create_chat(client)
    assert "title" not in create_chat(client, title="")
    assert "title" not in create_chat(client, title=None)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ({}, {}),  # omitted is {}
        ({"metadata": None}, None),  # explicit null is null
        ({"metadata": {"scenario": "echo", "n": [1, 2.5, True]}}, {"scenario": "echo", "n": [1, 2.5, True]}),
        ({"metadata": "text"}, "text"),
        ({"metadata": 7}, 7),
    ],
)
def test_metadata_is_any_json_value_and_reads_back(
    client: TestClient, sent: dict[str, Any], stored: Any
) -> None:
    chat = create_chat(client, **sent)
    assert chat["metadata"] == stored
    assert client.get(f"/api/v2/chats/{chat['id']}", headers=ALICE).json()["metadata"] == stored


def test_create_chat_accepts_unknown_fields(client: TestClient) -> None:
    assert create_chat(client, surprise={"a": 1})["provider"] == "anthropic"


def test_create_chat_with_own_workspace_returns_its_id(client: TestClient) -> None:
    workspace = "9d31ba28-32c5-539c-b384-527e7adfb454"  # alice's demo workspace, printed by `serve`
    assert create_chat(client, workspace_id=workspace)["workspace_id"] == workspace


def test_get_chat_reads_back_what_was_created(client: TestClient) -> None:
    chat = create_chat(client, title="T", metadata={"k": "v"})
    response = client.get(f"/api/v2/chats/{chat['id']}", headers=ALICE)
    assert response.status_code == 200
    assert response.json() == chat


def test_new_chat_transcript_is_the_system_prompt(client: TestClient) -> None:
    chat = create_chat(client)
    messages = client.get(f"/api/v2/chats/{chat['id']}/messages", headers=ALICE).json()
    assert [(m["role"], m["content"]) for m in messages] == [("system", SYSTEM_PROMPT)]
    assert list(messages[0]) == ["chat_id", "id", "created_at", "role", "content"]


def test_post_message_answers_201_with_the_stored_user_message(client: TestClient) -> None:
    chat = create_chat(client)
    response = client.post(f"/api/v2/chats/{chat['id']}/messages", json={"content": "Hello"}, headers=ALICE)
    assert response.status_code == 201
    body = response.json()
    assert list(body) == ["run_id", "message"]
    assert body["message"]["role"] == "user"
    assert body["message"]["content"] == {
        "type": "message",
        "run_id": body["run_id"],
        "message": {"id": "", "content": "", "role": "user", "parts": [{"type": "text", "text": "Hello"}]},
    }


def test_transcript_grows_with_the_agent_run_after_a_post(client: TestClient) -> None:
    chat = create_chat(client)
    # When a message is posted (the scheduler in these tests completes runs at once)
    posted = client.post(f"/api/v2/chats/{chat['id']}/messages", json={"content": "Hi"}, headers=ALICE).json()
    # Then the list holds the system prompt, the user message and the run's rows, by id ascending
    messages = client.get(f"/api/v2/chats/{chat['id']}/messages", headers=ALICE).json()
    assert messages[1] == posted["message"]
    run = [(m["role"], m["content"]["type"], m["content"].get("event")) for m in messages[2:]]
    assert run == [
        ("system", "stream_event", "run_started"),
        ("assistant", "message", None),
        ("system", "stream_event", "usage"),
        ("system", "stream_event", "run_finished"),
    ]
    assert all(m["content"]["run_id"] == posted["run_id"] for m in messages[1:])
    assert messages[-1]["content"]["finish_reason"] == "stop"
    ids = [m["id"] for m in messages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_message_ids_come_from_one_global_sequence(client: TestClient) -> None:
    first, second = create_chat(client), create_chat(client)
    ids_first = [m["id"] for m in client.get(f"/api/v2/chats/{first['id']}/messages", headers=ALICE).json()]
    ids_second = [m["id"] for m in client.get(f"/api/v2/chats/{second['id']}/messages", headers=ALICE).json()]
    assert ids_first == [1] and ids_second == [2]


def test_whitespace_only_content_is_accepted(client: TestClient) -> None:
    chat = create_chat(client)
    response = client.post(f"/api/v2/chats/{chat['id']}/messages", json={"content": "   "}, headers=ALICE)
    assert response.status_code == 201


def test_chat_of_another_user_is_404_on_every_operation(client: TestClient) -> None:
    chat = create_chat(client, headers=ALICE)
    path = f"/api/v2/chats/{chat['id']}"
    not_found = {"message": "Resource not found or you do not have access to this resource"}
    assert client.get(path, headers=BOB).json() == not_found
    assert client.get(f"{path}/messages", headers=BOB).status_code == 404
    assert client.post(f"{path}/messages", json={"content": "x"}, headers=BOB).status_code == 404
    # and nothing was written to alice's transcript
    assert len(client.get(f"{path}/messages", headers=ALICE).json()) == 1


@pytest.mark.parametrize(
    "auth",
    [
        {"headers": {"Cookie": "coder_session_token=alice00001-AliceDemoSessionSecret"}},
        {"params": {"coder_session_token": "alice00001-AliceDemoSessionSecret"}},
        {"headers": {"Authorization": "Bearer alice00001-AliceDemoSessionSecret"}},
        {"headers": ALICE},
    ],
    ids=["cookie", "query", "bearer", "header"],
)
def test_session_token_is_read_from_every_form_coder_reads(client: TestClient, auth: dict[str, Any]) -> None:
    chat = create_chat(client)
    assert client.get(f"/api/v2/chats/{chat['id']}", **auth).status_code == 200


def test_cookie_token_wins_over_the_header(client: TestClient) -> None:
    # coderd reads the cookie first: a bad cookie is a 401 even with a good header
    client.cookies.set("coder_session_token", "bob0000001-WrongSecretWrongSecret")
    response = client.get("/api/v2/chats/0967198e-ec7b-4c6b-b4d3-f71244cadbe9", headers=ALICE)
    assert response.status_code == 401
    assert response.json()["detail"] == "API key secret is invalid."


def test_swagger_ui_serves_the_document(client: TestClient) -> None:
    assert client.get("/api/v2/ui/").status_code == 200
    assert client.get("/api/v2/openapi.json").json()["info"]["title"] == "Coder Chats API"
