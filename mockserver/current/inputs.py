"""Reading what a request of today's API says, with the refusals coderd sends for each reading.

Content parts as `createChatInputFromParts` reads them, query parameters as coderd's
`QueryParamParser` does, integers as Go's strconv parses them (openapi/current/WIRE.md section 5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from mockserver.core.golang import parse_uuid, quote
from mockserver.edge.coder_errors import CoderRefusal

__all__ = [
    "MessageLimits",
    "QueryParams",
    "chat_labels",
    "check_part_count",
    "content_parts",
    "go_trim_space",
    "parse_go_int",
    "reasoning_effort",
]

_INT = re.compile(r"[+-]?[0-9]+")
# Digits of the longest int64 (9223372036854775807), leading zeros aside.
_MOST_DIGITS = 19
# Go's unicode.IsSpace, which strings.TrimSpace trims.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


def go_trim_space(text: str) -> str:
    """strings.TrimSpace."""
    return text.strip(_GO_SPACE)


def parse_go_int(text: str, bits: int, func: str = "ParseInt") -> int:
    """strconv.ParseInt(text, 10, bits); a ValueError carries Go's message."""
    if not _INT.fullmatch(text):
        raise ValueError(f"strconv.{func}: parsing {quote(text)}: invalid syntax")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > _MOST_DIGITS:
        # Beyond any int64 (and before Python's own limit on integer digits could speak).
        raise ValueError(f"strconv.{func}: parsing {quote(text)}: value out of range")
    value = int(digits or "0") * (-1 if text.startswith("-") else 1)
    if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise ValueError(f"strconv.{func}: parsing {quote(text)}: value out of range")
    return value


@dataclass(frozen=True, slots=True)
class MessageLimits:
    """The mock's own bounds on a message's `content` (coderd has none but its body limit)."""

    max_parts: int  # parts of one message (serve --max-message-parts)
    max_bytes: int  # UTF-8 bytes of the text a message's parts carry (serve --max-message-bytes)


# The strings a content part carries, as stored: what `max_bytes` counts.
_PART_TEXT_FIELDS = ("text", "file_name", "content")


def _content_bytes(parts: Sequence[Any]) -> int:
    size = 0
    for part in parts:
        if isinstance(part, dict):
            for name in _PART_TEXT_FIELDS:
                value = part.get(name)
                if isinstance(value, str):
                    size += len(value.encode("utf-8", "surrogatepass"))
    return size


def check_part_count(count: int, max_parts: int, field: str = "content") -> None:
    """The mock's 400 for a message of more than `max_parts` parts."""
    if count > max_parts:
        raise CoderRefusal(
            400,
            "Content has too many parts.",
            f"{field} has {count} parts; the mock takes at most {max_parts} (--max-message-parts).",
        )


def content_parts(raw: Any, limits: MessageLimits, field: str = "content") -> list[dict[str, Any]]:
    """The stored parts of a request's `content`, or the 400 coderd (or the mock's limits) send for it.

    The limits are checked first, before any part is read: a refused message costs nothing more.
    """
    parts = raw if isinstance(raw, list) else []
    if not parts:
        raise CoderRefusal(400, "Content is required.", "Content cannot be empty.")
    check_part_count(len(parts), limits.max_parts, field)
    size = _content_bytes(parts)
    if size > limits.max_bytes:
        raise CoderRefusal(
            400,
            "Content is too long.",
            f"{field} is {size} bytes (UTF-8); the mock takes at most {limits.max_bytes} (--max-message-bytes).",
        )
    stored: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        part = part if isinstance(part, dict) else {}
        kind = part.get("type") or ""
        match go_trim_space(kind).lower():
            case "text":
                text = go_trim_space(part.get("text") or "")
                if not text:
                    raise _invalid_part(f"{field}[{index}].text cannot be empty.")
                stored.append({"type": "text", "text": text})
            case "file":
                file_id = part.get("file_id")
                if file_id is None or parse_uuid(file_id).int == 0:
                    raise _invalid_part(f"{field}[{index}].file_id is required for file parts.")
                # The mock stores no uploaded files: every file id names nothing.
                raise _invalid_part(f"{field}[{index}].file_id references a file that does not exist.")
            case "file-reference":
                name = part.get("file_name") or ""
                if not name:
                    raise _invalid_part(f"{field}[{index}].file_name cannot be empty for file-reference.")
                stored.append(
                    {
                        "type": "file-reference",
                        "file_name": name,
                        "start_line": part.get("start_line") or 0,
                        "end_line": part.get("end_line") or 0,
                        "content": part.get("content") or "",
                    }
                )
            case _:
                raise _invalid_part(f"{field}[{index}].type {quote(kind)} is not supported.")
    return stored


# httpapi.ValidateChatLabels (WIRE.md section 5): at most 50 labels, keys of at most 64 bytes
# matching this, values of 1 to 256 bytes.
_MAX_LABELS = 50
_MAX_LABEL_KEY_BYTES = 64
_MAX_LABEL_VALUE_BYTES = 256
_LABEL_KEY = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._/-]*")
_LABEL_KEY_TEXT = "^[a-zA-Z0-9][a-zA-Z0-9._/-]*$"  # as Go prints the regular expression


