from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from mockserver.core.golang import GoJSONError, decode_json, encode_json, format_time, parse_uuid, quote

CANONICAL = "0967198e-ec7b-4c6b-b4d3-f71244cadbe9"


@pytest.mark.parametrize(
    "text",
    [
        CANONICAL,
        CANONICAL.upper(),
        "{" + CANONICAL + "}",
        "urn:uuid:" + CANONICAL,
        CANONICAL.replace("-", ""),
    ],
)
def test_parse_uuid_accepts_the_forms_google_uuid_accepts(text: str) -> None:
    assert parse_uuid(text) == UUID(CANONICAL)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("abc", "invalid UUID length: 3"),
        ("", "invalid UUID length: 0"),
        ("é", "invalid UUID length: 2"),  # Go counts bytes
        (CANONICAL[:-1] + "z", "invalid UUID format"),
        (CANONICAL.replace("-", "+"), "invalid UUID format"),
        ("x" * 45, 'invalid urn prefix: "xxxxxxxxx"'),
    ],
)
def test_parse_uuid_refuses_with_go_error_text(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=f"^{error}$"):
        parse_uuid(text)


def test_quote_escapes_like_go_percent_q() -> None:
    assert quote('a"b\\c\n\x01é') == '"a\\"b\\\\c\\n\\x01é"'


def test_format_time_trims_fraction_zeros_like_go_rfc3339nano() -> None:
    assert format_time(datetime(2026, 11, 27, 10, 21, 19, 10530, tzinfo=UTC)) == "2026-11-27T10:21:19.01053Z"
    assert format_time(datetime(2026, 11, 27, tzinfo=UTC)) == "2026-11-27T00:00:00Z"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "EOF"),
        (b" \n", "EOF"),
        (b'{"a":', "unexpected EOF"),
        (b"xyz", "invalid character 'x' looking for beginning of value"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b"NaN", "invalid character 'N' looking for beginning of value"),
    ],
)
def test_decode_json_refuses_with_go_decoder_text(raw: bytes, error: str) -> None:
    with pytest.raises(GoJSONError) as refused:
        decode_json(raw)
    assert str(refused.value) == error


def test_decode_json_reads_only_the_first_value_like_go_decoder() -> None:
    assert decode_json(b' {"a": 1} trailing') == {"a": 1}


def test_decode_json_replaces_invalid_utf8_and_lone_surrogates() -> None:
    assert decode_json(b'{"a": "\xff", "b": "\\ud800"}') == {"a": "\ufffd", "b": "\ufffd"}


def test_encode_json_escapes_html_and_ends_with_newline_like_go_encoder() -> None:
    assert encode_json({"a": "<b>&", "n": None}) == b'{"a":"\\u003cb\\u003e\\u0026","n":null}\n'
