"""The app serves the generation its settings name, and refuses one it does not know."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockserver import Settings, create_app
from mockserver.app.generations import API_GENERATIONS
from mockserver.command.cli import build_parser


def test_v1_is_the_default_generation() -> None:
    assert Settings().api == API_GENERATIONS[0] == "v1"
    assert build_parser().parse_args(["serve"]).api == "v1"


def test_unknown_generation_is_refused_by_create_app() -> None:
    with pytest.raises(ValueError, match=re.escape("unknown API generation 'v0'; known: v1, current")):
        create_app(Settings(api="v0"))


def test_unknown_generation_is_refused_by_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--api", "v0"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'v0'" in capsys.readouterr().err


def test_current_is_served_when_settings_name_it() -> None:
    from starlette.testclient import TestClient

    with TestClient(create_app(Settings(api="current"))) as client:
        response = client.get(
            "/api/v2/chats", headers={"Coder-Session-Token": "alice00001-AliceDemoSessionSecret"}
        )
        assert (response.status_code, response.json()) == (200, [])
        assert client.get("/api/v2/organizations/coder/chats/models").status_code == 401
    assert build_parser().parse_args(["serve", "--api", "current"]).api == "current"


def test_spec_validate_checks_the_current_document(capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver.command.cli import main

    assert main(["spec", "validate", "--api", "current"]) == 0
    assert capsys.readouterr().out.strip().endswith("openapi/current/chats.yaml: valid")


def test_serve_refuses_v1_fixtures_for_the_current_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.command.cli import main

    path = tmp_path / "v1.yaml"
    path.write_text("chats_mock_fixture: 1\nchats: []\n")
    assert main(["serve", "--api", "current", "--port", "0", "--fixtures", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{path}: holds chats of the v1 API (no `api` key); it cannot seed --api current" in err
