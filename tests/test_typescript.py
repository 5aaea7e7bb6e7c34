"""Types a UI can lean on: types/chats.d.ts is what openapi-typescript makes of the document, and
the strict client example (examples/ts) compiles against it and reads a run from `chats-mock serve`.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mockserver import DEMO_TOKENS
from tests.npm_tools import ROOT, TOOLS, NpmTools

TYPES = ROOT / "types" / "chats.d.ts"
EXAMPLE = ROOT / "examples" / "ts"
# What the example prints for a `tool-use` run on a fresh mock (ids from 1; no uuid printed).
EXPECTED_OUTPUT = [
    'chat "Look around the workspace" created, reads back: true',
    "posted #2, run started: true",
    '#1 system: system prompt "You are a helpful assistant."',
    '#2 user: says text "What is in the workspace?"',
    "#3 system: run started",
    '#4 tool_call: calls list_files with {"path":"."}',
    '#5 tool_result: list_files returned ["README.md","main.go","go.mod"]',
    '#6 assistant: answer "" in parts: step-start, reasoning "I should look at the workspace before'
    ' answering.", tool-invocation list_files (result)',
    "#7 system: step 0 used 812 prompt + 24 completion tokens",
    '#8 tool_call: calls read_file with {"path":"main.go"}',
    "#9 tool_result: read_file failed: open main.go: permission denied",
    '#10 assistant: answer "" in parts: step-start, tool-invocation read_file (result)',
    "#11 system: step 1 used 910 prompt + 19 completion tokens",
    '#12 assistant: answer "The workspace has three files. I could not read main.go: permission denied."'
    ' in parts: step-start, text "The workspace has three files. I could not read main.go: permission denied."',
    "#13 system: step 2 used 1003 prompt + 31 completion tokens",
    "#14 system: run finished: stop after 3 steps",
    'a chat that does not exist: 404 "Resource not found or you do not have access to this resource"',
]
# Seconds `chats-mock serve` may take to answer its first request on a busy CI machine.
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serving_mock() -> Iterator[str]:
    """`chats-mock serve` on a free port, runs written at once (`--clock instant`); its base URL."""
    command = Path(sys.executable).with_name("chats-mock")
    port = _free_port()
    server = subprocess.Popen(
        [str(command), "serve", "--port", str(port), "--clock", "instant", "--validate-responses"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/api/v2"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                httpx.get(f"{base}/chats/ready", timeout=1)  # any answer (a 401) means it listens
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise AssertionError(
                        f"chats-mock serve did not start:\n{server.communicate()[1]}"
                    ) from None
                time.sleep(0.05)  # waiting for a real process to bind: no virtual clock here
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_the_committed_types_are_what_openapi_typescript_makes_of_the_document(
    npm_tools: NpmTools, tmp_path: Path
) -> None:
    fresh = tmp_path / "chats.d.ts"
    # From tools/npm: at the root, openapi-typescript would take its inputs from redocly.yaml.
    done = npm_tools.run(
        [npm_tools.bin("openapi-typescript"), str(ROOT / "openapi" / "chats.yaml"), "-o", str(fresh)],
        cwd=TOOLS,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "⚠" not in done.stdout + done.stderr, "openapi-typescript warns about the document"
    assert fresh.read_text(encoding="utf-8") == TYPES.read_text(encoding="utf-8"), (
        "types/chats.d.ts is stale: run `npm run --prefix tools/npm types` and commit it"
    )


def test_the_types_carry_no_placeholder_for_data() -> None:
    schemas = TYPES.read_text(encoding="utf-8").split("    schemas: {", 1)[1].split("    responses: {", 1)[0]
    assert "Record<string, never>" not in schemas  # an object with data typed as holding nothing
    assert re.findall(r'type: "(?:chats|aisdk|codersdk)\.\w+"', schemas) == []  # a schema name as a literal
    assert 'role: "system" | "user" | "assistant" | "tool_call" | "tool_result";' in schemas
    assert 'code: "llm_init_failed" | "upstream_error" | "stream_error" | "marshal_error";' in schemas


def test_the_strict_example_compiles_and_reads_a_tool_use_run_from_chats_mock_serve(
    npm_tools: NpmTools, tmp_path: Path
) -> None:
    # When: the example compiles under its strict tsconfig (TypeScript 5 from tools/npm)
    compiled = npm_tools.run(
        [npm_tools.bin("tsc"), "-p", str(EXAMPLE), *npm_tools.node_types(), "--outDir", str(tmp_path)]
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    version = npm_tools.run([npm_tools.bin("tsc"), "--version"]).stdout
    assert version.startswith("Version 5."), version
    # and runs against the mock
    with _serving_mock() as base:
        ran = npm_tools.run(
            [npm_tools.node, str(tmp_path / "transcript.mjs"), base, DEMO_TOKENS["alice"]], timeout=60
        )
    # Then
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout.splitlines() == EXPECTED_OUTPUT
