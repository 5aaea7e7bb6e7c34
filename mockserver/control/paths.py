"""Path patterns of the control plane: `/chats/{chat}/messages`, `*` and `**`, under /api/v2."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["API_PREFIX", "CONTROL_PREFIX", "PathPattern"]

API_PREFIX = "/api/v2"
CONTROL_PREFIX = "/__mock"

_TOKENS = re.compile(r"\*\*|\*|\{[^}/]*\}")


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A path as the document writes it; `{name}` and `*` match one segment, `**` anything.

    A pattern not starting with `/api/` is under /api/v2, as the document's paths are.
    """

    text: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.text.startswith("/") and self.text != "**":
            raise ValueError(f"a path pattern starts with '/': {self.text!r}")
        full = self.text if self.text.startswith("/api/") else API_PREFIX + self.text
        pieces: list[str] = []
        position = 0
        for token in _TOKENS.finditer(full):
            pieces.append(re.escape(full[position : token.start()]))
            pieces.append(".*" if token.group() == "**" else "[^/]+" if token.group() != "*" else "[^/]*")
            position = token.end()
        pieces.append(re.escape(full[position:]))
        object.__setattr__(self, "_regex", re.compile("".join(pieces)))

    def matches(self, path: str) -> bool:
        """Whether a request path (with its /api/v2 prefix) matches."""
        return self._regex.fullmatch(path) is not None
