"""Which methods the document allows on a path: the truth behind a 405's `Allow` header."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MethodIndex"]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\\\{[^/]+?\\\}")


class MethodIndex:
    """Path templates of a document under its base path, each with the methods it declares."""

    def __init__(self, paths: Mapping[str, Mapping[str, Any]], base_path: str) -> None:
        self._routes = [
            (
                re.compile(_PARAM.sub("[^/]+", re.escape(base_path.rstrip("/") + template)) + "/?"),
                tuple(m.upper() for m in _HTTP_METHODS if m in operations),
            )
            for template, operations in paths.items()
        ]

    def allowed(self, path: str) -> tuple[str, ...]:
        """The methods declared for the path, in a fixed order; empty when no template matches."""
        for pattern, methods in self._routes:
            if pattern.fullmatch(path):
                return methods
        return ()
