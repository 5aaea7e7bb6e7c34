"""The generations of Coder's Chats API the mock serves, and the one `Settings.api` names.

Each generation is a package (`mockserver.v1`, `mockserver.current`) that imports what it shares
from `mockserver.edge.generation_parts`; only this module knows them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockserver.edge.generation_parts import CoreParts, GenerationApp

__all__ = ["API_GENERATIONS", "build_generation"]

# The generations the mock serves, by the name `--api` takes; the first is the default.
API_GENERATIONS = ("v1", "current")


def build_generation(name: str, parts: CoreParts, *, agent: Any, document: Path | None) -> GenerationApp:
    """The generation called `name`, over `parts`; `agent` and `document` replace its defaults."""
    if name == "v1":
        from mockserver.v1.generation import v1_generation

        return v1_generation(parts, agent=agent, document=document)
    if name == "current":
        from mockserver.current.generation import current_generation

        return current_generation(parts, document=document)
    raise ValueError(f"unknown API generation {name!r}; known: {', '.join(API_GENERATIONS)}")
