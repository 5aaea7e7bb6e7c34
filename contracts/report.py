"""The verdict of a run: violations grouped by rule, as a human summary and as JUnit XML.

A rule counts as exercised only when its situation arose (a tool rule needs a run that called a
tool); a rule that was never exercised is listed as such, never counted as passed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from xml.etree import ElementTree

from contracts.rulebook import RuleBook
from contracts.violations import Violation

__all__ = ["ExitCode", "Report"]


class ExitCode(IntEnum):
    """What `chats-mock verify` exits with."""

    CONFORMS = 0  # no rule violated
    VIOLATES = 1  # at least one rule violated
    CANNOT_JUDGE = 2  # unreachable server, rejected token or bad arguments


@dataclass(slots=True)
class Report:
    """Every violation found, the rules exercised, and notes on what could not be checked."""

    book: RuleBook | None = None  # the rules that could apply; None: only those seen
    exercised: set[str] = field(default_factory=set)  # rules whose situation arose
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cannot_judge: str | None = None  # why no verdict could be given
    figures: dict[str, float] = field(default_factory=dict)  # calls, successes, seconds

    @property
    def ok(self) -> bool:
        """True when the server conforms."""
        return self.cannot_judge is None and not self.violations

    @property
    def exit_code(self) -> ExitCode:
        """The exit code of this verdict."""
        if self.cannot_judge is not None:
            return ExitCode.CANNOT_JUDGE
        return ExitCode.VIOLATES if self.violations else ExitCode.CONFORMS

    @property
    def rules(self) -> list[str]:
        """Every rule the book holds (or that was exercised), in book order."""
        known = list(self.book.names()) if self.book is not None else []
        return known + sorted(self.exercised - set(known))

    @property
    def not_exercised(self) -> list[str]:
        """The rules whose situation never arose, in book order."""
        return [rule for rule in self.rules if rule not in self.exercised]

    @property
    def violated_rules(self) -> list[str]:
        """The rules with at least one violation, in book order."""
        return list(self.by_rule())

    def exercise(self, *rules: str) -> None:
        """Record that these rules' situations arose and were judged."""
        self.exercised.update(rules)

    def add(self, violation: Violation) -> None:
        """Keep a violation, once per rule, kind and operation (the first reproduction wins)."""
        key = (violation.rule, violation.kind, violation.operation)
        if all((v.rule, v.kind, v.operation) != key for v in self.violations):
            self.violations.append(violation)
        self.exercised.add(violation.rule)

    def by_rule(self) -> dict[str, list[Violation]]:
        """Violations grouped by rule."""
        grouped: dict[str, list[Violation]] = defaultdict(list)
        for violation in self.violations:
            grouped[violation.rule].append(violation)
        return {rule: grouped[rule] for rule in self.rules if rule in grouped}

    def _source(self, rule: str) -> str:
        source = self.book.source_of(rule) if self.book is not None else ""
        return f" ({source})" if source else ""

    def summary(self) -> str:
        """The human summary: the verdict line first, then each violated rule with its evidence."""
        lines = [self.verdict()]
        for rule, violations in self.by_rule().items():
            lines.append("")
            lines.append(f"RULE {rule}{self._source(rule)} violated ({len(violations)})")
            for violation in violations:
                lines.extend("  " + line for line in _describe(violation))
        if self.not_exercised and self.cannot_judge is None:
            lines.append("")
            lines.append(f"not exercised ({len(self.not_exercised)}): {', '.join(self.not_exercised)}")
        for note in self.notes:
            lines.append(f"note: {note}")
        if self.figures:
            shown = ", ".join(f"{name} {value:g}" for name, value in self.figures.items())
            lines.append(f"figures: {shown}")
        return "\n".join(lines)

    def verdict(self) -> str:
        """One line: conforms, violates which rules, or cannot judge and why."""
        if self.cannot_judge is not None:
            return f"verify: cannot judge: {self.cannot_judge}"
        counted = f"{len(self.exercised)} of {len(self.rules)} rules exercised"
        if self.violations:
            return f"verify: the server VIOLATES the contract: {', '.join(self.violated_rules)} ({counted})"
        return f"verify: the server conforms ({counted}, {len(self.not_exercised)} not exercised)"

    def write_junit(self, path: Path) -> None:
        """JUnit XML: one testcase per rule and operation; failed ones carry evidence, unexercised are skipped."""
        suite = ElementTree.Element("testsuite", name="chats-mock verify")
        cases = failures = skipped = 0
        grouped = self.by_rule()
        for rule in self.rules:
            by_operation: dict[str, list[Violation]] = defaultdict(list)
            for violation in grouped.get(rule, []):
                by_operation[violation.operation].append(violation)
            for operation, violations in by_operation.items() or {"": []}.items():
                name = f"{rule} [{operation}]" if operation else rule
                case = ElementTree.SubElement(
                    suite, "testcase", classname="contracts." + rule, name=name + self._source(rule)
                )
                cases += 1
                if violations:
                    failures += 1
                    failure = ElementTree.SubElement(
                        case, "failure", type=violations[0].kind, message=violations[0].message[:500]
                    )
                    failure.text = "\n\n".join("\n".join(_describe(v)) for v in violations)
                elif rule not in self.exercised:
                    skipped += 1
                    ElementTree.SubElement(
                        case, "skipped", message="not exercised: its situation never arose"
                    )
        if self.cannot_judge is not None:
            case = ElementTree.SubElement(suite, "testcase", classname="contracts", name="preflight")
            ElementTree.SubElement(case, "error", message=self.cannot_judge)
            cases += 1
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
        suite.set("errors", "1" if self.cannot_judge is not None else "0")
        ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _describe(violation: Violation) -> list[str]:
    """A violation as lines: the kind, operation and subject; the message; the rows; the reproduction."""
    subject = f", {violation.subject}" if violation.subject else ""
    lines = [f"- {violation.kind} in {violation.operation}{subject}: {violation.message}"]
    lines.extend(f"    | {row}" for row in violation.evidence)
    lines.append(f"    reproduce: {violation.curl}")
    return lines
