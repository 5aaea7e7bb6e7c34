"""The documents pass the linters frontends use: Redocly's `recommended`, Spectral's `spectral:oas`.

Both run from tools/npm at their pinned versions, with the project's redocly.yaml and
.spectral.yaml (each rule turned off there says why). 0 errors and 0 warnings, and a planted
fault in a copy of the document shows that each linter still reads what it is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.npm_tools import ROOT, NpmTools

DOCUMENTS = ("openapi/chats.yaml", "openapi/control.yaml")
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


def _redocly(npm_tools: NpmTools, *paths: str) -> list[dict[str, Any]]:
    done = npm_tools.run(
        [npm_tools.bin("redocly"), "lint", "--config", str(ROOT / "redocly.yaml"), "--format", "json", *paths]
    )
    reports = _json_values(done.stdout)
    assert reports, f"redocly printed no report ({done.returncode}):\n{done.stdout}{done.stderr}"
    return reports


def _spectral(npm_tools: NpmTools, output: Path, *paths: str) -> list[dict[str, Any]]:
    done = npm_tools.run(
        [npm_tools.bin("spectral"), "lint", "--format", "json", "--output", str(output), *paths]
    )
    assert output.is_file(), f"spectral wrote no report ({done.returncode}):\n{done.stdout}{done.stderr}"
    results: list[dict[str, Any]] = json.loads(output.read_text(encoding="utf-8"))
    return results


def _planted_copy(tmp_path: Path) -> str:
    text = (ROOT / "openapi" / "chats.yaml").read_text(encoding="utf-8")
    assert text.count(DUPLICATE_ID[0]) == 1
    planted = tmp_path / "chats.yaml"
    planted.write_text(text.replace(*DUPLICATE_ID), encoding="utf-8")
    return str(planted)


def test_documents_pass_redocly_recommended_without_errors_or_warnings(npm_tools: NpmTools) -> None:
    reports = _redocly(npm_tools)  # the `apis` of redocly.yaml: both documents
    problems = [
        f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
        for report in reports
        for p in report["problems"]
    ]
    assert len(reports) == len(DOCUMENTS)
    assert problems == []
    assert [report["totals"] for report in reports] == [{"errors": 0, "warnings": 0, "ignored": 0}] * 2


def test_documents_pass_spectral_oas_without_errors_or_warnings(npm_tools: NpmTools, tmp_path: Path) -> None:
    results = _spectral(npm_tools, tmp_path / "spectral.json", *DOCUMENTS)
    assert [f"{r['code']}: {r['message']} at {'.'.join(map(str, r['path']))}" for r in results] == []


def test_a_planted_fault_is_reported_by_both_linters(npm_tools: NpmTools, tmp_path: Path) -> None:
    planted = _planted_copy(tmp_path)
    redocly = {p["ruleId"] for report in _redocly(npm_tools, planted) for p in report["problems"]}
    spectral = {r["code"] for r in _spectral(npm_tools, tmp_path / "spectral.json", planted)}
    assert "operation-operationId-unique" in redocly
    assert "operation-operationId-unique" in spectral
