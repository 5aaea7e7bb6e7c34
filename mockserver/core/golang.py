"""What Go's standard library does that shows on the wire: uuid.Parse, %q, RFC 3339, encoding/json.

A real Coder server is Go; its error details, timestamps and JSON bytes come from these
functions. Imitating them here, in one place, keeps the rest of the mock free of Go trivia.
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

__all__ = [
    "MAX_NESTING",
    "GoJSONError",
    "decode_json",
    "encode_json",
    "encode_json_array",
    "encode_json_text",
    "format_time",
    "json_kind",
    "parse_uuid",
    "quote",
]

_HEX = frozenset("0123456789abcdefABCDEF")
_UUID_HEX_OFFSETS = (0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34)
_CANONICAL_UUID = re.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_uuid(text: str) -> UUID:
    """Parse like github.com/google/uuid Parse; a ValueError carries Go's message."""
    size = len(text.encode("utf-8", "surrogatepass"))  # Go's len() counts bytes
    if size == 36:
        body = text
    elif size == 36 + 9:
        if text[:9].lower() != "urn:uuid:":
            raise ValueError(f"invalid urn prefix: {quote(text[:9])}")
        body = text[9:]
    elif size == 36 + 2:
        body = text[1:]  # Go skips the first byte without looking at the braces
    elif size == 32:
        if not all(c in _HEX for c in text):
            raise ValueError("invalid UUID format")
        return UUID(hex=text)
    else:
        raise ValueError(f"invalid UUID length: {size}")
    if _CANONICAL_UUID.fullmatch(body) is not None:  # the common spelling, checked in one step
        return UUID(body)
    if len(body) < 36 or any(body[i] != "-" for i in (8, 13, 18, 23)):
        raise ValueError("invalid UUID format")
    digits = "".join(body[i : i + 2] for i in _UUID_HEX_OFFSETS)
    if len(digits) != 32 or not all(c in _HEX for c in digits):
        raise ValueError("invalid UUID format")
    return UUID(hex=digits)


def quote(text: str) -> str:
    """Quote like Go's %q (strconv.Quote): printable runes kept, others escaped."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")  # Go sees an invalid byte sequence as U+FFFD
        elif _is_printable(char):
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_SHORT_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _is_printable(char: str) -> bool:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def format_time(moment: datetime) -> str:
    """Format like Go's time.Time MarshalJSON (RFC 3339 with the fraction's zeros trimmed)."""
    # isoformat is ~3x cheaper than strftime; the date's and the time's own (no offset to look up
    # and write, then cut: ~0.7 µs against ~1.0). The time's leaves the fraction out when there is
    # none (as Go does) and writes it with 6 digits otherwise.
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    text = moment.date().isoformat() + "T" + moment.time().isoformat()
    return (text.rstrip("0") if moment.microsecond else text) + "Z"


class GoJSONError(ValueError):
    """A body that Go's json.Decoder refuses; the message is the decoder's error text."""


def json_kind(value: Any) -> str:
    """The word Go's UnmarshalTypeError uses for a JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


_PY_TO_GO_SYNTAX = (
    ("Expecting value", "looking for beginning of value"),
    ("Expecting property name enclosed in double quotes", "looking for beginning of object key string"),
    ("Expecting ':' delimiter", "after object key"),
    ("Expecting ',' delimiter", "after object key:value pair"),
    ("Invalid control character", "in string literal"),
    ("Invalid \\escape", "in string escape code"),
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> Any:
    # Python reads NaN and Infinity; Go's decoder does not.
    raise GoJSONError(f"invalid character {_quote_char(name.lstrip('-')[0])} looking for beginning of value")


def _out_of_range(text: str) -> GoJSONError:
    return GoJSONError(f"json: cannot unmarshal number {text} into Go value of type float64")


def _finite_float(text: str) -> float:
    # Go would keep 1e400 in a json.RawMessage; a Python float cannot hold it, and storing inf
    # would make the chat unreadable. Refusing it is the one place the mock reads less than Go.
    value = float(text)
    if math.isinf(value):
        raise _out_of_range(text)
    return value


# An integer with more digits than this is beyond float64's range (1.8e308) whatever its digits.
_FLOAT64_DIGITS = 309
_FLOAT64_MAX = int(sys.float_info.max)


def _float64_int(text: str) -> int:
    # The same rule for integers: one beyond float64's range is refused as Go refuses it in a
    # float64, before Python's own limit on integer digits (4300) could speak.
    value = int(text) if len(text.lstrip("-")) <= _FLOAT64_DIGITS else None
    if value is None or abs(value) > _FLOAT64_MAX:
        raise _out_of_range(text)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # What the decoder makes of an object anyway (the last of a repeated key wins, as in Go), but
    # from Python code: a decode on a worker thread then lets the event loop in between objects,
    # where the C scanner alone would hold the GIL for a whole 4 MiB body.
    return dict(pairs)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
    parse_int=_float64_int,
)
# The same decoder for a short text, whose objects the C scanner makes itself (the same dicts:
# the last of a repeated key wins, in the place of the first): decoding it holds the GIL for
# microseconds on any thread, and a call into Python per object would cost more than that.
_SHORT_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
    parse_int=_float64_int,
)
# The longest text decoded by _SHORT_DECODER (the edge decodes up to 64 KiB on the event loop).
_SHORT_TEXT = 64 * 1024

