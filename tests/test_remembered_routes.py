"""Connexion's routing decision, remembered per request line: the same answer every time."""

from __future__ import annotations

from starlette.testclient import TestClient

from mockserver import create_app
from tests.app_settings import app_settings
from tests.conftest import ALICE


def _thrice(client: TestClient, method: str, path: str) -> list[tuple[int, str, str]]:
    answers = [client.request(method, path, headers=ALICE) for _ in range(3)]
    return [(a.status_code, a.headers.get("allow", ""), a.text) for a in answers]


def test_a_routed_request_line_reaches_the_same_operation_with_the_same_parameters_again() -> None:
    with TestClient(create_app(app_settings(api="current"))) as client:
        first = client.post(
            "/api/v2/chats",
            json={
                "organization_id": "7c60d51f-b44e-4682-87d6-449835ea4de6",
                "content": [{"type": "text", "text": "hi"}],
            },
            headers=ALICE,
        ).json()["id"]
        second = client.post(
            "/api/v2/chats",
            json={
                "organization_id": "7c60d51f-b44e-4682-87d6-449835ea4de6",
                "content": [{"type": "text", "text": "yo"}],
            },
            headers=ALICE,
        ).json()["id"]
        # The path parameter is the request's own, the first time and every time after.
        for chat in (first, second, first):
            answers = [client.get(f"/api/v2/chats/{chat}", headers=ALICE) for _ in range(2)]
            assert [a.status_code for a in answers] == [200, 200]
            assert {a.json()["id"] for a in answers} == {chat}
        # The same path under another method is another operation.
        assert (
            client.patch(f"/api/v2/chats/{first}", json={"title": "renamed"}, headers=ALICE).status_code
            == 204
        )
        assert client.get(f"/api/v2/chats/{first}", headers=ALICE).json()["title"] == "renamed"


def test_a_refused_request_line_is_refused_alike_every_time() -> None:
    with TestClient(create_app(app_settings())) as client:
        unknown = _thrice(client, "GET", "/api/v2/no-such-route")
        not_allowed = _thrice(client, "DELETE", "/api/v2/chats")
    assert unknown[0][0] == 404 and unknown == [unknown[0]] * 3
    assert not_allowed[0][0] == 405 and not_allowed[0][1] and not_allowed == [not_allowed[0]] * 3
