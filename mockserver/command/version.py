"""`chats-mock --version`: this package's version and the commit of Coder each generation is true to."""

from __future__ import annotations

import re

from mockserver.app.generations import API_GENERATIONS
from mockserver.spec.commands import packaged_document

__all__ = ["pinned_coder_commit", "version_text"]

# The document's `info.x-coder-commit`, read from its text: loading the YAML would cost ~0.3 s.
_COMMIT = re.compile(r"^  x-coder-commit: *([0-9a-f]{7,40})\s*$", re.MULTILINE)


def pinned_coder_commit(api: str) -> str:
    """The coder/coder commit generation `api`'s document (and its WIRE.md) is true to."""
    path = packaged_document(api)
    found = _COMMIT.search(path.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{path}: no info.x-coder-commit")
    return found.group(1)


def version_text() -> str:
    """`chats-mock VERSION`, then one line per generation: its name and pinned Coder commit."""
    from importlib.metadata import PackageNotFoundError, version  # ~3 ms: not for serve's banner

    try:
        own = version("coder-chats-mock")
    except PackageNotFoundError:  # run from a checkout that was never installed
        own = "unknown (not installed)"
    lines = [f"chats-mock {own}"]
    for api in API_GENERATIONS:
        lines.append(f"  --api {api}: Coder's Chats API at coder/coder@{pinned_coder_commit(api)}")
    return "\n".join(lines)
