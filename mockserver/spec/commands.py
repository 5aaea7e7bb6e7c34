"""The `spec` commands of the CLI: `spec validate` and `spec check-docs`."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

__all__ = ["add_spec_commands", "check_docs_command", "packaged_document", "validate_command"]

# Where the document sits in a source checkout, beside this package. It wins over the installed
# data package so that a checkout (or a worktree) checks its own document, not the one an
# editable install of another checkout points at.
_CHECKOUT_DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "chats.yaml"
# The documents by API generation, as paths inside openapi/ (and the data package).
_GENERATION_DOCUMENTS = {"v1": ("chats.yaml",), "current": ("current", "chats.yaml")}


def add_spec_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `spec validate [PATH]` and `spec check-docs DOCS.md [--document PATH]`."""
    spec = subparsers.add_parser("spec", help="check the OpenAPI document")
    commands = spec.add_subparsers(dest="spec_command", required=True)
    validate = commands.add_parser(
        "validate", help="validate an OpenAPI document (default: the packaged one)"
    )
    validate.add_argument("path", nargs="?", type=Path, help="the document (YAML or JSON)")
    validate.add_argument(
        "--api",
        choices=tuple(_GENERATION_DOCUMENTS),
        default="v1",
        help="without PATH, whose packaged document: the seed's (v1, default) or today's (current)",
    )
    validate.set_defaults(func=validate_command)
    check = commands.add_parser(
        "check-docs", help="check that the document says everything a Coder docs page says"
    )
    check.add_argument("docs", type=Path, metavar="DOCS.md", help="a Coder API docs page")
    check.add_argument("--document", type=Path, help="the document (default: the packaged one)")
    check.set_defaults(func=check_docs_command)


def packaged_document(api: str = "v1") -> Path:
    """The path of a generation's document: the checkout's when there is one, else the installed one."""
    parts = _GENERATION_DOCUMENTS[api]
    checkout = _CHECKOUT_DOCUMENT.parent.joinpath(*parts)
    if checkout.is_file():
        return checkout
    try:
        package = importlib.import_module("coder_chats_openapi")
    except ModuleNotFoundError:
        return checkout
    return Path(str(package.document() if api == "v1" else package.current_document()))


def validate_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Validate an OpenAPI 3.0 document.

    Exit 0 when it is valid; 1 with one line per error (its JSON path and message) otherwise,
    including when the file does not read or parse.
    """
    path: Path = args.path or packaged_document(getattr(args, "api", "v1"))
    lines: list[str] = []
    try:
        document = _load(path)
    except (OSError, yaml.YAMLError) as error:
        lines.append(f"{path}: {error}".replace("\n", " "))
    else:
        if not isinstance(document, dict):
            lines.append(f"{path}: not a mapping at the top level")
        else:
            lines.extend(_validation_errors(path, document))
    return _report(lines, f"{path}: valid", out)


def check_docs_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Check that the document still says everything a Coder API docs page says.

    Exit 0 when every item of the page (operations, curl samples, parameters, examples,
    responses, response-schema rows) matches the document through its `x-coder-docs`
    annotations; 1 with one line per difference otherwise, or when a file does not read.
    """
    from mockserver.spec.docs_check import check_docs  # imported here, so that serve starts without it
    from mockserver.spec.docs_page import DocsPageError, parse_docs_page

    document_path: Path = args.document or packaged_document()
    try:
        page = parse_docs_page(Path(args.docs).read_text(encoding="utf-8"))
        document = _load(document_path)
    except (OSError, yaml.YAMLError, DocsPageError) as error:
        return _report([str(error).replace("\n", " ")], "", out)
    lines = [str(difference) for difference in check_docs(page, document)]
    summary = f"{args.docs}: all {len(page.operations)} operations match {document_path}"
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
