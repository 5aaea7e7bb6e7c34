"""Every document in openapi/ passes the linters frontends use, stock and with the project's config.

Each `*.yaml` under openapi/ is found here (a new document is linted without a change to this
file) and run, at the versions tools/npm pins, through:
- Redocly's `recommended` and Spectral's `spectral:oas` / `spectral:asyncapi` with NO project
  config (from a directory without one): 0 errors;
- the same with redocly.yaml and .spectral.yaml: 0 errors and 0 warnings, and every rule those
  files turn off is one the stock run warned of, each with its reason on the line above;
- the AsyncAPI parser (@asyncapi/parser, tools/npm/asyncapi-check.mjs) for each AsyncAPI
  document: 0 errors.
A planted fault in a copy of a document shows that each linter still reads what it is given.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.npm_tools import ROOT, TOOLS, NpmTools


def _documents(kind: str) -> tuple[str, ...]:
    """The documents under openapi/ whose top-level `openapi` or `asyncapi` key says their kind."""
    found = []
    for path in sorted((ROOT / "openapi").rglob("*.yaml")):
        with path.open(encoding="utf-8") as text:
            if kind in (yaml.safe_load(text) or {}):
                found.append(str(path.relative_to(ROOT)))
    return tuple(found)


OPENAPI = _documents("openapi")
ASYNCAPI = _documents("asyncapi")
DOCUMENTS = OPENAPI + ASYNCAPI
# The fault planted in a copy: two operations with one operationId, which both rulesets refuse.
DUPLICATE_ID = ("\n      operationId: get-chat\n", "\n      operationId: create-chat\n")
# Spectral's stock rulesets, with nothing of the project's.
STOCK_SPECTRAL = 'extends: ["spectral:oas", "spectral:asyncapi"]\n'


def _json_values(text: str) -> list[Any]:
    """Every JSON value in `text`, one after another (Redocly prints one object per document)."""
    decoder = json.JSONDecoder()
    values, at = [], 0
    while (start := text.find("{", at)) != -1:
        value, at = decoder.raw_decode(text, start)
        values.append(value)
    return values


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of chats.yaml with one fault: two operations share an operationId."""
    text = (ROOT / "openapi" / "chats.yaml").read_text(encoding="utf-8")
    assert text.count(DUPLICATE_ID[0]) == 1
    copy = tmp_path_factory.mktemp("planted") / "chats.yaml"
    copy.write_text(text.replace(*DUPLICATE_ID), encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def no_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory holding no redocly.yaml or .spectral.yaml, and the stock Spectral ruleset."""
    where = tmp_path_factory.mktemp("no-config")
    (where / "stock-spectral.yaml").write_text(STOCK_SPECTRAL, encoding="utf-8")
    return where


def _redocly(npm_tools: NpmTools, paths: list[str], *, cwd: Path, config: list[str]) -> dict[str, list[str]]:
    """Redocly's problems (`severity rule: message at pointer`) per linted file, in one run."""
    done = npm_tools.run(
        [npm_tools.bin("redocly"), "lint", *config, "--format", "json", *[str(ROOT / p) for p in paths]],
        cwd=cwd,
    )
    reports = _json_values(done.stdout)
    assert len(reports) == len(paths), f"redocly ({done.returncode}):\n{done.stdout}{done.stderr}"
    return {
        path: [
            f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
            for p in report["problems"]
        ]
        for path, report in zip(paths, reports, strict=True)
    }


def _spectral(npm_tools: NpmTools, paths: list[str], *, cwd: Path, ruleset: Path) -> dict[str, list[str]]:
    """Spectral's errors and warnings (`severity rule: message at path`) per linted file, in one run."""
    output = cwd / "spectral.json"
    done = npm_tools.run(
        [
            *(npm_tools.bin("spectral"), "lint", "--ruleset", str(ruleset), "--format", "json"),
            *("--output", str(output), *[str(ROOT / p) for p in paths]),
        ],
        cwd=cwd,
    )
    assert output.is_file(), f"spectral wrote no report ({done.returncode}):\n{done.stdout}{done.stderr}"
    found: dict[str, list[str]] = {path: [] for path in paths}
    for result in json.loads(output.read_text(encoding="utf-8")):
        if result["severity"] > 1:  # 0 error, 1 warning, 2 information, 3 hint
            continue
        source = Path(result["source"]).resolve()
        path = next(p for p in paths if (ROOT / p).resolve() == source)
        severity = "error" if result["severity"] == 0 else "warn"
        found[path].append(
            f"{severity} {result['code']}: {result['message']} at {'.'.join(map(str, result['path']))}"
        )
    return found


@pytest.fixture(scope="module")
def stock_redocly(npm_tools: NpmTools, no_config: Path) -> dict[str, list[str]]:
    return _redocly(npm_tools, list(DOCUMENTS), cwd=no_config, config=["--extends", "recommended"])


@pytest.fixture(scope="module")
def stock_spectral(npm_tools: NpmTools, no_config: Path) -> dict[str, list[str]]:
    return _spectral(npm_tools, list(DOCUMENTS), cwd=no_config, ruleset=no_config / "stock-spectral.yaml")


@pytest.fixture(scope="module")
def redocly(npm_tools: NpmTools, planted: Path) -> dict[str, list[str]]:
    paths = [*DOCUMENTS, str(planted)]
    return _redocly(npm_tools, paths, cwd=ROOT, config=["--config", str(ROOT / "redocly.yaml")])


@pytest.fixture(scope="module")
def spectral(npm_tools: NpmTools, planted: Path) -> dict[str, list[str]]:
    return _spectral(
        npm_tools, [*DOCUMENTS, str(planted)], cwd=planted.parent, ruleset=ROOT / ".spectral.yaml"
    )


def test_every_yaml_document_under_openapi_is_linted() -> None:
    assert len(OPENAPI) >= 3 and len(ASYNCAPI) >= 2
    assert {"openapi/chats.yaml", "openapi/current/chats.yaml", "openapi/control.yaml"} <= set(OPENAPI)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_stock_redocly_recommended_finds_no_error(stock_redocly: dict[str, list[str]], document: str) -> None:
    assert [problem for problem in stock_redocly[document] if problem.startswith("error ")] == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_stock_spectral_finds_no_error(stock_spectral: dict[str, list[str]], document: str) -> None:
    assert [problem for problem in stock_spectral[document] if problem.startswith("error ")] == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_redocly_with_the_project_config_finds_nothing(redocly: dict[str, list[str]], document: str) -> None:
    assert redocly[document] == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_spectral_with_the_project_config_finds_nothing(
    spectral: dict[str, list[str]], document: str
) -> None:
    assert spectral[document] == []


def _turned_off(config: Path) -> list[tuple[str, str]]:
    """Each rule the config turns off, with the line above it."""
    lines = config.read_text(encoding="utf-8").splitlines()
    return [
        (match.group(1), lines[index - 1].strip())
        for index, line in enumerate(lines)
        if (match := re.fullmatch(r"\s*([\w-]+): off", line))
    ]


@pytest.mark.parametrize(
    ("config", "stock"), [("redocly.yaml", "stock_redocly"), (".spectral.yaml", "stock_spectral")]
)
def test_each_rule_the_config_turns_off_is_a_stock_warning_with_its_reason(
    config: str, stock: str, request: pytest.FixtureRequest
) -> None:
    warned = {
        problem.split(":")[0].split()[1]
        for problems in request.getfixturevalue(stock).values()
        for problem in problems
    }
    for rule, above in _turned_off(ROOT / config):
        assert rule in warned, f"{config} turns off {rule}, which the stock run does not warn of"
        # The reason is a comment, just above (or above the override's files list).
        assert above.startswith("#") or above == "rules:", (rule, above)


@pytest.mark.parametrize("document", ASYNCAPI)
def test_the_asyncapi_parser_finds_no_error(npm_tools: NpmTools, document: str) -> None:
    done = npm_tools.run([npm_tools.node, str(TOOLS / "asyncapi-check.mjs"), str(ROOT / document)])
    assert done.returncode == 0, done.stdout + done.stderr
    diagnostics = json.loads(done.stdout)["diagnostics"]
    assert [d for d in diagnostics if d["severity"] == "error"] == []


def test_a_planted_fault_is_reported_by_both_linters(
    redocly: dict[str, list[str]], spectral: dict[str, list[str]], planted: Path
) -> None:
    assert any(" operation-operationId-unique:" in problem for problem in redocly[str(planted)])
    assert any(" operation-operationId-unique:" in problem for problem in spectral[str(planted)])
