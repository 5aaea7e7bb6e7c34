"""Every payload a scenario check reads, judged against the schemas of the documents (chats.yaml).

The Schemathesis phase validates the answers to its own generated requests; the scenario checks
read many more (a run's messages and their parts, usage, stream and watch events), and each of
those is validated here too, against the same components.

Sets are closed where the document gives an `enum`, except where the document marks the set
`x-open-set` (WIRE.md §7.4): a newer coderd adds values there and Coder's UI skips the ones it
does not know, so an unknown value is read past and only what every value carries is judged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

__all__ = ["RULE", "Shapes", "fit"]

RULE = "answers_fit_the_document"
OPEN_SET = "x-open-set"


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema 2020-12: `nullable` becomes a `null` type, open sets lose their closure."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key != "discriminator"}
    if node.get(OPEN_SET) and "enum" in out:
        del out["enum"]  # an open enum: any string
    if "oneOf" in node and "discriminator" in node:
        # A tagged union: the tag picks its branch (so that a misfit names the branch's field);
        # an unknown tag is refused, unless the union is an open set.
        tag = node["discriminator"]["propertyName"]
        mapping = node["discriminator"]["mapping"]
        del out["oneOf"]
        out["type"] = "object"
        out["required"] = [tag]
        out["properties"] = {tag: {"type": "string"} if node.get(OPEN_SET) else {"enum": sorted(mapping)}}
        out["allOf"] = [
            {"if": {"properties": {tag: {"const": value}}}, "then": {"$ref": ref}}
            for value, ref in mapping.items()
        ]
    if node.get("nullable"):
        out.pop("nullable")
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "$ref" in out or "allOf" in out or "oneOf" in out:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


@dataclass(frozen=True, slots=True)
class Shapes:
    """Validators of the document's component schemas, by name (`codersdk.Chat`, ...)."""

    components: Mapping[str, Any]
    _validators: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Shapes:
        return cls({"components": _json_schema(document.get("components", {}))})

    def problems(self, schema: str, value: Any) -> list[str]:
        """What in `value` does not fit `components/schemas/<schema>` (empty when it fits)."""
        validator = self._validators.get(schema)
        if validator is None:
            root = {"$ref": f"#/components/schemas/{schema}", **self.components}
            validator = jsonschema.Draft202012Validator(root)
            self._validators[schema] = validator
        found = []
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))[:3]:
            where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            found.append(f"{where or '(the value)'}: {error.message[:200]}")
        return found


def fit(
    shapes: Shapes,
    record: Callable[[str, str], None],
    schema: str,
    value: Any,
    where: str,
) -> None:
    """Record (`record(kind, message)`) what in `value`, read at `where`, does not fit `schema`."""
    problems = shapes.problems(schema, value)
    if problems:
        record("PayloadDoesNotFit", f"{where}: not a {schema}: " + "; ".join(problems))
