"""The code blocks of a markdown file, with the note that says how the README test treats each."""

from __future__ import annotations

import re
from dataclasses import dataclass

# `<!-- readme: NOTE -->` on the last non-blank line before a fence.
_NOTE = re.compile(r"^<!--\s*readme:\s*(.*?)\s*-->$")
_FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block."""

    line: int  # the file's line number of its first line of code
    language: str  # the fence's info string: "sh", "text", "yaml" ...
    code: str
    note: str  # what its `<!-- readme: ... -->` says, or ""


def code_blocks(markdown: str) -> list[Block]:
    """Every fenced block of `markdown`, in order."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        before = [line for line in lines[:index] if line.strip()]
        note = _NOTE.match(before[-1].strip()) if before else None
        blocks.append(
            Block(
                line=index + 2,
                language=opening.group(1),
                code="\n".join(lines[index + 1 : end]) + "\n",
                note=note.group(1) if note else "",
            )
        )
        index = end + 1
    return blocks
