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

# The modules whose tests take ~10 s or more of CPU each (verify's runs, the npm linters): run
# first, so that pytest-xdist's workers steal the short tests at the end from each other instead
# of one of them waiting out a long test alone (worksteal hands out the collection in order).
LONG_FIRST = (
    "tests/test_verify_current.py",
    "tests/test_verify.py",
    "tests/test_document_lint.py",
    "tests/test_current_typescript.py",
    "tests/test_pytest_usage.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules of LONG_FIRST first, in that order; the rest as collected."""
    items.sort(key=lambda item: _rank(item.nodeid.partition("::")[0]))


def _rank(module: str) -> int:
    return LONG_FIRST.index(module) if module in LONG_FIRST else len(LONG_FIRST)


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
