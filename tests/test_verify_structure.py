"""verify's shape: it judges any server, so it never imports the mock, and its rules are grouped by section."""

from __future__ import annotations

import ast
from pathlib import Path

from contracts.runner import default_suite

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"


def test_contracts_never_import_the_mock() -> None:
    imported = set()
    for path in CONTRACTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {(path.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module))

    assert [(file, name) for file, name in imported if name.split(".")[0] == "mockserver"] == []


def test_only_the_default_suite_names_a_generation() -> None:
    # The core (contracts/*.py) knows no generation; a generation is a folder with its suite.
    for path in CONTRACTS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "runner.py":
            assert "contracts.v1" not in text.replace("contracts.v1.facts.WireFacts", ""), path.name


def test_every_scenario_rule_is_in_the_book_and_every_rule_has_a_section() -> None:
    suite = default_suite()
    names = suite.book.names()

    assert len(names) == len(set(names))
    assert {rule for scenario in suite.scenarios for rule in scenario.rules} <= set(names)
    assert all(suite.book.source_of(name) for name in names)
