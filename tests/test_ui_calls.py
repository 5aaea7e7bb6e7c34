"""Coder's web UI's calls (tests/ui_calls.yaml) replayed against the mock under both API prefixes.

Each call gets coderd's status, and its body fits the document: the operation's answer for a
2xx, Coder's error body (codersdk.Response) otherwise. A WebSocket call is a handshake: accepted
(101) or refused with coderd's status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import coder_chats_openapi
import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from starlette.testclient import WebSocketDenialResponse

from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from mockserver.edge.generation_parts import load_document
from tests.current_support import ALICE, current_mock

CALLS: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "ui_calls.yaml").read_text("utf-8"))[
    "calls"
]
DOCUMENT = load_document(coder_chats_openapi.current_document())
# The dashboard shell's calls (`document: dashboard`) answer from its own document.
DOCUMENTS = {"chats": DOCUMENT, "dashboard": load_document(coder_chats_openapi.current_dashboard_document())}
PREFIXES = {"v2": "/api/v2", "experimental": "/api/experimental"}
WORKSPACE = "9d31ba28-32c5-539c-b384-527e7adfb454"  # alice's demo workspace
MODEL = "37e97861-314b-58a9-9b95-bfb763a883be"


def _operation(operation_id: str, document: str = "chats") -> dict[str, Any]:
    for item in DOCUMENTS[document]["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    raise LookupError(operation_id)


def _schema_of(operation_id: str | None, status: int, document: str = "chats") -> dict[str, Any] | None:
    """The schema the answer must fit; None where the document declares no body (204)."""
    if status >= 400 or operation_id is None:
        return {"$ref": "#/components/schemas/codersdk.Response"}
    response = _operation(operation_id, document)["responses"][str(status)]
    content = response.get("content")
    return None if content is None else dict(content["application/json"]["schema"])


def _fits(schema: dict[str, Any], body: Any, document: str = "chats") -> list[str]:
    validator = OAS30Validator({**schema, "components": DOCUMENTS[document]["components"]})
    return [error.message for error in validator.iter_errors(body)]


def _fill(text: str, chat: str) -> str:
    return (
        text.replace("{chat}", chat)
        .replace("{workspace}", WORKSPACE)
        .replace("{organization}", str(DEFAULT_ORGANIZATION_ID))
        .replace("{model}", MODEL)
    )


def _filled(value: Any, chat: str) -> Any:
    if isinstance(value, str):
        return _fill(value, chat)
    if isinstance(value, list):
        return [_filled(v, chat) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, chat) for k, v in value.items()}
    return value


def _expected(call: dict[str, Any], prefix: str) -> int:
    expect = call["expect"]
    return int(expect[prefix] if isinstance(expect, dict) else expect)


def _replay(prefix: str) -> list[tuple[int, Any]]:
    """Every call in order on one fresh mock, with one finished chat of alice's."""
    answers: list[tuple[int, Any]] = []
    with current_mock() as m:
        chat = m.create("Hello")["id"]
        m.finish()
        for call in CALLS:
            path = PREFIXES[prefix] + _fill(call["path"], chat)
            query = _filled(call.get("query") or {}, chat)
            if call.get("socket"):
                try:
                    with m.client.websocket_connect(path, headers=dict(ALICE)):
                        answers.append((101, None))
                except WebSocketDenialResponse as denied:
                    answers.append((denied.status_code, denied.json()))
                continue
            response = m.client.request(
                call["method"], path, params=query, headers=ALICE, json=_filled(call.get("body"), chat)
            )
            answers.append((response.status_code, response.json() if response.content else None))
    return answers


@pytest.fixture(scope="module")
def replayed() -> dict[str, list[tuple[int, Any]]]:
    return {prefix: _replay(prefix) for prefix in PREFIXES}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("index", range(len(CALLS)), ids=[f"{c['method']} {c['path']}" for c in CALLS])
def test_each_ui_call_gets_coderds_status_and_a_body_that_fits_the_document(
    replayed: dict[str, list[tuple[int, Any]]], prefix: str, index: int
) -> None:
    call = CALLS[index]
    status, body = replayed[prefix][index]

    assert status == _expected(call, prefix), (call["ui"], body)
    if call.get("socket"):
        assert body is None if status == 101 else _fits(_schema_of(None, status) or {}, body) == []
        return
    document = call.get("document", "chats")
    schema = _schema_of(call.get("operation"), status, document)
    if schema is None:
        assert body is None
    else:
        assert _fits(schema, body, document) == [], (call["ui"], body)


def test_the_table_names_documented_operations_and_both_prefixes_where_they_differ() -> None:
    for call in CALLS:
        if call.get("operation"):
            # raises for an operation the document does not have
            _operation(call["operation"], call.get("document", "chats"))
        if isinstance(call["expect"], dict):
            assert set(call["expect"]) == set(PREFIXES), call["ui"]
        assert call["method"] in ("GET", "POST", "PATCH", "PUT", "DELETE"), call["ui"]
