"""The package as a user installs it: the wheel and the sdist, each in a fresh venv, run elsewhere.

The suite otherwise runs against the editable install, which reads everything from the checkout;
these tests build both artefacts with uv from a copy of the checkout, install each (with its
dependencies, from the package index) into a venv of its own, and run the commands from a
directory outside any checkout, checking that the data they read is the installed package's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mockserver import DEMO_TOKENS
from tests.agent_support import shape
from tests.checkout_copy import copy_checkout
from tests.npm_tools import NpmTools
from tests.server_process import free_port, serving_command
from tests.test_agent_runs import EXPECTED, HEAD
from tests.test_typescript import EXPECTED_OUTPUT as TRANSCRIPT_OUTPUT

pytestmark = pytest.mark.installed

ROOT = Path(__file__).resolve().parent.parent
# Where each package's files sit in the checkout (pyproject's packages and package-dir).
PACKAGE_FOLDERS = {"mockserver": "mockserver", "contracts": "contracts", "coder_chats_openapi": "openapi"}
# Files in those folders that the install leaves out, each for a reason.
NOT_PACKAGED = {
    "contracts/README.md",  # the suite's guide for readers of the repository; no code reads it
}
ALICE = {"Coder-Session-Token": DEMO_TOKENS["alice"]}
# What a packaged file's location is asked from, in the installed venv's python.
WHERE_DATA_COMES_FROM = """
import json, coder_chats_openapi, contracts, mockserver, swagger_ui_bundle
from importlib import resources
from mockserver.spec.commands import packaged_docs_page, packaged_document
print(json.dumps({
    "mockserver": mockserver.__file__,
    "contracts": contracts.__file__,
    "document": str(coder_chats_openapi.document()),
    "docs page": str(coder_chats_openapi.docs_page()),
    "control document": str(coder_chats_openapi.control_document()),
    "spec's document": str(packaged_document()),
    "spec's docs page": str(packaged_docs_page()),
    "scenario library": str(resources.files("mockserver.core") / "scenario_library" / "tool-use.yaml"),
    "swagger ui": str(swagger_ui_bundle.swagger_ui_path),
}))
"""


@dataclass(frozen=True, slots=True)
class Built:
    """The two artefacts of one build, and what the build printed."""

    wheel: Path
    sdist: Path
    log: str


@dataclass(frozen=True, slots=True)
class Installed:
    """A fresh venv holding the package, and a working directory outside any checkout."""

    venv: Path
    elsewhere: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`chats-mock ARGS` from the venv, run elsewhere."""
        return subprocess.run(
            [str(self.venv / "bin" / "chats-mock"), *args],
            cwd=self.elsewhere,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )


