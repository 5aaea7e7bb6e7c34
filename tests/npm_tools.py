"""The npm tools of tools/npm (linters, AsyncAPI parser, openapi-typescript, tsc), installed once.

`npm ci --prefix tools/npm` installs exactly what tools/npm/package-lock.json names into
tools/npm/node_modules (git-ignored); a stamp holding the lock file's digest skips the install
while the lock file is unchanged. Without Node.js or npm a local run skips the tests that need
them, with the reason; under CI=true that is a failure, since CI must run them.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools" / "npm"
LOCK = TOOLS / "package-lock.json"
STAMP = TOOLS / "node_modules" / ".installed-from-lock"
# An npm ci of every tool takes about a minute on a shared CI core; allow for a slow registry.
INSTALL_TIMEOUT = 900
# No tool may phone home or nag: telemetry and update checks off, for every run.
QUIET = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "SCARF_ANALYTICS": "false",
    "NO_UPDATE_NOTIFIER": "1",
    "npm_config_update_notifier": "false",
}


@dataclass(frozen=True, slots=True)
class NpmTools:
    """Node.js and the installed tools of tools/npm."""

    node: str
    environ: Mapping[str, str]

    def bin(self, name: str) -> str:
        """The path of an installed tool's command (node_modules/.bin)."""
        return str(TOOLS / "node_modules" / ".bin" / name)

    def node_types(self) -> list[str]:
        """tsc's options that find Node's types in tools/npm (examples/ts's own install has them too)."""
        return ["--typeRoots", str(TOOLS / "node_modules" / "@types")]

    def run(
        self, argv: Sequence[str], *, cwd: Path = ROOT, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run a command to its end, output captured as text; the caller judges the exit code."""
        return subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(self.environ),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _missing(what: str, environ: Mapping[str, str]) -> None:
    reason = f"{what} not found on PATH: the npm document tools (tools/npm) cannot run"
    if environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run them (install Node.js 20+ with npm)", pytrace=False)
    pytest.skip(reason)


def install(environ: Mapping[str, str]) -> NpmTools:
    """Install tools/npm with `npm ci` unless its lock file is already installed; the tools."""
    node = shutil.which("node", path=environ.get("PATH"))
    npm = shutil.which("npm", path=environ.get("PATH"))
    if node is None:
        _missing("node (Node.js)", environ)
    if npm is None:
        _missing("npm", environ)
    assert node is not None and npm is not None
    tools = NpmTools(node=node, environ={**environ, **QUIET})
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    # pytest-xdist runs one session per worker: the first to take the lock installs, the others
    # wait for it and find the stamp.
    with (TOOLS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install_once(tools, npm, digest)
    return tools


def _install_once(tools: NpmTools, npm: str, digest: str) -> None:
    if not (STAMP.is_file() and STAMP.read_text(encoding="utf-8") == digest):
        done = tools.run(
            [npm, "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error"],
            timeout=INSTALL_TIMEOUT,
        )
        if done.returncode != 0:
            pytest.fail(
                f"npm ci --prefix tools/npm failed ({done.returncode}):\n{done.stdout}{done.stderr}",
                pytrace=False,
            )
        STAMP.write_text(digest, encoding="utf-8")
