"""The rules verify enforces, grouped by the section of the wire document each one comes from.

A rule is named for the invariant it guards. A rule book belongs to one API generation's
documents (the OpenAPI document and its WIRE.md); another generation brings its own book.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["SCHEMATHESIS_RULES", "Rule", "RuleBook", "Section"]


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


# Schemathesis's own checks, as every generation's Schemathesis phase judges its document by them.
SCHEMATHESIS_RULES: tuple[Rule, ...] = (
    Rule("not_a_server_error", "no 5xx"),
    Rule("status_code_conformance", "every status is documented"),
    Rule("content_type_conformance", "every Content-Type is documented"),
    Rule("response_headers_conformance", "documented response headers are sent"),
    Rule("response_schema_conformance", "every body fits its schema"),
    Rule("negative_data_rejection", "invalid requests are refused"),
    Rule("positive_data_acceptance", "valid requests are accepted (or a 403/404)"),
    Rule("missing_required_header", "a missing required header is refused"),
    Rule("unsupported_method", "an undocumented method is a 405"),
    Rule("allow_header_conformance", "a 405 lists the allowed methods"),
    Rule("use_after_free", "a deleted resource stays gone"),
    Rule("ensure_resource_availability", "a created resource can be read"),
    Rule("ignored_auth", "authentication is enforced"),
    Rule("object_level_authorization", "one user's objects are not another's"),
)
