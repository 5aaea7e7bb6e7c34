"""Helpers of the agent, watch and fixture tests: a mock in-process or on a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.testclient import TestClient

from mockserver.app.factory import create_app
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.core.scenarios import ScenarioLibrary
from mockserver.core.scheduler import Scheduler
from mockserver.core.store import ChatStore
from mockserver.v1.agent import ScenarioAgent
from tests.app_settings import app_settings
from tests.http_server import serving

ALICE = {"Coder-Session-Token": DEMO_TOKENS["alice"]}
BOB = {"Coder-Session-Token": DEMO_TOKENS["bob"]}


@contextmanager
def mock_client(
    scheduler: Scheduler,
    *,
    seed: int = 1,
    library: ScenarioLibrary | None = None,
    store: ChatStore | None = None,
) -> Iterator[TestClient]:
    """A TestClient over a fresh mock, response validation on."""
    new_id = seeded_uuids(seed)
    store = store or ChatStore(clock=SteppingClock(), new_id=new_id)
    agent = ScenarioAgent(store, scheduler, library)
    app = create_app(app_settings(), new_id=new_id, store=store, agent=agent, scheduler=scheduler)
    with TestClient(app) as client:
        yield client


def new_chat(client: TestClient, metadata: Any = None, headers: dict[str, str] = ALICE) -> str:
    body: dict[str, Any] = {"provider": "anthropic", "model": "claude"}
    if metadata is not None:
        body["metadata"] = metadata
    response = client.post("/api/v2/chats", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def post(client: TestClient, chat: str, text: str) -> str:
    response = client.post(f"/api/v2/chats/{chat}/messages", json={"content": text}, headers=ALICE)
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


def transcript(client: TestClient, chat: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v2/chats/{chat}/messages", headers=ALICE)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def shape(row: dict[str, Any]) -> str:
    """A row as `role:type[:event]`, to compare sequences at a glance."""
    content = row["content"]
    kind = f"{row['role']}:{content['type']}"
    return f"{kind}:{content['event']}" if content["type"] == "stream_event" else kind


@contextmanager
def serve_on_free_port(app: Any) -> Iterator[str]:
    """Run `app` under uvicorn on 127.0.0.1 and a free port; yields `host:port`."""
    with serving(app) as url:
        yield url.removeprefix("http://")


def directory() -> Directory:
    return Directory.from_tokens(DEMO_TOKENS)
