"""A mock of today's API for tests: virtual time, seeded ids, and short helpers for its routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from mockserver import DEMO_TOKENS, ManualScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from tests.app_settings import app_settings

ALICE = {"Coder-Session-Token": DEMO_TOKENS["alice"]}
BOB = {"Coder-Session-Token": DEMO_TOKENS["bob"]}
ORG = str(DEFAULT_ORGANIZATION_ID)


def text(value: str) -> list[dict[str, str]]:
    """A `content` of one text part."""
    return [{"type": "text", "text": value}]


@dataclass
class Current:
    """A client of a fresh current-API mock whose turns run only when the test moves time."""

    client: TestClient
    scheduler: ManualScheduler

    def create(self, message: str = "Hello", **body: Any) -> dict[str, Any]:
        """POST /chats as alice; asserts the 201."""
        response = self.client.post(
            "/api/v2/chats", headers=ALICE, json={"organization_id": ORG, "content": text(message), **body}
        )
        assert response.status_code == 201, response.text
        chat: dict[str, Any] = response.json()
        return chat

    def chat(self, chat_id: str) -> dict[str, Any]:
        """GET /chats/{chat} as alice."""
        response = self.client.get(f"/api/v2/chats/{chat_id}", headers=ALICE)
        assert response.status_code == 200, response.text
        chat: dict[str, Any] = response.json()
        return chat

    def status(self, chat_id: str) -> str:
        """The chat's status."""
        return str(self.chat(chat_id)["status"])

    def send(self, chat_id: str, message: str, **body: Any) -> Any:
        """POST /chats/{chat}/messages as alice (the response, unchecked)."""
        return self.client.post(
            f"/api/v2/chats/{chat_id}/messages", headers=ALICE, json={"content": text(message), **body}
        )

    def messages(self, chat_id: str, query: str = "") -> dict[str, Any]:
        """GET /chats/{chat}/messages as alice; asserts the 200."""
        response = self.client.get(f"/api/v2/chats/{chat_id}/messages{query}", headers=ALICE)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page

    def transcript(self, chat_id: str) -> list[dict[str, Any]]:
        """Every message, oldest first."""
        return list(reversed(self.messages(chat_id, "?limit=200")["messages"]))

    def patch(self, chat_id: str, **body: Any) -> Any:
        """PATCH /chats/{chat} as alice (the response, unchecked)."""
        return self.client.patch(f"/api/v2/chats/{chat_id}", headers=ALICE, json=body)

    def post(self, path: str, body: Any = None) -> Any:
        """POST to a path under /api/v2 as alice."""
        return self.client.post(f"/api/v2{path}", headers=ALICE, json=body)

    def finish(self) -> None:
        """Run every pending turn to its end."""
        self.scheduler.finish_all()


@contextmanager
def current_mock(**settings: Any) -> Iterator[Current]:
    """A fresh mock of today's API, with response validation on."""
    scheduler = ManualScheduler()
    app = create_app(
        app_settings(api="current", validate_responses=True, **settings),
        clock=SteppingClock(),
        new_id=seeded_uuids(7),
        scheduler=scheduler,
    )
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Current(client, scheduler)


def text_of(message: dict[str, Any]) -> str:
    """The text parts of a message, joined."""
    return "".join(part["text"] for part in message.get("content", []) if part["type"] == "text")
