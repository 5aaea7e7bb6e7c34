"""The rules verify enforces, grouped by the section of the wire document each one comes from.

A rule is named for the invariant it guards. A rule book belongs to one API generation's
documents (the OpenAPI document and its WIRE.md); another generation brings its own book.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Rule", "RuleBook", "Section"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One invariant: its name and what it proves."""

    name: str  # e.g. `run_starts_once_first`
    proves: str  # one line


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the wire document (or the OpenAPI document itself) and the rules it yields."""

    source: str  # e.g. `WIRE.md §4`
    title: str  # e.g. `Posting a message and the agent loop`
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Every rule of one API generation, section by section."""

    title: str  # e.g. `Chats API V1 (openapi/chats.yaml, openapi/WIRE.md)`
    sections: tuple[Section, ...]

    def __iter__(self) -> Iterator[Rule]:
        for section in self.sections:
            yield from section.rules

    def names(self) -> tuple[str, ...]:
        """Every rule name, in book order."""
        return tuple(rule.name for rule in self)

    def source_of(self, name: str) -> str:
        """The section a rule enforces, e.g. `WIRE.md §4`; empty for a rule not in the book."""
        for section in self.sections:
            if any(rule.name == name for rule in section.rules):
                return section.source
        return ""

    def listing(self) -> str:
        """`verify --list-rules`: each section, then each rule with what it proves."""
        lines = [self.title]
        for section in self.sections:
            lines.append("")
            lines.append(f"{section.source}: {section.title}")
            width = max(len(rule.name) for rule in section.rules)
            lines.extend(f"  {rule.name.ljust(width)}  {rule.proves}" for rule in section.rules)
        return "\n".join(lines)
