"""Fixtures: a fresh mock per test, deterministic clock and ids, agent runs complete at once."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mockserver import DEMO_TOKENS, ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from tests.app_settings import app_settings
from tests.npm_tools import NpmTools, install

ALICE = {"Coder-Session-Token": DEMO_TOKENS["alice"]}
BOB = {"Coder-Session-Token": DEMO_TOKENS["bob"]}


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client of a fresh mock that validates its own answers against the document."""
    app = create_app(
        app_settings(validate_responses=True),
        clock=SteppingClock(),
        new_id=seeded_uuids(7),
        scheduler=ImmediateScheduler(),
    )
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture(scope="session", autouse=True)
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`serve` keeps prepared documents in the user's cache directory; a served test's go here."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache-home"))
    yield
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def npm_tools() -> NpmTools:
    """tools/npm installed by `npm ci` once a session; skips without Node.js, fails so under CI=true."""
    return install(os.environ)
