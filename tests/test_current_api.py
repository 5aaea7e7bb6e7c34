"""Today's Chats API route by route: shapes, paging, and every error row of openapi/current/WIRE.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from mockserver.current.catalog import ModelCatalog
from tests.current_support import ALICE, BOB, ORG, Current, current_mock, text, text_of

CATALOG = ModelCatalog(DEFAULT_ORGANIZATION_ID)
NIL = "00000000-0000-0000-0000-000000000000"
ALICE_WORKSPACE = "9d31ba28-32c5-539c-b384-527e7adfb454"
BOB_WORKSPACE = "fa1ff52b-ce2d-59c8-b162-26fcf0014304"
# The fields Go sends on every message part (no omitempty), with their value when unused.
ALWAYS_SENT = {
    "text": "",
    "mcp_server_config_id": None,
    "url": "",
    "media_type": "",
    "file_id": None,
    "file_name": "",
    "start_line": 0,
    "end_line": 0,
    "content": "",
    "context_file_path": "",
    "context_file_agent_id": None,
    "skill_name": "",
}


@pytest.fixture
def mock() -> Iterator[Current]:
    with current_mock() as current:
        yield current


def error(response: Any) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()


# --- shapes ---------------------------------------------------------------------------------


def test_a_chat_has_the_go_fields_in_go_order(mock: Current) -> None:
    chat = mock.create("Hello", labels={"team": "build"})
    assert list(chat) == [
        "id",
        "organization_id",
        "owner_id",
        "last_model_config_id",
        "title",
        "status",
        "last_turn_summary",
        "summary",
        "created_at",
        "updated_at",
        "archived",
        "shared",
        "pin_order",
        "mcp_server_ids",
        "labels",
        "has_unread",
        "client_type",
        "children",
    ]
    assert chat["title"] == "Hello"
    assert chat["last_model_config_id"] == str(CATALOG.default.id)
    assert chat["labels"] == {"team": "build"}
    assert (chat["children"], chat["client_type"], chat["has_unread"]) == ([], "api", False)
    mock.finish()
    assert mock.chat(chat["id"])["has_unread"] is True  # the read cursor moves only with a stream


def test_one_scenario_file_becomes_assistant_and_tool_messages(mock: Current) -> None:
    # The built-in tool-use scenario (the same file the seed's API plays as V1 rows)
    chat = mock.create("/tool-use please")
    mock.finish()
    roles = [m["role"] for m in mock.transcript(chat["id"])]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    _, step0, results0, step1, results1, answer = mock.transcript(chat["id"])
    assert [p["type"] for p in step0["content"]] == ["reasoning", "tool-call"]
    call = step0["content"][1]
    assert (call["tool_name"], call["args"]) == ("list_files", {"path": "."})
    result = results0["content"][0]
    assert result["type"] == "tool-result"
    assert (result["tool_call_id"], result["result"]) == (
        call["tool_call_id"],
        ["README.md", "main.go", "go.mod"],
    )
    assert "is_error" not in result
    assert results1["content"][0]["is_error"] is True
    assert step1["usage"] == {
        "input_tokens": 910,
        "output_tokens": 19,
        "total_tokens": 929,
        "context_limit": 200000,
    }
    assert step0["usage"]["reasoning_tokens"] == 8
    assert text_of(answer) == "The workspace has three files. I could not read main.go: permission denied."
    for message in (step0, results0, answer):
        for part in message["content"]:
            assert {k: part[k] for k in ALWAYS_SENT if k != "text" and k != "content"} == {
                k: v for k, v in ALWAYS_SENT.items() if k != "text" and k != "content"
            }
            assert ("created_at" in part) == (part["type"] in ("reasoning", "tool-call", "tool-result"))
    user = mock.transcript(chat["id"])[0]
    assert user["created_by"] == chat["owner_id"]
    assert user["model_config_id"] == str(CATALOG.default.id)
    assert user["content"] == [
        {"type": "text", "text": "/tool-use please", **{k: v for k, v in ALWAYS_SENT.items() if k != "text"}}
    ]


def test_a_text_part_is_stored_trimmed_and_its_type_read_in_any_case(mock: Current) -> None:
    chat = mock.create("x")
    response = mock.client.post(
        f"/api/v2/chats/{chat['id']}/messages",
        headers=ALICE,
        json={"CONTENT": [{"Type": " TEXT\t", "text": "  spaced  "}]},
    )
    assert response.status_code == 200
    assert mock.messages(chat["id"])["queued_messages"][0]["content"][0]["text"] == "spaced"


def test_models_list_by_name_or_id(mock: Current) -> None:
    for organization in ("coder", ORG):
        response = mock.client.get(f"/api/v2/organizations/{organization}/chats/models", headers=ALICE)
        assert response.status_code == 200
        body = response.json()
        assert [m["model"] for m in body["models"]] == ["claude-sonnet-4-5", "gpt-5"]
        assert [m["is_default"] for m in body["models"]] == [True, False]
        assert body["unsupported_providers"] == []
    missing = mock.client.get("/api/v2/organizations/acme/chats/models", headers=ALICE)
    assert error(missing) == (
        404,
        {"message": "Resource not found or you do not have access to this resource"},
    )


def test_create_with_a_model_config_runs_on_it(mock: Current) -> None:
    gpt = str(CATALOG.models[1].id)
    chat = mock.create("x", model_config_id=gpt)
    assert chat["last_model_config_id"] == gpt


# --- paging ---------------------------------------------------------------------------------


def _chat_with_messages(mock: Current, sends: int) -> tuple[str, list[int]]:
    chat = mock.create("m0")
    mock.finish()
    for index in range(1, sends + 1):
        mock.send(chat["id"], f"m{index}")
        mock.finish()
    return chat["id"], [m["id"] for m in mock.transcript(chat["id"])]


def test_messages_page_newest_first_with_has_more(mock: Current) -> None:
    chat_id, ids = _chat_with_messages(mock, 2)  # 6 messages
    page = mock.messages(chat_id, "?limit=4")
    assert [m["id"] for m in page["messages"]] == ids[::-1][:4]
    assert page["has_more"] is True
    rest = mock.messages(chat_id, f"?before_id={ids[2]}&limit=4")
    assert [m["id"] for m in rest["messages"]] == [ids[1], ids[0]]
    assert rest["has_more"] is False
    # exactly one page
    assert mock.messages(chat_id, "?limit=6")["has_more"] is False
    # default 50, maximum 200
    assert len(mock.messages(chat_id)["messages"]) == 6
    assert len(mock.messages(chat_id, "?limit=200")["messages"]) == 6


def test_messages_after_id_alone_pages_ascending(mock: Current) -> None:
    chat_id, ids = _chat_with_messages(mock, 2)
    page = mock.messages(chat_id, f"?after_id={ids[1]}&limit=2")
    assert [m["id"] for m in page["messages"]] == ids[2:4]
    assert page["has_more"] is True
    both = mock.messages(chat_id, f"?after_id={ids[0]}&before_id={ids[4]}&limit=2")
    assert [m["id"] for m in both["messages"]] == [ids[3], ids[2]]
    assert both["has_more"] is True


def test_messages_edges_empty_ranges_and_unknown_ids(mock: Current) -> None:
    chat_id, ids = _chat_with_messages(mock, 0)
    assert mock.messages(chat_id, f"?after_id={ids[-1]}") == {
        "messages": [],
        "queued_messages": [],
        "has_more": False,
    }
    assert mock.messages(chat_id, f"?before_id={ids[0]}")["messages"] == []
    beyond = mock.messages(chat_id, "?before_id=9223372036854775807")
    assert [m["id"] for m in beyond["messages"]] == ids[::-1]


def test_queued_messages_only_on_the_first_page(mock: Current) -> None:
    chat = mock.create("/slow x")
    mock.send(chat["id"], "queued")
    first_id = mock.transcript(chat["id"])[0]["id"]
    assert len(mock.messages(chat["id"])["queued_messages"]) == 1
    assert mock.messages(chat["id"], f"?before_id={first_id + 100}")["queued_messages"] == []
    assert mock.messages(chat["id"], f"?after_id={first_id}")["queued_messages"] == []
    # a cursor of 0 is no cursor: the first page, with the queue
    assert len(mock.messages(chat["id"], "?after_id=0&before_id=0")["queued_messages"]) == 1


def test_list_chats_paging_and_filters(mock: Current) -> None:
    first = mock.create("alpha one", labels={"team": "a"})
    second = mock.create("beta two", labels={"team": "b"})
    third = mock.create("alpha three")
    ids = [c["id"] for c in mock.client.get("/api/v2/chats", headers=ALICE).json()]
    assert ids == [third["id"], second["id"], first["id"]]  # most recently updated first
    assert mock.patch(first["id"], pin_order=5).status_code == 204
    ids = [c["id"] for c in mock.client.get("/api/v2/chats", headers=ALICE).json()]
    assert ids[0] == first["id"]  # pinned first
    assert mock.chat(first["id"])["pin_order"] == 1  # a new pin goes last: position 1 of 1
    page = mock.client.get("/api/v2/chats?limit=1&offset=1", headers=ALICE).json()
    assert [c["id"] for c in page] == [ids[1]]
    after = mock.client.get(f"/api/v2/chats?after_id={ids[1]}", headers=ALICE).json()
    assert [c["id"] for c in after] == ids[2:]
    unknown = mock.client.get(f"/api/v2/chats?after_id={NIL}", headers=ALICE).json()
    assert unknown == []
    titled = mock.client.get("/api/v2/chats?q=title:ALPHA", headers=ALICE).json()
    assert {c["id"] for c in titled} == {first["id"], third["id"]}
    labelled = mock.client.get("/api/v2/chats?label=team:b", headers=ALICE).json()
    assert [c["id"] for c in labelled] == [second["id"]]
    assert mock.client.get("/api/v2/chats", headers=BOB).json() == []


# --- update ---------------------------------------------------------------------------------


def test_update_renames_pins_and_labels(mock: Current) -> None:
    chat = mock.create("x")
    assert (
        mock.patch(chat["id"], title="  Flaky build  ", labels={"k": "v"}, plan_mode="plan").status_code
        == 204
    )
    updated = mock.chat(chat["id"])
    assert (updated["title"], updated["labels"], updated["plan_mode"]) == ("Flaky build", {"k": "v"}, "plan")
    assert mock.patch(chat["id"], workspace_id=ALICE_WORKSPACE).status_code == 204
    assert mock.chat(chat["id"])["workspace_id"] == ALICE_WORKSPACE
    assert mock.patch(chat["id"], workspace_id=NIL).status_code == 204
    assert "workspace_id" not in mock.chat(chat["id"])
    assert mock.patch(chat["id"], pin_order=1).status_code == 204
    assert mock.patch(chat["id"], pin_order=0).status_code == 204
    assert mock.chat(chat["id"])["pin_order"] == 0


def test_refused_update_changes_nothing(mock: Current) -> None:
    chat = mock.create("x")
    mock.finish()
    mock.patch(chat["id"], archived=True)
    before = mock.chat(chat["id"])
    # coderd would have renamed the chat before refusing the archive; the mock checks first
    response = mock.patch(chat["id"], title="renamed", archived=True)
    assert error(response) == (400, {"message": "Chat is already archived."})
    assert mock.chat(chat["id"]) == before


# --- every error row of WIRE.md section 5 ---------------------------------------------------


def _archived(mock: Current) -> str:
    chat = mock.create("x")
    mock.finish()
    assert mock.patch(chat["id"], archived=True).status_code == 204
    return str(chat["id"])


CREATE_ERRORS = [
    ({"content": text("x")}, 400, {"message": "organization_id is required."}),
    ({"organization_id": NIL, "content": text("x")}, 400, {"message": "organization_id is required."}),
    (
        {"organization_id": "11111111-1111-1111-1111-111111111111", "content": text("x")},
        403,
        {"message": "You are not a member of the specified organization."},
    ),
    (
        {"organization_id": ORG},
        400,
        {"message": "Content is required.", "detail": "Content cannot be empty."},
    ),
    (
        {"organization_id": ORG, "content": []},
        400,
        {"message": "Content is required.", "detail": "Content cannot be empty."},
    ),
    (
        {"organization_id": ORG, "content": [{"type": "text", "text": " \t"}]},
        400,
        {"message": "Invalid input part.", "detail": "content[0].text cannot be empty."},
    ),
    (
        {"organization_id": ORG, "content": [{"type": "image"}]},
        400,
        {"message": "Invalid input part.", "detail": 'content[0].type "image" is not supported.'},
    ),
    (
        {"organization_id": ORG, "content": [*text("x"), {"type": "file"}]},
        400,
        {"message": "Invalid input part.", "detail": "content[1].file_id is required for file parts."},
    ),
    (
        {"organization_id": ORG, "content": [{"type": "file", "file_id": ALICE_WORKSPACE}]},
        400,
        {
            "message": "Invalid input part.",
            "detail": "content[0].file_id references a file that does not exist.",
        },
    ),
    (
        {"organization_id": ORG, "content": [{"type": "file-reference"}]},
        400,
        {
            "message": "Invalid input part.",
            "detail": "content[0].file_name cannot be empty for file-reference.",
        },
    ),
    (
        {"organization_id": ORG, "content": text("x"), "workspace_id": BOB_WORKSPACE},
        400,
        {"message": "Workspace not found or you do not have access to this resource"},
    ),
    (
        {"organization_id": ORG, "content": text("x"), "model_config_id": NIL},
        400,
        {"message": "Invalid model config ID."},
    ),
    (
        {"organization_id": ORG, "content": text("x"), "model_config_id": ALICE_WORKSPACE},
        400,
        {"message": "Invalid model_config_id: model config not found or disabled."},
    ),
    (
        {"organization_id": ORG, "content": text("x"), "plan_mode": "act"},
        400,
        {"message": "Invalid plan_mode value."},
    ),
    (
        {"organization_id": ORG, "content": text("x"), "mcp_server_ids": [NIL, NIL]},
        400,
        {"message": "One or more MCP server IDs are invalid or disabled.", "detail": f"Invalid IDs: {NIL}"},
    ),
    (
        {"organization_id": ORG, "content": text("x"), "client_type": "cli"},
        400,
        {"message": "Invalid client_type.", "detail": 'got "cli", want one of [ui api]'},
    ),
    (
        {"organization_id": ORG, "content": text("x"), "reasoning_effort": "huge"},
        400,
        {
            "message": "Invalid reasoning_effort value.",
            "detail": 'Invalid value "huge", must be one of none, minimal, low, medium, high, xhigh, max',
        },
    ),
    ({"organization_id": 5, "content": text("x")}, 400, None),
]


@pytest.mark.parametrize(("body", "status", "expected"), CREATE_ERRORS)
def test_create_chat_errors(
    mock: Current, body: dict[str, Any], status: int, expected: dict[str, Any] | None
) -> None:
    response = mock.client.post("/api/v2/chats", headers=ALICE, json=body)
    assert response.status_code == status
    if expected is None:
        assert response.json()["message"] == "Request body must be valid JSON."
    else:
        assert response.json() == expected
    assert mock.client.get("/api/v2/chats", headers=ALICE).json() == []  # nothing stored


def test_create_chat_body_not_json(mock: Current) -> None:
    response = mock.client.post("/api/v2/chats", headers=ALICE, content=b"{")
    assert error(response) == (
        400,
        {"message": "Request body must be valid JSON.", "detail": "unexpected EOF"},
    )


def test_authentication_and_chat_param_errors(mock: Current) -> None:
    chat = mock.create("x")
    assert mock.client.get(f"/api/v2/chats/{chat['id']}").status_code == 401
    assert error(mock.client.get(f"/api/v2/chats/{chat['id']}", headers=BOB)) == (
        404,
        {"message": "Resource not found or you do not have access to this resource"},
    )
    assert error(mock.client.get("/api/v2/chats/abc", headers=ALICE)) == (
        400,
        {"message": 'Invalid UUID "abc".', "detail": "invalid UUID length: 3"},
    )


LIST_CHATS_ERRORS = [
    (
        "?limit=x",
        {
            "message": "Query parameters have invalid values.",
            "validations": [
                {
                    "field": "limit",
                    "detail": 'Query param "limit" must be a valid integer: strconv.Atoi: parsing "x": invalid syntax',
                }
            ],
        },
    ),
    (
        "?after_id=nope",
        {
            "message": "Query parameters have invalid values.",
            "validations": [{"field": "after_id", "detail": 'Query param "after_id" must be a valid uuid'}],
        },
    ),
    (
        "?offset=-1",
        {
            "message": "Query parameters have invalid values.",
            "validations": [
                {"field": "offset", "detail": 'Query param "offset" must be between 0 and 2147483647'}
            ],
        },
    ),
    (
        "?q=hello",
        {
            "message": "Invalid chat search query.",
            "validations": [{"field": "q", "detail": 'unsupported search term: "hello"'}],
        },
    ),
    (
        "?label=team",
        {"message": 'Invalid label filter: "team" (expected format key:value, both must be non-empty)'},
    ),
    (
        "?label=:x",
        {"message": 'Invalid label filter: ":x" (expected format key:value, both must be non-empty)'},
    ),
]


@pytest.mark.parametrize(("query", "expected"), LIST_CHATS_ERRORS)
def test_list_chats_errors(mock: Current, query: str, expected: dict[str, Any]) -> None:
    assert error(mock.client.get(f"/api/v2/chats{query}", headers=ALICE)) == (400, expected)


MESSAGES_ERRORS = [
    ("?limit=0", {"message": "Invalid limit parameter (1-200)."}),
    ("?limit=201", {"message": "Invalid limit parameter (1-200)."}),
    (
        "?limit=x",
        {
            "message": "Query parameters have invalid values.",
            "validations": [
                {
                    "field": "limit",
                    "detail": 'Query param "limit" must be a valid 32-bit positive integer: strconv.ParseInt: parsing "x": invalid syntax',
                }
            ],
        },
    ),
    (
        "?before_id=-1",
        {
            "message": "Query parameters have invalid values.",
            "validations": [
                {
                    "field": "before_id",
                    "detail": 'Query param "before_id" must be a valid 64-bit positive integer: value is negative',
                }
            ],
        },
    ),
    (
        "?after_id=1&after_id=2",
        {
            "message": "Query parameters have invalid values.",
            "validations": [
                {
                    "field": "after_id",
                    "detail": 'Query param "after_id" provided more than once, found 2 times. '
                    "Only provide 1 instance of this query param.",
                }
            ],
        },
    ),
    ("?after_id=5&before_id=5", {"message": "after_id must be less than before_id."}),
]


@pytest.mark.parametrize(("query", "expected"), MESSAGES_ERRORS)
def test_list_messages_errors(mock: Current, query: str, expected: dict[str, Any]) -> None:
    chat = mock.create("x")
    assert error(mock.client.get(f"/api/v2/chats/{chat['id']}/messages{query}", headers=ALICE)) == (
        400,
        expected,
    )


SEND_ERRORS = [
    ({"content": []}, 400, {"message": "Content is required.", "detail": "Content cannot be empty."}),
    (
        {"content": text("x"), "busy_behavior": "wait"},
        400,
        {"message": "Invalid busy_behavior value.", "detail": 'Must be "queue" or "interrupt".'},
    ),
    ({"content": text("x"), "plan_mode": "act"}, 400, {"message": "Invalid plan_mode value."}),
    (
        {"content": text("x"), "model_config_id": ALICE_WORKSPACE},
        400,
        {"message": "Invalid model_config_id: model config not found or disabled."},
    ),
    (
        {"content": text("x"), "mcp_server_ids": [ALICE_WORKSPACE]},
        400,
        {
            "message": "One or more MCP server IDs are invalid or disabled.",
            "detail": f"Invalid IDs: {ALICE_WORKSPACE}",
        },
    ),
    ({"content": "x"}, 400, None),
]


@pytest.mark.parametrize(("body", "status", "expected"), SEND_ERRORS)
def test_send_errors(
    mock: Current, body: dict[str, Any], status: int, expected: dict[str, Any] | None
) -> None:
    chat = mock.create("/slow x")
    response = mock.client.post(f"/api/v2/chats/{chat['id']}/messages", headers=ALICE, json=body)
    assert response.status_code == status
    if expected is None:
        assert response.json()["message"] == "Request body must be valid JSON."
    else:
        assert response.json() == expected
    assert mock.messages(chat["id"])["queued_messages"] == []


def test_send_with_the_nil_model_config_keeps_the_chats_model(mock: Current) -> None:
    chat = mock.create("x")
    mock.finish()
    body = mock.send(chat["id"], "y", model_config_id=NIL).json()
    assert body["message"]["model_config_id"] == str(CATALOG.default.id)


def test_send_to_a_full_queue_is_429() -> None:
    with current_mock(queue_limit=2) as mock:
        chat = mock.create("/slow x")
        assert mock.send(chat["id"], "one").status_code == 200
        assert mock.send(chat["id"], "two").status_code == 200
        full = mock.send(chat["id"], "three")
        assert error(full) == (
            429,
            {"message": "Message queue is full.", "detail": "Maximum 2 messages can be queued."},
        )
        assert len(mock.messages(chat["id"])["queued_messages"]) == 2


EDIT_ERRORS = [
    (
        "abc",
        {"content": text("x")},
        400,
        {"message": "Invalid chat message ID.", "detail": "Message ID must be a positive integer."},
    ),
    (
        "0",
        {"content": text("x")},
        400,
        {"message": "Invalid chat message ID.", "detail": "Message ID must be a positive integer."},
    ),
    (
        "-3",
        {"content": text("x")},
        400,
        {"message": "Invalid chat message ID.", "detail": "Message ID must be a positive integer."},
    ),
    (
        "999",
        {"content": text("x")},
        404,
        {"message": "Chat message not found.", "detail": "Message does not belong to this chat."},
    ),
    ("USER", {"content": []}, 400, {"message": "Content is required.", "detail": "Content cannot be empty."}),
    ("ASSISTANT", {"content": text("x")}, 400, {"message": "Only user messages can be edited."}),
]


@pytest.mark.parametrize(("message", "body", "status", "expected"), EDIT_ERRORS)
def test_edit_errors(
    mock: Current, message: str, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    chat = mock.create("x")
    mock.finish()
    user, assistant = mock.transcript(chat["id"])
    message = {"USER": str(user["id"]), "ASSISTANT": str(assistant["id"])}.get(message, message)
    response = mock.client.patch(f"/api/v2/chats/{chat['id']}/messages/{message}", headers=ALICE, json=body)
    assert error(response) == (status, expected)
    assert [m["id"] for m in mock.transcript(chat["id"])] == [user["id"], assistant["id"]]


def test_edit_of_another_chats_message_is_404(mock: Current) -> None:
    first = mock.create("x")
    second = mock.create("y")
    message_id = mock.transcript(first["id"])[0]["id"]
    response = mock.client.patch(
        f"/api/v2/chats/{second['id']}/messages/{message_id}", headers=ALICE, json={"content": text("z")}
    )
    assert error(response) == (
        404,
        {"message": "Chat message not found.", "detail": "Message does not belong to this chat."},
    )


UPDATE_ERRORS = [
    ({"title": "  "}, 400, {"message": "Title cannot be empty."}),
    ({"title": "x" * 201}, 400, {"message": "Title must be at most 200 characters."}),
    ({"archived": False}, 400, {"message": "Chat is already not archived."}),
    ({"pin_order": -1}, 400, {"message": "Pin order must be non-negative."}),
    ({"plan_mode": "act"}, 400, {"message": "Invalid plan_mode value."}),
    (
        {"workspace_id": BOB_WORKSPACE},
        400,
        {"message": "Workspace not found or you do not have access to this resource"},
    ),
    ({"title": 7}, 400, None),
]


@pytest.mark.parametrize(("body", "status", "expected"), UPDATE_ERRORS)
def test_update_errors(
    mock: Current, body: dict[str, Any], status: int, expected: dict[str, Any] | None
) -> None:
    chat = mock.create("x")
    mock.finish()
    before = mock.chat(chat["id"])
    response = mock.patch(chat["id"], **body)
    assert response.status_code == status
    if expected is None:
        assert response.json()["message"] == "Request body must be valid JSON."
    else:
        assert response.json() == expected
    assert mock.chat(chat["id"]) == before


ARCHIVED_ERRORS = [
    ("POST", "messages", {"content": text("x")}, "Cannot send messages to an archived chat."),
    ("PATCH", "messages/1", {"content": text("x")}, "Cannot edit messages in an archived chat."),
    ("POST", "interrupt", None, "Cannot interrupt an archived chat."),
    ("POST", "queue/1/promote", None, "Cannot promote queued messages in an archived chat."),
]


@pytest.mark.parametrize(("method", "path", "body", "message"), ARCHIVED_ERRORS)
def test_archived_chat_refuses_changes(
    mock: Current, method: str, path: str, body: Any, message: str
) -> None:
    chat_id = _archived(mock)
    before = mock.transcript(chat_id)
    response = mock.client.request(method, f"/api/v2/chats/{chat_id}/{path}", headers=ALICE, json=body)
    assert error(response) == (400, {"message": message})
    assert mock.transcript(chat_id) == before


def test_archived_chat_errors_of_update(mock: Current) -> None:
    chat_id = _archived(mock)
    assert error(mock.patch(chat_id, archived=True)) == (400, {"message": "Chat is already archived."})
    assert error(mock.patch(chat_id, pin_order=2)) == (400, {"message": "Cannot pin an archived chat."})


def test_queued_message_id_errors(mock: Current) -> None:
    chat = mock.create("/slow x")
    for response in (
        mock.client.delete(f"/api/v2/chats/{chat['id']}/queue/x", headers=ALICE),
        mock.post(f"/chats/{chat['id']}/queue/x/promote"),
    ):
        assert error(response) == (
            400,
            {
                "message": "Invalid queued message ID.",
                "detail": 'strconv.ParseInt: parsing "x": invalid syntax',
            },
        )
    huge = mock.client.delete(f"/api/v2/chats/{chat['id']}/queue/9223372036854775808", headers=ALICE)
    assert error(huge) == (
        400,
        {
            "message": "Invalid queued message ID.",
            "detail": 'strconv.ParseInt: parsing "9223372036854775808": value out of range',
        },
    )
