"""The command line: serve refuses bad scenario and fixture files; fixtures export over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.app.factory import create_app
from mockserver.command.cli import main
from mockserver.core.clock import SteppingClock, seeded_uuids
from mockserver.core.directory import DEMO_TOKENS
from mockserver.core.scheduler import ImmediateScheduler
from tests.agent_support import ALICE, serve_on_free_port
from tests.app_settings import app_settings


def test_serve_refuses_a_malformed_scenario_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text("steps:\n  - text: hi\n  - tool_call: {name: t, colour: red}\n")
    # When
    code = main(["serve", "--port", "0", "--scenarios", str(tmp_path)])
    # Then
    assert code == 2
    error = capsys.readouterr().err
    assert f"{tmp_path / 'bad.yaml'}:3: unknown key 'colour' in tool_call" in error


def test_serve_refuses_a_bad_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f.yaml").write_text("chats: []\n")
    assert main(["serve", "--port", "0", "--fixtures", str(tmp_path / "f.yaml")]) == 2
    assert "bad fixture" in capsys.readouterr().err


def test_fixtures_export_reads_a_running_server(capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(
        app_settings(), clock=SteppingClock(), new_id=seeded_uuids(5), scheduler=ImmediateScheduler()
    )
    with (
        serve_on_free_port(app) as address,
        httpx.Client(base_url=f"http://{address}", headers=ALICE) as http,
    ):
        chat = http.post("/api/v2/chats", json={"provider": "p", "model": "m"}).json()["id"]
        http.post(f"/api/v2/chats/{chat}/messages", json={"content": "hi"})
        messages = http.get(f"/api/v2/chats/{chat}/messages").json()
        # When
        code = main(
            [
                "fixtures",
                "export",
                "--base-url",
                f"http://{address}",
                "--token",
                DEMO_TOKENS["alice"],
                "--chat",
                chat,
            ]
        )
    # Then
    assert code == 0
    fixture = yaml.safe_load(capsys.readouterr().out)
    assert fixture["chats_mock_fixture"] == 1
    (entry,) = fixture["chats"]
    assert entry["owner"] == "alice00001"
    assert entry["messages"] == messages
