"""The `spec` commands of the CLI: `spec validate` and `spec check-docs`."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

__all__ = [
    "add_spec_commands",
    "check_docs_command",
    "packaged_docs_page",
    "packaged_document",
    "path_command",
    "validate_command",
]

# The source checkout this package runs from, if it runs from one (then pyproject.toml sits beside
# mockserver/). Its documents win over the installed data package so that a checkout (or a
# worktree) checks its own, not the ones an editable install of another checkout points at. An
# installed package sits in site-packages, which holds no pyproject.toml: it reads its own data.
_CHECKOUT = Path(__file__).resolve().parents[2]
# Each generation's document: its path inside openapi/, and the data package's accessor for it.
_GENERATION_DOCUMENTS = {
    "v1": ("chats.yaml", "document"),
    "current": ("current/chats.yaml", "current_document"),
}

# What `spec path` names: each packaged file a tool outside the checkout may want.
_PACKAGED_FILES = {
    "v1": ("chats.yaml", "document"),
    "current": ("current/chats.yaml", "current_document"),
    "v1-asyncapi": ("chats.asyncapi.yaml", "asyncapi_document"),
    "current-asyncapi": ("current/chats.asyncapi.yaml", "current_asyncapi_document"),
    "control": ("control.yaml", "control_document"),
    "schemathesis-config": ("schemathesis.toml", "schemathesis_config"),
}


def add_spec_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `spec validate [PATH]` and `spec check-docs [DOCS.md] [--document PATH]`."""
    spec = subparsers.add_parser("spec", help="check the OpenAPI document")
    commands = spec.add_subparsers(dest="spec_command", required=True)
    validate = commands.add_parser(
        "validate", help="validate an OpenAPI 3.0 or AsyncAPI 3.0 document (default: the packaged one)"
    )
    validate.add_argument("path", nargs="?", type=Path, help="the document (YAML or JSON)")
    validate.add_argument(
        "--api",
        choices=tuple(_GENERATION_DOCUMENTS),
        default="v1",
        help="without PATH, whose packaged document: the seed's (v1, default) or today's (current)",
    )
    validate.set_defaults(func=validate_command)
    path = commands.add_parser(
        "path",
        help="print where a packaged file is (for tools run outside the checkout)",
        description=path_command.__doc__,
    )
    path.add_argument("what", choices=tuple(_PACKAGED_FILES), help="which file")
    path.set_defaults(func=path_command)
    check = commands.add_parser(
        "check-docs", help="check that the document says everything a Coder docs page says"
    )
    check.add_argument(
        "docs",
        nargs="?",
        type=Path,
        metavar="DOCS.md",
        help="a Coder API docs page (default: the packaged copy of the Chats API's page)",
    )
    check.add_argument("--document", type=Path, help="the document (default: the packaged one)")
    check.set_defaults(func=check_docs_command)


def packaged_document(api: str = "v1") -> Path:
    """The path of a generation's document: the checkout's when there is one, else the installed one."""
    return _packaged(*_GENERATION_DOCUMENTS[api])


def path_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the path of a packaged document, or of the Schemathesis config today's document needs.

    E.g. `schemathesis --config-file "$(chats-mock spec path schemathesis-config)" run
    "$(chats-mock spec path current)" --url ...` runs plain Schemathesis as the README does.
    """
    print(_packaged(*_PACKAGED_FILES[args.what]), file=out or sys.stdout)
    return 0


def packaged_docs_page() -> Path:
    """The path of Coder's docs page for the Chats API: the checkout's, else the installed one."""
    return _packaged("chats-api-docs.md", "docs_page")


def _packaged(name: str, accessor: str) -> Path:
    """A file of openapi/: from the checkout this package runs from, else from coder_chats_openapi."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "openapi" / name).is_file():
        return _CHECKOUT / "openapi" / name
    package = importlib.import_module("coder_chats_openapi")
    return Path(str(getattr(package, accessor)()))


def validate_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Validate an OpenAPI 3.0 document, or an AsyncAPI 3.0 one (a document with `asyncapi`).

    Exit 0 when it is valid; 1 with one line per error (its JSON path and message) otherwise,
    including when the file does not read or parse.
    """
    path: Path = args.path or packaged_document(getattr(args, "api", "v1"))
    lines: list[str] = []
    kind = ""
    try:
        document = _load(path)
    except (OSError, yaml.YAMLError) as error:
        lines.append(f"{path}: {error}".replace("\n", " "))
    else:
        if not isinstance(document, dict):
            lines.append(f"{path}: not a mapping at the top level")
        elif "asyncapi" in document:
            from mockserver.spec.asyncapi import asyncapi_errors  # imported here: serve never needs it

            lines.extend(asyncapi_errors(path, document))
            kind = f"AsyncAPI {document['asyncapi']}"
        else:
            lines.extend(_validation_errors(path, document))
            kind = f"OpenAPI {document.get('openapi')}"
    return _report(lines, f"{path}: valid {kind}" if not lines else "", out)


def check_docs_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Check that the document still says everything a Coder API docs page says.

    Exit 0 when every item of the page (operations, curl samples, parameters, examples,
    responses, response-schema rows) matches the document through its `x-coder-docs`
    annotations; 1 with one line per difference otherwise, or when a file does not read.
    """
    from mockserver.spec.docs_check import check_docs  # imported here, so that serve starts without it
    from mockserver.spec.docs_page import DocsPageError, parse_docs_page

    document_path: Path = args.document or packaged_document()
    docs_path: Path = args.docs or packaged_docs_page()
    try:
        page = parse_docs_page(docs_path.read_text(encoding="utf-8"))
        document = _load(document_path)
    except (OSError, yaml.YAMLError, DocsPageError) as error:
        return _report([str(error).replace("\n", " ")], "", out)
    lines = [str(difference) for difference in check_docs(page, document)]
    summary = f"{docs_path}: all {len(page.operations)} operations match {document_path}"
    return _report(lines, summary, out)


def _validation_errors(path: Path, document: dict[str, Any]) -> list[str]:
    """One line per error openapi-spec-validator finds in a document."""
    # Imported here: it costs ~0.15 s, and `serve` (which builds the same parser) must start fast.
    from openapi_spec_validator import OpenAPIV30SpecValidator

    lines: list[str] = []
    try:
        for found in OpenAPIV30SpecValidator(document).iter_errors():
            where = "#" + "".join(
                "/" + str(part).replace("~", "~0").replace("/", "~1") for part in found.absolute_path
            )
            # The message's first line says what is wrong; the rest dumps the instance.
            lines.append(f"{path}: {where}: {found.message.splitlines()[0]}")
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # openapi-spec-validator 0.9's keyword walkers crash (e.g. KeyError 'responses') on
        # a node of the wrong JSON type after reporting its schema errors; say so and stop.
        lines.append(f"{path}: validator stopped on a malformed node: {error!r}")
    return lines


def _load(path: Path) -> Any:
    """A YAML (or JSON) file's value."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _report(lines: list[str], ok: str, out: TextIO | None) -> int:
    """Print the errors (or the all-clear) and return the exit code."""
    for line in lines or [ok]:
        print(line, file=out or sys.stdout)
    return 1 if lines else 0
