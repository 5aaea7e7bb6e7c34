"""Types a UI of today's API can lean on: types/current/chats.d.ts is what openapi-typescript makes
of openapi/current/chats.yaml, and the strict stream consumer (examples/ts/src/stream.mts)
compiles against it and would stop compiling if the document grew a kind it does not handle.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.npm_tools import ROOT, TOOLS, NpmTools

TYPES = ROOT / "types" / "current" / "chats.d.ts"
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
    compiled = npm_tools.run([npm_tools.bin("tsc"), "-p", str(EXAMPLE), "--outDir", str(tmp_path)])
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