# The deepest nesting of arrays and objects the mock reads (Go's encoding/json: 10000). Python's
# decoder recurses per level and stops near 1000, and a body is encoded back later: the limit a
# serve option sets (`--max-json-depth`) is at most this.
MAX_NESTING = 500

# What counts for nesting: a whole string (brackets in it do not), or a bracket.
_NESTING_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def decode_json(raw: bytes, *, max_depth: int = MAX_NESTING) -> Any:
    """Decode the first JSON value of a body like Go's json.NewDecoder(body).Decode.

    Like Go: invalid UTF-8 and lone surrogate escapes become U+FFFD, whatever follows the first
    value is never read, and nesting deeper than `max_depth` is refused with the scanner's
    `exceeded max depth` (Go's limit is 10000; the mock's is at most MAX_NESTING).
    """
    text = raw.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise GoJSONError("EOF")
    too_deep = _too_deep_at(text, start, min(max_depth, MAX_NESTING))
    if too_deep is not None:
        raise GoJSONError(_depth_message(text, start, too_deep))
    try:
        value, _end = (_SHORT_DECODER if len(text) <= _SHORT_TEXT else _DECODER).raw_decode(text, start)
    except GoJSONError:
        raise
    except json.JSONDecodeError as error:
        raise GoJSONError(_go_syntax_message(error, text)) from None
    if _SURROGATE_ESCAPE.search(text):
        value = _replace_surrogates(value)
    return value


def _too_deep_at(text: str, start: int, max_depth: int) -> int | None:
    """Where the first value's nesting passes `max_depth`, if it does."""
    if text[start] not in "[{" or text.count("[") + text.count("{") <= max_depth:
        return None  # a scalar, or too few brackets to be that deep: the common case, in C
    depth = 0
    for token in _NESTING_TOKENS.finditer(text, start):
        char = text[token.start()]
        if char == '"':
            continue
        if char in "[{":
            depth += 1
            if depth > max_depth:
                return token.start()
        else:
            depth -= 1
            if depth <= 0:
                return None  # the first value ended: Go reads no further
    return None


def _depth_message(text: str, start: int, position: int) -> str:
    # Go's scanner reads the whole value before decoding it: a syntax error before the bracket
    # that goes too deep wins over it, a number out of range does not. The text up to that
    # bracket is shallow enough for Python to read.
    try:
        _DECODER.raw_decode(text[:position], start)
    except GoJSONError:
        pass
    except json.JSONDecodeError as error:
        if error.pos < position:
            return _go_syntax_message(error, text)
    return f"invalid character {_quote_char(text[position])} exceeded max depth"


def _go_syntax_message(error: json.JSONDecodeError, text: str) -> str:
    if error.pos >= len(text) or error.msg.startswith("Unterminated string"):
        return "unexpected EOF"
    char = text[error.pos]
    context = next(
        (go for py, go in _PY_TO_GO_SYNTAX if error.msg.startswith(py)),
        "looking for beginning of value",
    )
    return f"invalid character {_quote_char(char)} {context}"


def _quote_char(char: str) -> str:
    # encoding/json's quoteChar: a quoted rune between single quotes.
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    return "'" + quote(char)[1:-1] + "'"


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_SURROGATE.sub("\ufffd", k): _replace_surrogates(v) for k, v in value.items()}
    return value


_HTML_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


# Built once: json.dumps with options builds a new JSONEncoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _needs_html_escapes(text: str) -> bool:
    # What _HTML_ESCAPES rewrites: most bodies have none, and a search is ~20x cheaper than
    # translate. Five substring searches (memchr-fast) beat one character-class regex ~10x on
    # long text, and cost no more on short.
    return "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text


def encode_json_text(value: Any) -> str:
    """The text of `encode_json(value)` without its newline: a piece to join into a larger JSON text
    (the escapes are per character, so joined pieces read as if encoded at once)."""
    text = _ENCODER.encode(value)
    if _needs_html_escapes(text):
        text = text.translate(_HTML_ESCAPES)
    return text


def encode_json(value: Any) -> bytes:
    """Encode like Go's json.Encoder with SetEscapeHTML(true), newline included."""
    return (encode_json_text(value) + "\n").encode("utf-8")


def encode_json_array(items: Iterable[Any], *, chunk_bytes: int) -> Iterator[bytes]:
    """The bytes of `encode_json(list(items))`, in pieces of about `chunk_bytes` (a longer item is one piece).

    Items are encoded one at a time as the pieces are asked for, so a caller can let other work
    run between two pieces of a long list.
    """
    parts: list[str] = ["["]
    size = 1
    for index, item in enumerate(items):
        text = _ENCODER.encode(item)
        if _needs_html_escapes(text):
            text = text.translate(_HTML_ESCAPES)
        if index:
            parts.append(",")
        parts.append(text)
        size += len(text) + 1
        if size >= chunk_bytes:
            yield "".join(parts).encode("utf-8")
            parts, size = [], 0
    parts.append("]\n")
    yield "".join(parts).encode("utf-8")
