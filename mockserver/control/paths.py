"""Path patterns of the control plane: `/chats/{chat}/messages`, `*` and `**`, under /api/v2.

A pattern comes from whoever calls the control plane, so it is never turned into a regular
expression (a backtracking one could hold the event loop for minutes). It is matched segment by
segment instead: a segment of the pattern is a literal, or a glob in which `*` and `{name}`
stand for characters of one segment; a `**` segment stands for one or more whole segments.
Between two `**`, the segments must match a run of consecutive path segments, found leftmost
(which is always the right choice: `**` takes any number), so a match costs at most the path's
segments times the pattern's, and a pattern has at most MAX_SEGMENTS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["API_PREFIX", "CONTROL_PREFIX", "MAX_PATTERN_LENGTH", "PathPattern"]

API_PREFIX = "/api/v2"
CONTROL_PREFIX = "/__mock"
# The longest pattern accepted, in characters, and the most segments it may have.
MAX_PATTERN_LENGTH = 1024
MAX_SEGMENTS = 64

_WILDCARDS = re.compile(r"\*|\{[^}/]*\}")
_ANY_SEGMENTS = "**"


@dataclass(frozen=True, slots=True)
class _Glob:
    """One segment of a pattern: literal pieces around wildcards, each wildcard with its minimum width."""

    pieces: tuple[str, ...]  # one more than the wildcards
    widths: tuple[int, ...]  # `*` matches 0 characters or more, `{name}` 1 or more

    @classmethod
    def parse(cls, text: str) -> _Glob:
        pieces: list[str] = []
        widths: list[int] = []
        position = 0
        for wildcard in _WILDCARDS.finditer(text):
            piece = text[position : wildcard.start()]
            width = 0 if wildcard.group() == "*" else 1
            if widths and not piece:  # two wildcards in a row: one, at least as wide as both
                widths[-1] += width
            else:
                pieces.append(piece)
                widths.append(width)
            position = wildcard.end()
        pieces.append(text[position:])
        return cls(tuple(pieces), tuple(widths))

    def matches(self, segment: str) -> bool:
        """Whether one path segment matches; greedy leftmost search, linear in the segment."""
        first, last = self.pieces[0], self.pieces[-1]
        if not self.widths:
            return segment == first
        if not segment.startswith(first):
            return False
        position = len(first)
        end = len(segment) - len(last)
        for width, piece in zip(self.widths[:-1], self.pieces[1:-1], strict=True):
            found = segment.find(piece, position + width, end)
            if found < 0:
                return False
            position = found + len(piece)
        return end - position >= self.widths[-1] and segment.endswith(last)


# A pattern is runs of segment globs, with one or more whole segments (`**`) between two runs.
_Run = tuple[_Glob, ...]


def _run_at(run: _Run, segments: list[str], start: int) -> bool:
    return all(glob.matches(segments[start + offset]) for offset, glob in enumerate(run))


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A path as the document writes it; `{name}` and `*` match within one segment, `**` one or more.

    A pattern not starting with `/api/` is under /api/v2, as the document's paths are; `**` alone
    matches every path.
    """

    text: str
    _runs: tuple[_Run, ...] = field(init=False, repr=False, compare=False)
    _gaps: tuple[int, ...] = field(init=False, repr=False, compare=False)  # least segments per `**`

    def __post_init__(self) -> None:
        if len(self.text) > MAX_PATTERN_LENGTH:
            raise ValueError(f"a path pattern has at most {MAX_PATTERN_LENGTH} characters")
        if self.text == _ANY_SEGMENTS:
            object.__setattr__(self, "_runs", ((), ()))
            object.__setattr__(self, "_gaps", (0,))
            return
        if not self.text.startswith("/"):
            raise ValueError(f"a path pattern starts with '/': {self.text!r}")
        full = self.text if self.text.startswith("/api/") else API_PREFIX + self.text
        segments = full.split("/")
        if len(segments) > MAX_SEGMENTS:
            raise ValueError(f"a path pattern has at most {MAX_SEGMENTS} segments")
        runs: list[_Run] = [()]
        gaps: list[int] = []
        for segment in segments:
            if segment == _ANY_SEGMENTS:
                if runs[-1] or not gaps:
                    gaps.append(1)
                    runs.append(())
                else:
                    gaps[-1] += 1  # `**/**`: two segments or more
            elif _ANY_SEGMENTS in segment:
                raise ValueError(f"'**' stands for whole segments, as in /chats/**: {self.text!r}")
            else:
                runs[-1] += (_Glob.parse(segment),)
        object.__setattr__(self, "_runs", tuple(runs))
        object.__setattr__(self, "_gaps", tuple(gaps))

    def matches(self, path: str) -> bool:
        """Whether a request path (with its /api/v2 prefix) matches."""
        segments = path.split("/")
        runs, gaps = self._runs, self._gaps
        head, tail = runs[0], runs[-1]
        if not gaps:
            return len(segments) == len(head) and _run_at(head, segments, 0)
        if len(segments) < len(head) + len(tail) or not _run_at(head, segments, 0):
            return False
        end = len(segments) - len(tail)  # the tail is pinned to the end of the path
        if not _run_at(tail, segments, end):
            return False
        position = len(head)
        for gap, run in zip(gaps[:-1], runs[1:-1], strict=True):
            found = self._find(run, segments, position + gap, end - len(run))
            if found < 0:
                return False
            position = found + len(run)
        return end - position >= gaps[-1]

    @staticmethod
    def _find(run: _Run, segments: list[str], start: int, last: int) -> int:
        """The leftmost place at or after `start` (at most `last`) where `run` matches, or -1."""
        for place in range(start, last + 1):
            if _run_at(run, segments, place):
                return place
        return -1
