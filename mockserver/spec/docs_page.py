"""Read a Coder API docs page (swaggo + widdershins markdown) into values.

The page is parsed by its structure: the `# Tag` heading, one `## Summary` section per
operation, `###` subsections (or widdershins' `<h3>` HTML headings), fenced code blocks with
the `> label` quote before them, and pipe tables. Nothing depends on line numbers, so any
page of Coder's API reference in this format reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AUTHENTICATED_SENTENCE",
    "CurlSample",
    "DocsPage",
    "DocsPageError",
    "Example",
    "Link",
    "Operation",
    "ParameterRow",
    "ResponseRow",
    "ResponseSchema",
    "SchemaRow",
    "parse_docs_page",
]

AUTHENTICATED_SENTENCE = "To perform this operation, you must be authenticated."
_AUTHENTICATED_LINE = f"{AUTHENTICATED_SENTENCE} [Learn more](authentication.md)."

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_HEADING = re.compile(r"^<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>\s*$")
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w-]*)\s*$")
_OPERATION_LINE = re.compile(r"^`([A-Z]+) (/\S*)`$")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_CURL_METHOD = re.compile(r"-X\s+(\S+)")
_CURL_URL = re.compile(r"\s(https?://\S+)")
_CURL_HEADER = re.compile(r"-H\s+'([^':]+):\s*([^']*)'")
_STATUS_LABEL = re.compile(r"^(\d{3}|default) Response$")
_STATUS_CODE = re.compile(r"Status Code \*\*(\d{3}|default)\*\*")
_ROW_DEPTH = re.compile(r"^(»\s*)+")
_PARAMETER_COLUMNS = ("Name", "In", "Type", "Required", "Description")
_RESPONSE_COLUMNS = ("Status", "Meaning", "Description", "Schema")
_SCHEMA_COLUMNS = ("Name", "Type", "Required", "Restrictions", "Description")
# Enumerated values follow a Response Schema table, under their own `####` heading or not.
_ENUM_SECTIONS = ("Response Schema", "Enumerated Values")


class DocsPageError(ValueError):
    """The page does not have the structure of a Coder API docs page."""


@dataclass(frozen=True, slots=True)
class Link:
    """A markdown link `[text](url)`."""

    text: str
    url: str


@dataclass(frozen=True, slots=True)
class CurlSample:
    """The curl command of an operation's code samples."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]

    def header_names(self) -> frozenset[str]:
        """The names of the `-H` headers, as written."""
        return frozenset(name for name, _ in self.headers)


@dataclass(frozen=True, slots=True)
class Example:
    """A JSON example of the page (a body parameter or a response)."""

    label: str
    value: Any


@dataclass(frozen=True, slots=True)
class ParameterRow:
    """A row of an operation's Parameters table."""

    name: str
    location: str
    type_text: str
    schema_link: Link | None
    required: bool
    description: str


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """A row of an operation's Responses table."""

    status: str
    meaning: Link | None
    meaning_text: str
    description: str
    schema_text: str
    schema_link: Link | None = None


@dataclass(frozen=True, slots=True)
class SchemaRow:
    """A row of a Response Schema table: `»` depth, field name and what it says of the field."""

    name: str
    depth: int
    type_text: str
    required: bool
    restrictions: str
    description: str


@dataclass(frozen=True, slots=True)
class ResponseSchema:
    """The Response Schema table of one status."""

    status: str
    rows: tuple[SchemaRow, ...]
    enumerated_values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Operation:
    """Everything one `## Summary` section of the page states about an operation."""

    summary: str
    method: str
    path: str
    curl: CurlSample | None
    body_example: Example | None
    parameters: tuple[ParameterRow, ...]
    examples: tuple[Example, ...]
    responses: tuple[ResponseRow, ...]
    response_schemas: tuple[ResponseSchema, ...]
    authenticated: bool


@dataclass(frozen=True, slots=True)
class DocsPage:
    """A docs page: its tag (the `# Heading`) and its operations, in page order."""

    tag: str
    operations: tuple[Operation, ...]


@dataclass(slots=True)
class _Section:
    """An operation's lines while they are read (builder, never exposed)."""

    summary: str
    lines: list[tuple[int, str]] = field(default_factory=list)


