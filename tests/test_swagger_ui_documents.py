"""Swagger UI for every document the mock serves: the document as written, rendered by a browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.app.generations import API_GENERATIONS
from tests.app_settings import app_settings
from tests.headless_browser import needs_chromium, rendered
from tests.http_server import serving


def _app(api: str) -> Any:
    """A mock of generation `api` with the control plane on: every document it can serve."""
    return create_app(
        app_settings(api=api, control=True),
        clock=SteppingClock(),
        new_id=seeded_uuids(3),
        scheduler=ImmediateScheduler(),
    )


def _served_documents(app: Any) -> dict[str, dict[str, Any]]:
    """Each API the app serves, by base path: the document as it was given."""
    documents: dict[str, dict[str, Any]] = {}
    for api in app.middleware.apis:
        base_path = api.base_path or api.specification.base_path
        documents[base_path] = api.specification.raw
    return documents


@pytest.mark.parametrize("api", API_GENERATIONS)
def test_every_document_the_mock_serves_is_its_openapi_json_with_refs_as_written(api: str) -> None:
    app = _app(api)
    with TestClient(app) as client:
        documents = _served_documents(app)
        assert set(documents) >= {"/api/v2", "/__mock"}
        for base_path, written in documents.items():
            answer = client.get(f"{base_path}/openapi.json")
            assert answer.status_code == 200, (base_path, answer.text[:300])
            served = answer.json()
            # `$ref`s kept, not inlined: a schema that refers to itself cannot be inlined.
            assert served["paths"] == written["paths"]
            assert served["components"] == written["components"]


@needs_chromium
@pytest.mark.parametrize("api", API_GENERATIONS)
def test_swagger_ui_of_every_document_renders_its_operations_in_a_browser(api: str) -> None:
    app = _app(api)
    with serving(app) as base:
        for base_path, written in _served_documents(app).items():
            dom = rendered(f"{base}{base_path}/ui/")

            assert "Failed to load API definition" not in dom, base_path
            title = re.search(r'<h2 class="title">(.*?)<', dom)
            assert title is not None and title.group(1) == written["info"]["title"], base_path
            shown = set(re.findall(r'data-path="([^"]+)"', dom))
            assert shown == set(written["paths"]), base_path