def chat_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels of a create or an update, or coderd's 400 `Invalid labels.` with every fault.

    coderd ranges over a Go map, so with several faulty labels its order is random; the mock
    keeps the order they were sent in.
    """
    errors: list[dict[str, str]] = []
    if len(labels) > _MAX_LABELS:
        errors.append(
            {"field": "labels", "detail": f"too many labels ({len(labels)}); maximum is {_MAX_LABELS}"}
        )
    for key, value in labels.items():
        if key == "":
            errors.append({"field": "labels", "detail": "label key must not be empty"})
            continue
        if len(key.encode("utf-8", "surrogatepass")) > _MAX_LABEL_KEY_BYTES:
            errors.append(
                {
                    "field": "labels",
                    "detail": f"label key {quote(key)} exceeds maximum length of {_MAX_LABEL_KEY_BYTES} bytes",
                }
            )
        if _LABEL_KEY.fullmatch(key) is None:
            errors.append(
                {
                    "field": "labels",
                    "detail": f"label key {quote(key)} contains invalid characters; must match {_LABEL_KEY_TEXT}",
                }
            )
        if value == "":
            errors.append(
                {"field": "labels", "detail": f"label value for key {quote(key)} must not be empty"}
            )
        if len(value.encode("utf-8", "surrogatepass")) > _MAX_LABEL_VALUE_BYTES:
            errors.append(
                {
                    "field": "labels",
                    "detail": f"label value for key {quote(key)} exceeds maximum length of "
                    f"{_MAX_LABEL_VALUE_BYTES} bytes",
                }
            )
    if errors:
        raise CoderRefusal(400, "Invalid labels.", validations=errors)
    return dict(labels)


def _invalid_part(detail: str) -> CoderRefusal:
    return CoderRefusal(400, "Invalid input part.", detail)


def reasoning_effort(value: Any) -> None:
    """The 400 coderd sends for an unknown `reasoning_effort` (None is no choice)."""
    if value is not None and value not in REASONING_EFFORTS:
        raise CoderRefusal(
            400,
            "Invalid reasoning_effort value.",
            f"Invalid value {quote(value)}, must be one of {', '.join(REASONING_EFFORTS)}",
        )


class QueryParams:
    """A request's query, read as coderd's QueryParamParser reads it: every error gathered."""

    def __init__(self, query: Mapping[str, Sequence[str]]) -> None:
        self._query = query
        self.errors: list[dict[str, str]] = []

    def _single(self, name: str) -> str | None:
        values = self._query.get(name, ())
        if not values or values[0] == "":
            return None
        if len(values) > 1:
            self.errors.append(
                {
                    "field": name,
                    "detail": f"Query param {quote(name)} provided more than once, found {len(values)} times. "
                    "Only provide 1 instance of this query param.",
                }
            )
            return None
        return values[0]

    def positive_int(self, name: str, default: int, bits: int) -> int:
        """PositiveInt32 / PositiveInt64: a non-negative integer of `bits` bits."""
        raw = self._single(name)
        if raw is None:
            return default
        try:
            value = parse_go_int(raw, bits)
            if value < 0:
                raise ValueError("value is negative")
        except ValueError as error:
            self.errors.append(
                {
                    "field": name,
                    "detail": f"Query param {quote(name)} must be a valid {bits}-bit positive integer: {error}",
                }
            )
            return default
        return value

    def integer(self, name: str) -> int:
        """Int (strconv.Atoi); the mock also refuses what Postgres would (negative, or past int32)."""
        raw = self._single(name)
        if raw is None:
            return 0
        try:
            value = parse_go_int(raw, 64, "Atoi")
        except ValueError as error:
            self.errors.append(
                {"field": name, "detail": f"Query param {quote(name)} must be a valid integer: {error}"}
            )
            return 0
        if not 0 <= value < 1 << 31:
            self.errors.append(
                {"field": name, "detail": f"Query param {quote(name)} must be between 0 and 2147483647"}
            )
            return 0
        return value

    def uuid(self, name: str) -> UUID | None:
        """UUID, or None when absent."""
        raw = self._single(name)
        if raw is None:
            return None
        try:
            return parse_uuid(raw)
        except ValueError:
            self.errors.append({"field": name, "detail": f"Query param {quote(name)} must be a valid uuid"})
            return None

    def all(self, name: str) -> Sequence[str]:
        """Every value of a repeated parameter."""
        return self._query.get(name, ())

    def first(self, name: str) -> str:
        """The first value, as Go's Query().Get reads it ("" when absent)."""
        values = self._query.get(name, ())
        return values[0] if values else ""

    def check(self) -> None:
        """The 400 for what failed to parse, if anything did."""
        if self.errors:
            raise CoderRefusal(400, "Query parameters have invalid values.", validations=self.errors)
