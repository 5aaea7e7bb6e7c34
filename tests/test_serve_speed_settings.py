"""What `serve` trades for speed, and what it never trades: request validation."""

from __future__ import annotations

from starlette.testclient import TestClient
from starlette.types import ASGIApp

from mockserver import ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.command.cli import build_parser
from tests.app_settings import app_settings

ALICE = {"Coder-Session-Token": "alice00001-AliceDemoSessionSecret"}


def _app_as_serve_runs_it() -> ASGIApp:
    """Responses unchecked, as `serve` has them by default; repeatable clock, ids and agent."""
    return create_app(
        app_settings(validate_responses=False),
        clock=SteppingClock(),
        new_id=seeded_uuids(1),
        scheduler=ImmediateScheduler(),
    )


def test_serve_checks_responses_only_when_asked() -> None:
    parser = build_parser()

    assert parser.parse_args(["serve"]).validate_responses is False
    assert parser.parse_args(["serve", "--validate-responses"]).validate_responses is True
    assert parser.parse_args(["serve", "--no-validate-responses"]).validate_responses is False


def test_requests_are_validated_with_response_validation_off() -> None:
    with TestClient(_app_as_serve_runs_it()) as client:
        # When a body breaks the document's schema (the model is not a string)
        response = client.post("/api/v2/chats", json={"provider": "openai", "model": 7}, headers=ALICE)

        # Then it is refused as coderd refuses it, before any handler runs
        assert response.status_code == 400
        assert response.json()["message"] == "Request body must be valid JSON."


def test_handlers_answer_from_the_context_with_response_validation_off() -> None:
    with TestClient(_app_as_serve_runs_it()) as client:
        # When alice creates a chat, reads it and posts to it
        chat = client.post("/api/v2/chats", json={"provider": "openai", "model": "gpt-4o"}, headers=ALICE)
        read = client.get(f"/api/v2/chats/{chat.json()['id']}", headers=ALICE)
        posted = client.post(
            f"/api/v2/chats/{chat.json()['id']}/messages", json={"content": "hi"}, headers=ALICE
        )

        # Then each answer is the handler's, bytes as created
        assert (chat.status_code, read.status_code, posted.status_code) == (201, 200, 201)
        assert read.content == chat.content
        assert posted.json()["message"]["chat_id"] == chat.json()["id"]
