"""The documents pass the linters frontends use: Redocly's `recommended`, Spectral's `spectral:oas`.

Both run from tools/npm at their pinned versions, with the project's redocly.yaml and
.spectral.yaml (each rule turned off there says why). 0 errors and 0 warnings, and a planted
fault in a copy of the document shows that each linter still reads what it is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.npm_tools import ROOT, NpmTools

DOCUMENTS = (
    "openapi/chats.yaml",
    "openapi/current/chats.yaml",
    "openapi/current/dashboard.yaml",
    "openapi/control.yaml",
)
# The fault planted in a copy: two operations with one operationId, which both rulesets refuse.
DUPLICATE_ID = ("\n      operationId: get-chat\n", "\n      operationId: create-chat\n")


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
def redocly(npm_tools: NpmTools, planted: Path) -> dict[str, list[str]]:
    """Redocly's problems (`severity rule: message at pointer`) per linted file, in one run."""
    paths = [*DOCUMENTS, str(planted)]
    done = npm_tools.run(
        [npm_tools.bin("redocly"), "lint", "--config", str(ROOT / "redocly.yaml"), "--format", "json", *paths]
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


@pytest.fixture(scope="module")
def spectral(npm_tools: NpmTools, planted: Path) -> dict[str, list[str]]:
    """Spectral's problems (`rule: message at path`) per linted file, in one run."""
    output = planted.with_name("spectral.json")
    paths = [*DOCUMENTS, str(planted)]
    done = npm_tools.run(
        [npm_tools.bin("spectral"), "lint", "--format", "json", "--output", str(output), *paths]
    )
    assert output.is_file(), f"spectral wrote no report ({done.returncode}):\n{done.stdout}{done.stderr}"
    found: dict[str, list[str]] = {path: [] for path in paths}
    for result in json.loads(output.read_text(encoding="utf-8")):
        source = Path(result["source"]).resolve()
        path = next(p for p in paths if (ROOT / p).resolve() == source)
        found[path].append(f"{result['code']}: {result['message']} at {'.'.join(map(str, result['path']))}")
    return found


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_document_passes_redocly_recommended_without_errors_or_warnings(
    redocly: dict[str, list[str]], document: str
) -> None:
    assert redocly[document] == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_document_passes_spectral_oas_without_errors_or_warnings(
    spectral: dict[str, list[str]], document: str
) -> None:
    assert spectral[document] == []


def test_a_planted_fault_is_reported_by_both_linters(
    redocly: dict[str, list[str]], spectral: dict[str, list[str]], planted: Path
) -> None:
    assert any(" operation-operationId-unique:" in problem for problem in redocly[str(planted)])
    assert any(problem.startswith("operation-operationId-unique:") for problem in spectral[str(planted)])