def parse_docs_page(text: str) -> DocsPage:
    """Parse the markdown of a Coder API docs page."""
    tag: str | None = None
    sections: list[_Section] = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            if tag is not None:
                raise DocsPageError(f"line {number}: a second `# ` heading {line!r}")
            tag = heading.group(2)
            continue
        if heading and len(heading.group(1)) == 2:
            sections.append(_Section(summary=heading.group(2)))
            continue
        if sections:
            sections[-1].lines.append((number, line))
    if tag is None:
        raise DocsPageError("no `# Tag` heading")
    return DocsPage(tag=tag, operations=tuple(_operation(section) for section in sections))


def _operation(section: _Section) -> Operation:
    """Read one `## Summary` section."""
    where = f"## {section.summary}"
    subsection = ""
    label = ""
    status_code = ""
    method_path: tuple[str, str] | None = None
    curl: CurlSample | None = None
    body_example: Example | None = None
    parameters: list[ParameterRow] = []
    examples: list[Example] = []
    responses: list[ResponseRow] = []
    schemas: list[ResponseSchema] = []
    authenticated = False
    lines = section.lines
    index = 0
    while index < len(lines):
        number, line = lines[index]
        stripped = line.strip()
        heading = _HEADING.match(stripped) or _HTML_HEADING.match(stripped)
        fence = _FENCE.match(stripped)
        if heading:
            subsection = heading.group(2).strip()
            label = ""
        elif fence:
            index, language, body = _read_fence(lines, index, fence.group(1), where)
            if language == "shell":
                curl = _curl(body, f"{where}, line {number}")
            elif language == "json":
                value = _json(body, f"{where}, line {number}")
                if label == "Body parameter":
                    body_example = Example(label=label, value=value)
                else:
                    examples.append(Example(label=label, value=value))
            else:
                # Coder's pages have only curl samples and JSON examples; anything else is an
                # edit that would otherwise go unread.
                raise DocsPageError(f"{where}, line {number}: a ```{language} block")
            label = ""
            continue
        elif stripped.startswith(">"):
            label = stripped.lstrip("> ").strip()
        elif stripped.startswith("|"):
            index, header, rows = _read_table(lines, index)
            context = f"{where}, line {number}"
            if subsection == "Parameters":
                records = _records(header, rows, _PARAMETER_COLUMNS, context)
                parameters.extend(_parameter(row, context) for row in records)
            elif subsection == "Responses":
                records = _records(header, rows, _RESPONSE_COLUMNS, context)
                responses.extend(_response(row) for row in records)
            elif header[:2] == ["Property", "Value"] and subsection.endswith(_ENUM_SECTIONS):
                if not schemas:
                    raise DocsPageError(f"{context}: enumerated values before a schema table")
                last = schemas.pop()
                values = tuple((_unquote(r[0]), _unquote(r[1])) for r in rows if len(r) >= 2)
                schemas.append(
                    ResponseSchema(
                        status=last.status,
                        rows=last.rows,
                        enumerated_values=last.enumerated_values + values,
                    )
                )
            elif subsection == "Response Schema":
                records = _records(header, rows, _SCHEMA_COLUMNS, context)
                schemas.append(
                    ResponseSchema(
                        status=status_code,
                        rows=tuple(_schema_row(row, context) for row in records),
                    )
                )
            else:
                # A table under an unknown heading would otherwise be silently unread.
                raise DocsPageError(f"{context}: a table under {subsection!r}")
            continue
        elif match := _OPERATION_LINE.match(stripped):
            method_path = (match.group(1), match.group(2))
        elif match := _STATUS_CODE.search(stripped):
            status_code = match.group(1)
        elif stripped.startswith(AUTHENTICATED_SENTENCE):
            if stripped != _AUTHENTICATED_LINE:
                raise DocsPageError(f"{where}, line {number}: {stripped!r}, not {_AUTHENTICATED_LINE!r}")
            authenticated = True
        index += 1
    if method_path is None:
        raise DocsPageError(f"{where}: no `METHOD /path` line")
    return Operation(
        summary=section.summary,
        method=method_path[0],
        path=method_path[1],
        curl=curl,
        body_example=body_example,
        parameters=tuple(parameters),
        examples=tuple(
            Example(label=_status_of(example.label, where), value=example.value) for example in examples
        ),
        responses=tuple(responses),
        response_schemas=tuple(schemas),
        authenticated=authenticated,
    )


def _read_fence(lines: list[tuple[int, str]], start: int, marker: str, where: str) -> tuple[int, str, str]:
    """Read a fenced block from its opening line; return the index after it, language, body."""
    opening = _FENCE.match(lines[start][1].strip())
    language = opening.group(2) if opening else ""
    body: list[str] = []
    for index in range(start + 1, len(lines)):
        if lines[index][1].strip() == marker:
            return index + 1, language, "\n".join(body)
        body.append(lines[index][1])
    raise DocsPageError(f"{where}, line {lines[start][0]}: unclosed code block")


