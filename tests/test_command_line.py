"""The `chats-mock` command's manners: --version, a reader that leaves early, what it validates."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from mockserver.app.generations import API_GENERATIONS
from mockserver.command.cli import main

ROOT = Path(__file__).resolve().parents[1]
WIRE = {"v1": ROOT / "openapi" / "WIRE.md", "current": ROOT / "openapi" / "current" / "WIRE.md"}


def test_version_prints_the_version_and_the_pinned_coder_commit_of_each_generation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    first, *generations = capsys.readouterr().out.splitlines()
    assert first == f"chats-mock {version('coder-chats-mock')}"
    assert len(generations) == len(API_GENERATIONS) == len(WIRE)
    for api, line in zip(API_GENERATIONS, generations, strict=True):
        commit = re.fullmatch(rf"  --api {api}: Coder's Chats API at coder/coder@([0-9a-f]{{40}})", line)
        assert commit is not None, line
        # The commit the generation's wire facts cite.
        assert commit.group(1) in WIRE[api].read_text(encoding="utf-8")


def test_a_reader_that_leaves_early_ends_the_listing_without_a_traceback() -> None:
    # `chats-mock verify --list-rules | head`: the pipe is closed before the listing is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mockserver", "verify", "--list-rules"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    finally:
        os.close(write_end)

    assert done.stderr == ""
    assert done.returncode == 141  # as a shell reports a program its reader left (128 + SIGPIPE)


@pytest.mark.parametrize("document", ["openapi/chats.asyncapi.yaml", "openapi/current/chats.asyncapi.yaml"])
def test_spec_validate_checks_an_asyncapi_document_as_asyncapi(
    document: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["spec", "validate", str(ROOT / document)]) == 0
    assert capsys.readouterr().out == f"{ROOT / document}: valid AsyncAPI 3.0.0\n"


def test_spec_validate_names_what_asyncapi_does_not_allow_and_a_ref_to_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "openapi" / "current" / "chats.asyncapi.yaml").read_text(encoding="utf-8")
    broken = text.replace("  chatWatch:\n    address:", "  chatWatch:\n    adress:", 1).replace(
        "#/channels/chatStream/messages/streamFrame", "#/channels/chatStream/messages/nothing", 1
    )
    assert broken.count("adress") == 1 and "messages/nothing" in broken
    # Beside a copy of chats.yaml, as in openapi/current/: the frames' $refs resolve there.
    (tmp_path / "chats.yaml").write_text(
        (ROOT / "openapi" / "current" / "chats.yaml").read_text(encoding="utf-8")
    )
    path = tmp_path / "chats.asyncapi.yaml"
    path.write_text(broken, encoding="utf-8")

    assert main(["spec", "validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}: #/channels/chatWatch: 'adress' does not match any of the regexes: '^x-[\\\\w\\\\d\\\\.\\\\x2d_]+$'",
        f"{path}: #/operations/sendChatStream/messages/0: $ref '#/channels/chatStream/messages/nothing' points at nothing",
    ]


def test_the_license_pyproject_declares_is_in_the_checkout() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert "LICENSE" in project["license-files"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
