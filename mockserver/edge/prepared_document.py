"""A generation's OpenAPI document, read and prepared for Connexion once, then kept on disk.

Connexion prepares a document on every start: it copies it, checks it against the OpenAPI
3.0 meta-schema (with jsonschema, every `$ref` followed) and inlines every `$ref`. For today's
document that is ~150 ms of the ~0.5 s `serve` takes to answer (reading the YAML ~20 ms more),
and the answer is the same every time for the same bytes. So `serve` keeps what came out, the
loaded document and Connexion's prepared specification, in a file of the user's cache directory
named for a digest of the document's bytes and of the code that read and checked it: Python's
version, the installed versions of PyYAML, jsonschema, Connexion and the packages beside them
(every `*.dist-info` name in their folders) and the size and time of each file of theirs that
does the work (and of this module's). A later start with the same bytes and the same code reads
that file (marshal, ~3 ms) instead; a document that fails the meta-schema is never kept,
so it fails every start as before. The file is only a shortcut: when it cannot be read or
written (no cache directory, a read-only one, another user's file, a torn write) the document
is prepared as Connexion always does, and `serve` starts the same, only slower.

`create_app` prepares afresh unless given a cache directory (tests never write outside theirs);
`serve` gives it `default_cache_dir()`.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PreparedDocument", "add_prepared_api", "default_cache_dir", "load_document", "prepare_document"]

# Bumped when what a cache file holds changes shape.
_FORMAT = b"chats-mock prepared document 1"
# The modules whose code reads the document or decides what Connexion keeps of it: a file of
# theirs that changes (an upgrade, an edit) makes every kept document stale.
_READERS = (
    "yaml",
    "yaml.constructor",
    "connexion",
    "connexion.spec",
    "connexion.json_schema",
    "jsonschema",
    "jsonschema.validators",
    "jsonschema._keywords",
    "referencing._core",
)


def load_document(source: Any) -> Mapping[str, Any]:
    """An OpenAPI document read from a path (or a package resource)."""
    return _parse(source.read_bytes())


def _parse(text: bytes) -> Mapping[str, Any]:
    # A safe loader either way; libyaml's, when PyYAML has it, reads the document ~6x faster.
    loaded: Mapping[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document as loaded, and Connexion's specification of it (checked, its `$ref`s inlined)."""

    document: Mapping[str, Any]
    specification: Any  # connexion.spec.OpenAPISpecification


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where `serve` keeps prepared documents: `$XDG_CACHE_HOME/coder-chats-mock/documents`
    (default `~/.cache/...`); None when there is no home to put it in."""
    base = environ.get("XDG_CACHE_HOME") or (
        os.path.join(environ["HOME"], ".cache") if environ.get("HOME") else ""
    )
    if not os.path.isabs(base):  # the XDG spec: a relative path is to be ignored
        return None
    return Path(base) / "coder-chats-mock" / "documents"


def prepare_document(source: Any, cache_dir: Path | None = None) -> PreparedDocument:
    """The document at `source` (a path or a package resource), read and prepared for Connexion.

    With `cache_dir`, what an earlier call kept there for the same bytes is read instead, and
    what this call prepared is kept there for the next.
    """
    text = source.read_bytes()
    cache_file = cache_dir / f"{_digest(text)}.marshal" if cache_dir is not None else None
    if cache_file is not None:
        kept = _read_kept(cache_file)
        if kept is not None:
            return kept
    from connexion.spec import OpenAPISpecification, Specification

    document = _parse(text)
    specification = Specification.from_dict(document)  # checks it: InvalidSpecification if not valid
    prepared = PreparedDocument(document, specification)
    if cache_file is not None and type(specification) is OpenAPISpecification:
        _keep(cache_file, prepared)
    return prepared


def _digest(text: bytes, readers: tuple[str, ...] = _READERS) -> str:
    """A name for these bytes as read by this Python and these versions of the `readers`."""
    digest = hashlib.sha256(_FORMAT)
    digest.update(sys.version.encode())
    digest.update(_code_identity((*readers, __name__)).encode())
    digest.update(b"\0")
    digest.update(text)
    return digest.hexdigest()


def _code_identity(modules: tuple[str, ...]) -> str:
    """What names the code of `modules`: each one's file (path, size, time) and the installed
    versions beside its package (the `*.dist-info` names in the folder that holds it)."""
    parts = []
    folders: dict[str, None] = {}
    for name in modules:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        path = getattr(module, "__file__", None) or ""
        stat = os.stat(path) if path else None
        parts.append(f"{name}\0{path}\0{stat and (stat.st_size, stat.st_mtime_ns)}")
        package = sys.modules.get(name.partition(".")[0])
        package_file = getattr(package, "__file__", None)
        if package_file:  # <folder>/<package>/__init__.py, or <folder>/<module>.py
            top = os.path.dirname(package_file)
            folders[os.path.dirname(top) if package_file.endswith("__init__.py") else top] = None
    for folder in folders:
        try:
            installed = sorted(entry for entry in os.listdir(folder) if entry.endswith(".dist-info"))
        except OSError:
            installed = []
        parts.append(f"{folder}\0{installed}")
    return "\0\0".join(parts)


def _read_kept(cache_file: Path) -> PreparedDocument | None:
    """What an earlier start kept in `cache_file`, or None (missing, unreadable, not ours, torn)."""
    try:
        with cache_file.open("rb") as kept:
            if os.fstat(kept.fileno()).st_uid != os.getuid():
                return None  # only a file this user wrote is read
            data = kept.read()
        form, document, attributes = marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if form != _FORMAT or not isinstance(document, dict) or not isinstance(attributes, dict):
        return None
    from connexion.spec import OpenAPISpecification

    # Connexion's specification as its constructor left it, without running the constructor.
    specification = OpenAPISpecification.__new__(OpenAPISpecification)
    specification.__dict__.update(attributes)
    return PreparedDocument(document, specification)


def _keep(cache_file: Path, prepared: PreparedDocument) -> None:
    """Write `prepared` to `cache_file` whole (a new file renamed over it), or leave it be."""
    try:
        kept: Any = (_FORMAT, prepared.document, vars(prepared.specification))
        data = marshal.dumps(kept)
    except ValueError:  # something marshal cannot write (a YAML timestamp, a newer Connexion's object)
        return
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=cache_file.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, cache_file)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return


# The options `ConnexionMiddleware.add_api` takes into the app's options for one API.
_API_OPTIONS = (
    "auth_all_paths",
    "jsonifier",
    "swagger_ui_options",
    "pythonic_params",
    "resolver",
    "resolver_error",
    "strict_validation",
    "uri_parser_class",
    "validate_responses",
    "validator_map",
    "security_map",
)


def add_prepared_api(
    app: Any, prepared: PreparedDocument, *, base_path: str | None = None, **options: Any
) -> None:
    """`app.add_api(document, **options)` with the specification already prepared.

    What Connexion's `ConnexionMiddleware.add_api` does with a dict once it has made the
    specification of it (which this skips: `prepared` holds it). `options` are add_api's.
    """
    from connexion.middleware.main import API

    middleware = app.middleware
    if middleware.middleware_stack is not None:
        raise RuntimeError("Cannot add api after an application has started")
    unknown = set(options) - set(_API_OPTIONS)
    if unknown:
        raise TypeError(f"add_prepared_api() got unexpected options {sorted(unknown)}")
    settings = middleware.options.replace(**options)
    middleware.apis.append(API(prepared.specification, base_path=base_path, name=None, **settings.__dict__))
