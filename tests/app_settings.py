"""Settings for the tests' apps: their document read back prepared, as `serve` reads it.

Preparing a document for Connexion (reading the YAML, checking it against the OpenAPI 3.0
meta-schema with every `$ref` followed, inlining the `$ref`s) costs ~0.25 s of CPU for today's
document and ~45 ms for V1's, and most tests build an app of their own. `serve` keeps what came
out in the user's cache directory and reads it back (~3 ms, mockserver/edge/prepared_document.py);
the tests' apps do the same in the session's cache home (conftest.py points XDG_CACHE_HOME at a
temporary folder of each worker), so a worker prepares each document once. Each app still gets
its own copy of it. tests/test_prepared_document.py proves that an app over a kept document
answers as one over a fresh document, and the tests that build an app with plain `Settings`
(no cache directory) still prepare it afresh.
"""

from __future__ import annotations

from typing import Any

from mockserver.app.factory import Settings
from mockserver.edge.prepared_document import default_cache_dir

__all__ = ["app_settings"]


def app_settings(**chosen: Any) -> Settings:
    """`Settings(**chosen)`, the document kept prepared in the session's cache home."""
    return Settings(document_cache=default_cache_dir(), **chosen)
