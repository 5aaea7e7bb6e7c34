"""Who reaches /__mock: nobody without --control; a session token never opens it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver import ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from tests.app_settings import app_settings

from .conftest import ALICE, app

CONTROL_PATHS = [
    ("POST", "/__mock/reset"),
    ("GET", "/__mock/requests"),
    ("DELETE", "/__mock/requests"),
    ("GET", "/__mock/faults"),
    ("POST", "/__mock/faults"),
    ("DELETE", "/__mock/faults/1"),
    ("POST", "/__mock/clock/advance"),
    ("POST", "/__mock/clock/finish"),
    ("GET", "/__mock/ui/"),
    ("GET", "/__mock/openapi.json"),
    ("GET", "/__mock"),
    ("OPTIONS", "/__mock/reset"),
]


@pytest.mark.parametrize(("method", "path"), CONTROL_PATHS)
def test_without_control_every_mock_path_is_404_even_with_a_session_token(method: str, path: str) -> None:
    client = TestClient(
        create_app(
            app_settings(), clock=SteppingClock(), new_id=seeded_uuids(1), scheduler=ImmediateScheduler()
        )
    )
    preflight = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}

    answer = client.request(method, path, headers={**ALICE, **preflight}, json={"seconds": 1})

    assert answer.status_code == 404
    assert answer.json() == {"message": "Route not found."}


def test_with_a_control_token_a_session_token_alone_is_401() -> None:
    client = TestClient(app(control=False, control_token="s3cret"))

    refused = client.post("/__mock/reset", headers=ALICE)
    wrong = client.post("/__mock/reset", headers={"X-Mock-Control-Token": "guess"})
    allowed = client.post("/__mock/reset", headers={"X-Mock-Control-Token": "s3cret"})

    assert refused.status_code == 401
    assert refused.json()["message"] == "Control plane token missing or wrong."
    assert wrong.status_code == 401
    assert allowed.status_code == 204


def test_a_page_of_a_foreign_origin_cannot_reset_the_mock() -> None:
    client = TestClient(app())
    answer = client.post("/__mock/reset", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403


def test_a_page_of_an_allowed_origin_may_use_the_control_plane() -> None:
    client = TestClient(app())
    answer = client.post("/__mock/reset", headers={"Origin": "http://localhost:5173"})
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_an_unknown_control_path_is_404(client: TestClient) -> None:
    assert client.get("/__mock/nothing").status_code == 404
