"""Types a UI of today's API can lean on: types/current/chats.d.ts is what openapi-typescript makes
of openapi/current/chats.yaml, and the strict stream consumer (examples/ts/src/stream.mts)
compiles against it, would stop compiling if the document grew a kind it does not handle, and
follows a run on `chats-mock serve --api current` across a disconnect the control plane forces.
"""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mockserver import DEMO_TOKENS
from tests.npm_tools import ROOT, TOOLS, NpmTools

TYPES = ROOT / "types" / "current" / "chats.d.ts"
ALICE_HEADER = {"Coder-Session-Token": DEMO_TOKENS["alice"]}
EXAMPLE = ROOT / "examples" / "ts"
CONSUMER = EXAMPLE / "src" / "stream.mts"
STREAM_EVENT_TYPES = (
    "message_part",
    "message",
    "status",
    "error",
    "queue_update",
    "retry",
    "action_required",
    "preview_reset",
    "history_reset",
)


def _schemas_section() -> str:
    return TYPES.read_text(encoding="utf-8").split("    schemas: {", 1)[1].split("    responses: {", 1)[0]


def test_the_committed_current_types_are_what_openapi_typescript_makes_of_the_document(
    npm_tools: NpmTools, tmp_path: Path
) -> None:
    fresh = tmp_path / "chats.d.ts"
    # From tools/npm: at the root, openapi-typescript would take its inputs from redocly.yaml.
    done = npm_tools.run(
        [
            npm_tools.bin("openapi-typescript"),
            str(ROOT / "openapi" / "current" / "chats.yaml"),
            "-o",
            str(fresh),
        ],
        cwd=TOOLS,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "⚠" not in done.stdout + done.stderr, "openapi-typescript warns about the document"
    assert fresh.read_text(encoding="utf-8") == TYPES.read_text(encoding="utf-8"), (
        "types/current/chats.d.ts is stale: run `npm run --prefix tools/npm types:current` and commit it"
    )


def test_the_current_types_make_stream_events_a_closed_union_on_type() -> None:
    schemas = _schemas_section()
    assert "Record<string, never>" not in schemas  # an object with data typed as holding nothing
    union = re.search(r'"codersdk\.ChatStreamEvent": (.*);\n', schemas)
    assert union is not None
    assert union[1].split(" | ") == [
        f'components["schemas"]["codersdk.ChatStreamEvent.{kind}"]' for kind in STREAM_EVENT_TYPES
    ]
    for kind in STREAM_EVENT_TYPES:
        assert f'type: "{kind}";' in schemas
    assert '"codersdk.ChatStreamFrame": components["schemas"]["codersdk.ChatStreamEvent"][];' in schemas
    assert (
        'kind: components["schemas"]["codersdk.ChatWatchEventKind"];' in schemas
        and 'chat: components["schemas"]["codersdk.Chat"];' in schemas
    )


def _compile(npm_tools: NpmTools, source: Path, out: Path) -> tuple[int, str]:
    """tsc over one consumer file with examples/ts's strict options, wherever the file is."""
    done = npm_tools.run(
        [
            npm_tools.bin("tsc"),
            "--strict",
            "--noUncheckedIndexedAccess",
            "--exactOptionalPropertyTypes",
            "--noImplicitReturns",
            "--noFallthroughCasesInSwitch",
            "--target",
            "ES2022",
            "--lib",
            "ES2022",
            "--module",
            "NodeNext",
            "--moduleResolution",
            "NodeNext",
            "--typeRoots",
            str(TOOLS / "node_modules" / "@types"),
            "--types",
            "node",
            "--skipLibCheck",
            "--outDir",
            str(out),
            str(source),
        ]
    )
    return done.returncode, done.stdout + done.stderr


def test_the_strict_stream_consumer_compiles_under_the_example_tsconfig(
    npm_tools: NpmTools, tmp_path: Path
) -> None:
    compiled = npm_tools.run(
        [npm_tools.bin("tsc"), "-p", str(EXAMPLE), *npm_tools.node_types(), "--outDir", str(tmp_path)]
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert (tmp_path / "stream.mjs").is_file()


def test_the_stream_consumer_stops_compiling_when_an_event_type_goes_unhandled(
    npm_tools: NpmTools, tmp_path: Path
) -> None:
    # Given: the consumer, as it is and with its `history_reset` case removed (types imported by
    # absolute path, since the copy lives elsewhere)
    source = CONSUMER.read_text(encoding="utf-8").replace(
        '"../../../types/current/chats.js"', f'"{(ROOT / "types" / "current" / "chats.js").as_posix()}"'
    )
    handled, unhandled = tmp_path / "handled" / "stream.mts", tmp_path / "unhandled" / "stream.mts"
    for path in (handled, unhandled):
        path.parent.mkdir()
    handled.write_text(source, encoding="utf-8")
    case = re.search(r'\n      case "history_reset":\n(?:        .*\n)+?        return;\n', source)
    assert case is not None
    unhandled.write_text(source.replace(case[0], "\n"), encoding="utf-8")
    # Then: only the copy that forgets a kind fails, at its assertNever
    assert _compile(npm_tools, handled, tmp_path / "out1") == (0, "")
    code, output = _compile(npm_tools, unhandled, tmp_path / "out2")
    assert code != 0
    assert "is not assignable to parameter of type 'never'" in output, output


# --- the consumer against `chats-mock serve --api current` ---------------------------------------

# Seconds a real process may take to start or to print its next line on a busy CI machine: a guard
# against a hang, not a speed requirement (the run itself moves only when the test moves the clock).
PATIENCE = 60
# What the consumer prints for a `tool-use` run on a fresh mock when its stream is closed with 1011
# once the run's first model step is stored (the first line, with the chat's id, is checked apart).
EXPECTED_AFTER_CREATE = [
    "stream open (after_id=0)",
    '#1 user: text "/tool-use What is in the workspace?"',
    "status: running",
    '#2 assistant: reasoning "I should look at the workspace before answering."; calls list_files with {"path":"."}',
    '#3 tool: list_files returned ["README.md","main.go","go.mod"]',
    'stream closed by the server: 1011 "restarting"; reconnecting with after_id=3',
    "stream open (after_id=3)",
    '#4 assistant: calls read_file with {"path":"main.go"}',
    '#5 tool: read_file failed {"error":"open main.go: permission denied"}',
    '#6 assistant: text "The workspace has three files. I could not read main.go: permission denied."',
    "status: waiting (idle)",
    "run over: 6 messages, 4 parts streamed, 1 reconnect(s)",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serving_current_mock() -> Iterator[str]:
    """`chats-mock serve --api current` on virtual time, with its control plane; its root URL."""
    command = Path(sys.executable).with_name("chats-mock")
    port = _free_port()
    server = subprocess.Popen(
        [str(command), "serve", "--api", "current", "--clock", "virtual", "--control", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                httpx.get(f"{root}/api/v2/chats", timeout=1)  # any answer (a 401) means it listens
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise AssertionError(
                        f"chats-mock serve did not start:\n{server.communicate()[1]}"
                    ) from None
                time.sleep(0.05)  # waiting for a real process to bind: no virtual clock here
        yield root
    finally:
        server.terminate()
        server.communicate(timeout=10)


class Lines:
    """A process's stdout, line by line, each read with a deadline (a hang fails, it never blocks)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stdout = process.stdout

        def pump() -> None:
            for line in stdout:
                self._queue.put(line.rstrip("\n"))
            self._queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def until(self, wanted: Callable[[str], bool]) -> str:
        while True:
            try:
                line = self._queue.get(timeout=PATIENCE)
            except queue.Empty:
                raise AssertionError(f"no line came; so far: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the consumer ended; it printed: {self.seen}")
            self.seen.append(line)
            if wanted(line):
                return line

    def rest(self) -> list[str]:
        while (line := self._queue.get(timeout=PATIENCE)) is not None:
            self.seen.append(line)
        return self.seen


def test_the_stream_consumer_renders_a_run_and_survives_a_forced_disconnect(
    npm_tools: NpmTools, tmp_path: Path
) -> None:
    compiled = npm_tools.run(
        [npm_tools.bin("tsc"), "-p", str(EXAMPLE), *npm_tools.node_types(), "--outDir", str(tmp_path)]
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    # Node 22 has the browser's WebSocket; Node 20 behind a flag (which later versions may not take).
    has_websocket = npm_tools.run(
        [npm_tools.node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"]
    )
    flags = [] if has_websocket.returncode == 0 else ["--experimental-websocket"]
    with _serving_current_mock() as root:
        consumer = subprocess.Popen(
            [
                npm_tools.node,
                *flags,
                str(tmp_path / "stream.mjs"),
                f"{root}/api/v2",
                DEMO_TOKENS["alice"],
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(npm_tools.environ),
        )
        try:
            lines = Lines(consumer)
            created = lines.until(lambda line: line.startswith("chat "))
            chat = created.split()[1]
            lines.until(lambda line: line == "status: running")
            # When: the run's first model step is written, then the server drops the chat's streams
            assert httpx.post(f"{root}/__mock/clock/advance", json={"seconds": 0.8}).status_code == 200
            lines.until(lambda line: line.startswith("#3 tool:"))
            dropped = httpx.post(
                f"{root}/__mock/chats/{chat}/streams/close", json={"code": 1011, "reason": "restarting"}
            )
            assert dropped.json() == {"closed": 1}
            # and, once the consumer is back, the run plays to its end
            lines.until(lambda line: line.startswith("stream open (after_id=3)"))
            assert httpx.post(f"{root}/__mock/clock/finish").status_code == 200
            printed = lines.rest()
            assert consumer.wait(PATIENCE) == 0
            stored = httpx.get(f"{root}/api/v2/chats/{chat}/messages", headers=ALICE_HEADER).json()[
                "messages"
            ]
        finally:
            if consumer.poll() is None:
                consumer.kill()
            _, errors = consumer.communicate(timeout=10)
    # Then: it rendered every message once, in order, across the reconnect, and ended cleanly
    assert printed == [created, *EXPECTED_AFTER_CREATE]
    assert created == f"chat {chat} created, status running"
    assert [line.split(" ")[0] for line in printed if line.startswith("#")] == [
        f"#{message['id']}" for message in reversed(stored)
    ]
    assert [
        line for line in errors.splitlines() if "ExperimentalWarning" not in line and line.strip()
    ] == [], errors
