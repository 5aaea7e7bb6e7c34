"""Reproduction lines that paste into a shell as they are, tokens shown as `$TOKEN`, `$TOKEN2`."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

__all__ = ["command_line", "mask_command"]

_PLACEHOLDER = re.compile(r"\$TOKEN2?\b")


def _quote(part: str) -> str:
    """Single quotes, unless a placeholder is inside: then double quotes, so that it expands."""
    if not _PLACEHOLDER.search(part):
        return shlex.quote(part)
    pieces = _PLACEHOLDER.split(part)
    names = _PLACEHOLDER.findall(part)
    escaped = [re.sub(r'([\\"$`])', r"\\\1", piece) for piece in pieces]
    out = escaped[0]
    for name, piece in zip(names, escaped[1:], strict=True):
        out += name + piece
    return '"' + out + '"'


def command_line(parts: Sequence[str], tokens: Mapping[str, str]) -> str:
    """`parts` joined for a shell, each token value replaced by its placeholder."""
    shown = []
    for part in parts:
        for placeholder, token in tokens.items():
            if token:
                part = part.replace(token, placeholder)
        shown.append(_quote(part))
    return " ".join(shown)


def mask_command(command: str, tokens: Mapping[str, str], filtered: str = "[Filtered]") -> str:
    """Re-quote someone else's command line, tokens (and `filtered` stand-ins for the first) masked."""
    try:
        parts = shlex.split(command)
    except ValueError:
        return command
    first = next(iter(tokens), "$TOKEN")
    return command_line([part.replace(filtered, first) for part in parts], tokens)
