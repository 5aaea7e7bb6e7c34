"""The browsable API: Swagger UI served from the installed bundle, no network needed."""

from __future__ import annotations

from starlette.testclient import TestClient


def test_swagger_ui_of_the_chats_api_is_served(client: TestClient) -> None:
    page = client.get("/api/v2/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "swagger-ui-bundle.js" in page.text


def test_swagger_ui_assets_come_from_the_package(client: TestClient) -> None:
    script = client.get("/api/v2/ui/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000


def test_the_ui_reads_the_document_from_the_mock(client: TestClient) -> None:
    document = client.get("/api/v2/openapi.json").json()
    assert document["info"]["title"] == "Coder Chats API"
    assert "/chats/{chat}/messages" in document["paths"]


def test_the_control_plane_is_browsable_too(client: TestClient) -> None:
    assert client.get("/__mock/ui/").status_code == 200
    assert client.get("/__mock/openapi.json").json()["info"]["title"] == "chats-mock control plane"
