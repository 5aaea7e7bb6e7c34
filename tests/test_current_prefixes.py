"""Both prefixes of the chat mount: every chat route answers the same under /api/v2 and /api/experimental.

coderd mounts the same promoted chat routes under both prefixes (openapi/current/WIRE.md section
1); each prefix reserves a few names under /chats, and a path no route matches is answered as
chi answers it (authentication, then the chat, then 404 `Route not found.`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import coder_chats_openapi
import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse

from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from mockserver.current.chat_router import experimental_only_paths
from mockserver.edge.generation_parts import load_document
from tests.current_support import ALICE, current_mock, text

PREFIXES = ("/api/v2", "/api/experimental")
DOCUMENT = load_document(coder_chats_openapi.current_document())
EXPERIMENTAL_ONLY = experimental_only_paths(DOCUMENT["paths"])
ROUTE_NOT_FOUND = {"message": "Route not found."}
_METHODS = ("get", "put", "post", "delete", "patch")


def _operations() -> Iterator[tuple[str, str]]:
    for template, item in DOCUMENT["paths"].items():
        if template in EXPERIMENTAL_ONLY:
            continue
        for method in _METHODS:
            if method in item:
                yield method, template


def _answers(prefix: str) -> dict[tuple[str, str], tuple[int, Any]]:
    """Every documented operation, called in one order on a fresh mock, each on a new finished chat.

    Two mocks given the same requests in the same order make the same ids, so the answers
    under the two prefixes compare equal only if each route answers the same.
    """
    answers = {}
    with current_mock() as m:
        for method, template in _operations():
            chat = m.create("Hello")
            m.finish()
            path = (
                template.replace("{chat}", chat["id"])
                .replace("{message}", "1")
                .replace("{queuedMessage}", "1")
                .replace("{organization}", str(DEFAULT_ORGANIZATION_ID))
                .replace("{modelConfig}", "37e97861-314b-58a9-9b95-bfb763a883be")
            )
            body = {"content": text("again")} if method in ("post", "patch", "put") else None
            response = m.client.request(method.upper(), prefix + path, headers=ALICE, json=body)
            answers[method, template] = (response.status_code, response.json() if response.content else None)
    return answers


@pytest.fixture(scope="module")
def answers() -> dict[str, dict[tuple[str, str], tuple[int, Any]]]:
    return {prefix: _answers(prefix) for prefix in PREFIXES}


@pytest.mark.parametrize(("method", "template"), list(_operations()))
def test_every_documented_route_answers_the_same_under_both_prefixes(
    answers: dict[str, dict[tuple[str, str], tuple[int, Any]]], method: str, template: str
) -> None:
    v2, experimental = (answers[prefix][method, template] for prefix in PREFIXES)

    assert v2 == experimental
    assert v2[1] != ROUTE_NOT_FOUND  # a route answered, not chi's not-found


@pytest.mark.parametrize("template", EXPERIMENTAL_ONLY)
def test_experimental_only_routes_are_unknown_under_v2(template: str) -> None:
    with current_mock() as m:
        chat = m.create("Hello")
        path = template.replace("{chat}", chat["id"])
        for name in ("{providerConfig}", "{debugRun}"):
            path = path.replace(name, "00000000-0000-0000-0000-000000000001")
        method = next(method for method in _METHODS if method in DOCUMENT["paths"][template])
        v2 = m.client.request(method.upper(), "/api/v2" + path, headers=ALICE)
        experimental = m.client.request(method.upper(), "/api/experimental" + path, headers=ALICE)
    assert (v2.status_code, v2.json()) == (404, ROUTE_NOT_FOUND)
    assert experimental.json() != ROUTE_NOT_FOUND


@pytest.mark.parametrize(
    ("prefix", "name"),
    [
        ("/api/v2", "model-configs"),
        ("/api/v2", "providers"),
        ("/api/v2", "user-provider-configs"),
        ("/api/experimental", "models"),
        ("/api/experimental", "model-configs"),
    ],
)
def test_reserved_names_are_route_not_found_after_authentication(prefix: str, name: str) -> None:
    with current_mock() as m:
        reserved = m.client.get(f"{prefix}/chats/{name}", headers=ALICE)
        below = m.client.post(f"{prefix}/chats/{name}/anything", headers=ALICE)
        signed_out = m.client.get(f"{prefix}/chats/{name}")
    assert (reserved.status_code, reserved.json()) == (404, ROUTE_NOT_FOUND)
    assert (below.status_code, below.json()) == (404, ROUTE_NOT_FOUND)
    assert signed_out.status_code == 401


def test_a_name_reserved_by_one_prefix_only_is_a_chat_id_under_the_other() -> None:
    with current_mock() as m:
        response = m.client.get("/api/v2/chats/models", headers=ALICE)
    assert response.status_code == 400
    assert response.json()["message"] == 'Invalid UUID "models".'


@pytest.mark.parametrize("prefix", PREFIXES)
def test_an_unknown_path_under_a_chat_is_checked_as_chi_checks_it(prefix: str) -> None:
    with current_mock() as m:
        chat = m.create("Hello")["id"]
        answers = {
            case: (r.status_code, r.json())
            for case, r in {
                "signed out": m.client.get(f"{prefix}/chats/{chat}/nope"),
                "not a uuid": m.client.get(f"{prefix}/chats/xyz/nope", headers=ALICE),
                "no such chat": m.client.get(
                    f"{prefix}/chats/00000000-0000-0000-0000-000000000009/nope", headers=ALICE
                ),
                "the chat's": m.client.post(f"{prefix}/chats/{chat}/nope/deeper", headers=ALICE),
                "under config": m.client.get(f"{prefix}/chats/config/nope", headers=ALICE),
            }.items()
        }
    assert answers["signed out"][0] == 401
    assert answers["not a uuid"] == (
        400,
        {"message": 'Invalid UUID "xyz".', "detail": "invalid UUID length: 3"},
    )
    assert answers["no such chat"][0] == 404
    assert answers["no such chat"][1] != ROUTE_NOT_FOUND
    assert answers["the chat's"] == (404, ROUTE_NOT_FOUND)
    assert answers["under config"] == (404, ROUTE_NOT_FOUND)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_websocket_to_an_unknown_path_under_a_chat_is_refused_with_chis_404(prefix: str) -> None:
    with current_mock() as m:
        chat = m.create("Hello")["id"]
        with (
            pytest.raises(WebSocketDenialResponse) as caught,
            m.client.websocket_connect(f"{prefix}/chats/{chat}/stream/nope", headers=dict(ALICE)),
        ):
            pass  # pragma: no cover - the upgrade is refused
    assert (caught.value.status_code, caught.value.json()) == (404, ROUTE_NOT_FOUND)


def _first_frame(client: TestClient, path: str) -> Any:
    with client.websocket_connect(path, headers=dict(ALICE)) as socket:
        return json.loads(socket.receive_text())


def test_the_stream_opens_under_both_prefixes_with_the_same_frames() -> None:
    frames = []
    for prefix in PREFIXES:
        with current_mock() as m:
            chat = m.create("Hello")["id"]
            m.finish()
            frames.append(_first_frame(m.client, f"{prefix}/chats/{chat}/stream"))
    assert frames[0] == frames[1]
    assert frames[0]  # a snapshot of the finished run


def test_the_watcher_opens_under_both_prefixes_and_tells_the_same_change() -> None:
    events = []
    for prefix in PREFIXES:
        with (
            current_mock() as m,
            m.client.websocket_connect(f"{prefix}/chats/watch", headers=dict(ALICE)) as socket,
        ):
            m.create("Hello")
            events.append(json.loads(socket.receive_text()))
    assert events[0] == events[1]
    assert events[0]["kind"] == "created"