def _clean_env() -> dict[str, str]:
    """This environment without what would point a command at the checkout or at this venv."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    # setuptools warns "byte-compiling is disabled" when this is set: the machine's, not the build's.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _uv(*args: str, cwd: Path) -> str:
    """Run uv (the test extra's) and return what it printed; a failure shows it."""
    done = subprocess.run(
        [sys.executable, "-m", "uv", *args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"uv {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _fresh_venv(artefact: Path, where: Path) -> Installed:
    venv = where / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(venv), cwd=where)
    _uv("pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(artefact), cwd=where)
    elsewhere = where / "elsewhere"
    elsewhere.mkdir()
    return Installed(venv=venv, elsewhere=elsewhere)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sdist, and the wheel built from it, of a copy of this checkout."""
    source = copy_checkout(ROOT, tmp_path_factory.mktemp("source"))
    dist = tmp_path_factory.mktemp("dist")
    log = _uv("build", "--out-dir", str(dist), str(source), cwd=dist)
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    return Built(wheel=wheel, sdist=sdist, log=log)


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def installed(
    request: pytest.FixtureRequest, built: Built, tmp_path_factory: pytest.TempPathFactory
) -> Installed:
    """A fresh venv with the package installed from the wheel, or from the sdist."""
    artefact = built.wheel if request.param == "wheel" else built.sdist
    return _fresh_venv(artefact, tmp_path_factory.mktemp(request.param))


def _package_files() -> set[str]:
    """Every file of the packages as the install lays it out (coder_chats_openapi/chats.yaml ...)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *PACKAGE_FOLDERS.values()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    folder_to_package = {folder: package for package, folder in PACKAGE_FOLDERS.items()}
    files = set()
    for name in listed:
        folder, _, rest = name.partition("/")
        if (ROOT / name).is_file() and name not in NOT_PACKAGED:
            files.add(f"{folder_to_package[folder]}/{rest}")
    return files


def test_build_prints_no_warning(built: Built) -> None:
    warnings = [line for line in built.log.splitlines() if "warn" in line.lower()]
    assert warnings == [], built.log


def test_wheel_holds_every_file_of_the_packages(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
    assert _package_files() - names == set()


def test_sdist_holds_every_file_of_the_packages(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        # coder_chats_mock-0.1.0/openapi/chats.yaml: the sdist keeps the checkout's layout
        names = {name.partition("/")[2] for name in sdist.getnames()}
    in_checkout = {
        f"{PACKAGE_FOLDERS[package]}/{rest}"
        for package, _, rest in (name.partition("/") for name in _package_files())
    }
    assert in_checkout - names == set()


def test_package_data_comes_from_the_installed_package(installed: Installed) -> None:
    done = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", WHERE_DATA_COMES_FROM],
        cwd=installed.elsewhere,
        env=_clean_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    where = {name: Path(path).resolve() for name, path in json.loads(done.stdout).items()}
    outside = {name: str(path) for name, path in where.items() if not path.is_relative_to(installed.venv)}
    assert outside == {}
    assert all(path.exists() for path in where.values())


def test_spec_validate_checks_the_installed_document(installed: Installed) -> None:
    done = installed.run("spec", "validate")
    assert (done.returncode, done.stderr) == (0, "")
    path, _, verdict = done.stdout.strip().rpartition(": ")
    assert verdict == "valid OpenAPI 3.0.3"
    assert Path(path).is_relative_to(installed.venv)


def test_spec_check_docs_checks_the_installed_docs_page(installed: Installed) -> None:
    done = installed.run("spec", "check-docs")
    assert (done.returncode, done.stderr) == (0, "")
    page, _, rest = done.stdout.strip().partition(": all 4 operations match ")
    assert Path(page).is_relative_to(installed.venv), done.stdout
    assert Path(rest).is_relative_to(installed.venv), done.stdout


def test_verify_help_runs(installed: Installed) -> None:
    done = installed.run("verify", "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: chats-mock verify")


@pytest.mark.parametrize("api", ["v1", "current"])
def test_verify_lists_the_rules_of_each_api_generation(installed: Installed, api: str) -> None:
    done = installed.run("verify", "--api", api, "--list-rules")
    assert done.returncode == 0, done.stderr
    assert "WIRE.md" in done.stdout


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[str]:
    """The installed mock, served from elsewhere (one start per artefact: each costs ~2 s)."""
    port = free_port()
    command = [str(installed.venv / "bin" / "chats-mock"), "serve", "--port", str(port), "--clock", "instant"]
    with serving_command(command, port, cwd=installed.elsewhere, env=_clean_env()) as url:
        yield url + "/api/v2"


def test_served_mock_refuses_no_token_and_creates_with_a_demo_token(served: str) -> None:
    with httpx.Client(base_url=served) as client:
        assert client.get(f"/chats/{uuid.uuid4()}").status_code == 401
        created = client.post("/chats", json={"provider": "p", "model": "m"}, headers=ALICE)
        assert created.status_code == 201
        assert client.get("/ui/").status_code == 200  # Swagger UI, from the installed bundle


def test_served_mock_plays_a_built_in_scenario(served: str) -> None:
    with httpx.Client(base_url=served) as client:
        chat = client.post("/chats", json={"provider": "p", "model": "m"}, headers=ALICE).json()
        # When a message names the tool-use scenario (--clock instant: the run is written at once)
        posted = client.post(
            f"/chats/{chat['id']}/messages", json={"content": "/tool-use list the files"}, headers=ALICE
        )
        rows = client.get(f"/chats/{chat['id']}/messages", headers=ALICE).json()
    # Then the transcript holds the scenario's rows, ending with the run's finish
    assert posted.status_code == 201
    assert [shape(row) for row in rows] == HEAD + EXPECTED["tool-use"]
    assert rows[-1]["content"]["finish_reason"] == "stop"


def test_wheel_without_its_document_fails_in_one_line(built: Built, tmp_path: Path) -> None:
    # Given a wheel built without the document (as when package data is not declared)
    broken = tmp_path / built.wheel.name
    missing = "coder_chats_openapi/chats.yaml"
    with zipfile.ZipFile(built.wheel) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith(".dist-info/RECORD"):
                data = b"".join(
                    line for line in data.splitlines(True) if not line.startswith(missing.encode())
                )
            if item.filename != missing:
                target.writestr(item, data)
    installed = _fresh_venv(broken, tmp_path)
    commands = (
        ["spec", "validate"],
        ["serve", "--port", str(free_port())],
    )
    for command in commands:
        # When a command that reads it runs
        done = installed.run(*command)
        # Then it says what is missing in one line, and exits 2
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
        assert "lacks its data" in done.stderr
        assert missing in done.stderr


@pytest.fixture(scope="module")
def from_wheel(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed in a fresh venv, for what a user outside the checkout runs with it."""
    return _fresh_venv(built.wheel, tmp_path_factory.mktemp("wheel-user"))


@pytest.mark.parametrize("api", ["v1", "current"])
def test_plain_schemathesis_with_the_shipped_config_finds_nothing_on_the_installed_mock(
    from_wheel: Installed, api: str
) -> None:
    # Given the installed mock of one generation, and the paths the installed package names
    config = from_wheel.run("spec", "path", "schemathesis-config").stdout.strip()
    document = from_wheel.run("spec", "path", api).stdout.strip()
    assert Path(config).is_relative_to(from_wheel.venv) and Path(document).is_relative_to(from_wheel.venv)
    port = free_port()
    command = [str(from_wheel.venv / "bin" / "chats-mock"), "serve", "--api", api, "--port", str(port)]
    with serving_command(command, port, cwd=from_wheel.elsewhere, env=_clean_env()) as url:
        # When plain Schemathesis runs from elsewhere (no schemathesis.toml there) with that config
        done = subprocess.run(
            [
                *(str(from_wheel.venv / "bin" / "schemathesis"), "--config-file", config, "run", document),
                *("--url", f"{url}/api/v2", "-H", f"Coder-Session-Token: {DEMO_TOKENS['alice']}"),
                *("--checks", "all", "--mode", "all", "--seed", "1", "--max-examples", "5"),
            ],
            cwd=from_wheel.elsewhere,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
    # Then it finds nothing
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = re.search(r"(\d+) generated, (\d+) passed(, \d+ skipped)?\n", done.stdout)
    assert summary is not None, done.stdout[-4000:]
    assert int(summary.group(2)) > 0 and "failed" not in summary.group(0)
    assert "FAILURES" not in done.stdout


def test_the_typescript_examples_build_and_run_from_a_copy_outside_the_checkout(
    npm_tools: NpmTools, from_wheel: Installed, tmp_path: Path
) -> None:
    # Given a copy of examples/ts and the generated types beside it, as the README says to copy them
    copy = tmp_path / "my-ui"
    for folder in ("examples/ts", "types"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("node_modules", "dist"))
    example = copy / "examples" / "ts"
    # When the documented npm commands install its tools (pinned in its package-lock.json) and build it
    installed_tools = npm_tools.run(
        ["npm", "ci", "--prefix", str(example), "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=copy,
        timeout=600,
    )
    assert installed_tools.returncode == 0, installed_tools.stdout + installed_tools.stderr
    built_example = npm_tools.run(["npm", "run", "--prefix", str(example), "build"], cwd=copy)
    # Then it type-checks (no typeRoots into tools/npm) and runs against the installed mock
    assert built_example.returncode == 0, built_example.stdout + built_example.stderr
    port = free_port()
    command = [
        str(from_wheel.venv / "bin" / "chats-mock"),
        "serve",
        "--port",
        str(port),
        "--clock",
        "instant",
    ]
    with serving_command(command, port, cwd=from_wheel.elsewhere, env=_clean_env()) as url:
        ran = npm_tools.run(
            [npm_tools.node, str(example / "dist" / "transcript.mjs"), f"{url}/api/v2", DEMO_TOKENS["alice"]],
            cwd=copy,
            timeout=60,
        )
    assert (ran.returncode, ran.stderr) == (0, ""), ran.stdout
    assert ran.stdout.splitlines() == TRANSCRIPT_OUTPUT