def _read_table(lines: list[tuple[int, str]], start: int) -> tuple[int, list[str], list[list[str]]]:
    """Read a pipe table; return the index after it, the header cells and the body rows."""
    rows: list[list[str]] = []
    index = start
    while index < len(lines) and lines[index][1].strip().startswith("|"):
        rows.append(_cells(lines[index][1]))
        index += 1
    header = rows[0] if rows else []
    body = [row for row in rows[1:] if not all(re.fullmatch(r":?-+:?", c) for c in row)]
    return index, header, body


def _cells(line: str) -> list[str]:
    """Split a table row on unescaped pipes."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def _records(
    header: list[str], rows: list[list[str]], columns: tuple[str, ...], context: str
) -> list[dict[str, str]]:
    """Pair each row's cells with the header's names, which must be the table's columns."""
    if tuple(header) != columns:
        raise DocsPageError(f"{context}: table columns {header}, expected {list(columns)}")
    return [dict(zip(header, row, strict=False)) for row in rows]


def _unquote(cell: str) -> str:
    """A cell's text without the backticks around a name."""
    return cell[1:-1] if len(cell) >= 2 and cell[0] == cell[-1] == "`" else cell


def _link_text(cell: str) -> str:
    """A cell's text with every markdown link reduced to its text."""
    return _LINK.sub(lambda match: match.group(1), cell)


def _first_link(cell: str) -> Link | None:
    """The first markdown link in a cell, if any."""
    match = _LINK.search(cell)
    return Link(text=match.group(1), url=match.group(2)) if match else None


def _flag(cell: str, context: str) -> bool:
    """A `true`/`false` cell."""
    if cell not in ("true", "false"):
        raise DocsPageError(f"{context}: expected true or false, got {cell!r}")
    return cell == "true"


def _parameter(row: dict[str, str], context: str) -> ParameterRow:
    """A Parameters table row."""
    return ParameterRow(
        name=_unquote(row.get("Name", "")),
        location=row.get("In", ""),
        type_text=_link_text(row.get("Type", "")),
        schema_link=_first_link(row.get("Type", "")),
        required=_flag(row.get("Required", ""), context),
        description=row.get("Description", ""),
    )


def _response(row: dict[str, str]) -> ResponseRow:
    """A Responses table row."""
    meaning = row.get("Meaning", "")
    return ResponseRow(
        status=row.get("Status", ""),
        meaning=_first_link(meaning),
        meaning_text=_link_text(meaning),
        description=row.get("Description", ""),
        schema_text=_link_text(row.get("Schema", "")),
        schema_link=_first_link(row.get("Schema", "")),
    )


def _schema_row(row: dict[str, str], context: str) -> SchemaRow:
    """A Response Schema table row; `» name` is one level below the root, `»» name` two."""
    name = _unquote(row.get("Name", ""))
    depth_match = _ROW_DEPTH.match(name)
    depth = depth_match.group(0).count("»") if depth_match else 0
    return SchemaRow(
        name=name[depth_match.end() :].strip() if depth_match else name,
        depth=depth,
        type_text=_link_text(row.get("Type", "")),
        required=_flag(row.get("Required", ""), context),
        restrictions=row.get("Restrictions", ""),
        description=row.get("Description", ""),
    )


def _curl(body: str, context: str) -> CurlSample:
    """The method, URL and headers of a curl sample."""
    command = body.replace("\\\n", " ")
    method = _CURL_METHOD.search(command)
    url = _CURL_URL.search(command)
    if not any(line.strip().startswith("curl ") for line in command.splitlines()):
        raise DocsPageError(f"{context}: a shell sample that is not a curl command")
    if method is None or url is None:
        raise DocsPageError(f"{context}: curl sample without -X METHOD and URL")
    headers = tuple((name.strip(), value.strip()) for name, value in _CURL_HEADER.findall(command))
    return CurlSample(method=method.group(1), url=url.group(1), headers=headers)


def _json(body: str, context: str) -> Any:
    """A JSON code block's value."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise DocsPageError(f"{context}: invalid JSON example: {error}") from error


def _status_of(label: str, where: str) -> str:
    """The status of a `> 201 Response` label."""
    match = _STATUS_LABEL.match(label)
    if match is None:
        raise DocsPageError(f"{where}: a JSON example labelled {label!r}, not `> NNN Response`")
    return match.group(1)
