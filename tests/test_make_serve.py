"""`make serve ARGS="..."`: the README's way to serve passes serve's options through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from mockserver import DEMO_TOKENS
from tests.server_process import free_port, serving_command

ROOT = Path(__file__).resolve().parent.parent
ALICE = {"Coder-Session-Token": DEMO_TOKENS["alice"]}


def _make(*args: str) -> list[str]:
    """make in the checkout, with this venv's tools, never (re)building the venv under the test."""
    return ["make", "-C", str(ROOT), "-o", ".venv/.installed", f"BIN={Path(sys.executable).parent}", *args]


def test_make_serve_passes_args_to_serve(tmp_path: Path) -> None:
    # Given a scenario folder of the user's
    scenarios = tmp_path / "my-scenarios"
    scenarios.mkdir()
    (scenarios / "greet.yaml").write_text("match:\n  - text: hello\nsteps:\n  - text: Hi from my scenario.\n")
    port = free_port()
    args = f"ARGS=--port {port} --scenarios {scenarios} --clock instant"
    # When make serves with those options
    with (
        serving_command(_make("serve", args), port, cwd=tmp_path, env=os.environ) as url,
        httpx.Client(base_url=f"{url}/api/v2", headers=ALICE) as client,
    ):
        chat = client.post("/chats", json={"provider": "p", "model": "m"}).json()
        client.post(f"/chats/{chat['id']}/messages", json={"content": "hello"})
        rows = client.get(f"/chats/{chat['id']}/messages").json()
    # Then the mock listens on that port and plays that scenario
    answers = [row["content"]["message"]["content"] for row in rows if row["role"] == "assistant"]
    assert answers == ["Hi from my scenario."]


def test_make_serve_with_broken_args_says_what_is_wrong_in_one_line() -> None:
    done = subprocess.run(
        _make("serve", "ARGS=--port nine"), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0
    own = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert own == [
        "chats-mock serve: error: argument --port: invalid int value: 'nine' (see chats-mock serve --help)"
    ]


def test_make_serve_with_api_current_serves_todays_api(tmp_path: Path) -> None:
    port = free_port()
    # When make serves as the README's first screen says, for today's Coder
    with (
        serving_command(
            _make("serve", f"ARGS=--api current --port {port}"), port, cwd=tmp_path, env=os.environ
        ) as url,
        httpx.Client(base_url=f"{url}/api/v2", headers=ALICE) as client,
    ):
        models = client.get("/organizations/coder/chats/models")
        document = client.get("/openapi.json").json()
    # Then today's API answers (V1 has no such route) with today's document
    assert models.status_code == 200 and models.json()["models"]
    assert document["info"]["title"] == "Coder Chats API (current)"
