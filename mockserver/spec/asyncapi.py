"""AsyncAPI 3.0 documents checked against AsyncAPI's own JSON Schema, their `$ref`s followed.

`asyncapi_schema/3.0.0.json` is the schema @asyncapi/parser applies first (its NOTICE says
which release). On top of it every `$ref` must point at something: into the document itself or
into a file beside it (the frames are schemas of the OpenAPI document next door).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SUPPORTED_VERSIONS", "asyncapi_errors"]

SUPPORTED_VERSIONS = ("3.0.0",)


def asyncapi_errors(path: Path, document: dict[str, Any]) -> list[str]:
    """One line per error: a field AsyncAPI 3.0 does not allow, or a `$ref` to nothing."""
    from jsonschema import Draft7Validator  # imported here: serve never needs it

    version = document.get("asyncapi")
    if version not in SUPPORTED_VERSIONS:
        return [
            f"{path}: #/asyncapi: {version!r} is not an AsyncAPI version this checks ({', '.join(SUPPORTED_VERSIONS)})"
        ]
    schema_file = resources.files(__package__).joinpath("asyncapi_schema", f"{version}.json")
    validator = Draft7Validator(json.loads(schema_file.read_text(encoding="utf-8")))
    lines = [
        f"{path}: {_pointer(found.absolute_path)}: {_message(found)}"
        for found in sorted(
            validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path))
        )
    ]
    lines.extend(f"{path}: {where}: {problem}" for where, problem in _dangling_refs(path, document))
    return lines


def _message(error: Any) -> str:
    """What is wrong, without the offending value (the schema's `anyOf`s would print it whole)."""
    while error.context:  # "not valid under any of the given schemas": the likeliest branch's reason
        # The deepest complaint; of equals, one that is not "it is no $ref" (every object may be one).
        error = max(error.context, key=lambda e: (len(e.absolute_path), "'$ref'" not in e.message))
    message: str = error.message.splitlines()[0]
    shown = repr(error.instance)
    if len(shown) > 80 and message.startswith(shown):
        message = "the value" + message[len(shown) :]
    where = _pointer(error.relative_path)
    return message if where == "#" else f"{message} (at {where[1:]})"


def _dangling_refs(path: Path, document: Any) -> Iterator[tuple[str, str]]:
    """Each `$ref` that points at no file or at nothing in its file."""
    loaded: dict[Path, Any] = {path.resolve(): document}
    for where, ref in _refs(document, ()):
        file_part, _, pointer = ref.partition("#")
        target_path = (path.parent / file_part).resolve() if file_part else path.resolve()
        if target_path not in loaded:
            try:
                loaded[target_path] = yaml.safe_load(target_path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as error:
                yield where, f"$ref {ref!r}: {' '.join(str(error).split())}"
                continue
        if not _resolves(loaded[target_path], pointer):
            yield where, f"$ref {ref!r} points at nothing"


def _refs(node: Any, at: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield _pointer(at), ref
        for key, value in node.items():
            yield from _refs(value, (*at, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _refs(value, (*at, str(index)))


def _resolves(document: Any, pointer: str) -> bool:
    node = document
    for raw in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    return True


def _pointer(parts: Any) -> str:
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)
