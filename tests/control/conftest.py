"""Apps with the control plane, in-process and on a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import (
    ImmediateScheduler,
    ManualScheduler,
    Settings,
    SteppingClock,
    create_app,
    seeded_uuids,
)
from tests.app_settings import app_settings
from tests.http_server import serving

# This worktree's copy of the control document (the installed package may be another checkout's).
CONTROL_DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "control.yaml"
ALICE = {"Coder-Session-Token": "alice00001-AliceDemoSessionSecret"}
BOB = {"Coder-Session-Token": "bob0000001-BobDemoSessionSecret00"}
NEW_CHAT = {"provider": "anthropic", "model": "claude-sonnet-4-5"}


def settings(**fields: Any) -> Settings:
    """Settings with the control plane on, read from this worktree's document."""
    return replace(app_settings(control=True, control_document=CONTROL_DOCUMENT), **fields)


def app(**fields: Any) -> Any:
    """A fresh app: deterministic clock, ids and an immediate agent."""
    return create_app(
        settings(**fields),
        clock=SteppingClock(),
        new_id=seeded_uuids(1),
        scheduler=ImmediateScheduler(),
    )


@pytest.fixture
def client() -> TestClient:
    return TestClient(app())


@pytest.fixture
def manual_client() -> tuple[TestClient, ManualScheduler]:
    scheduler = ManualScheduler()
    made = create_app(settings(), clock=SteppingClock(), new_id=seeded_uuids(1), scheduler=scheduler)
    return TestClient(made), scheduler


@contextmanager
def served(asgi_app: Any) -> Iterator[str]:
    """Serve an app with uvicorn on a free loopback port in a thread; yields its base URL."""
    with serving(asgi_app) as url:
        yield url
