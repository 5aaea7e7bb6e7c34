"""The body check of V1's operations: the Go checks first, then the document where it can add a refusal.

`go_checks_cover` lets a body schema's own validation go when the Go checks already refuse whatever
it refuses. These tests prove the claim on V1's two bodies (any body the Go checks pass, the schema
passes), and that a schema asking for more still has its refusals said.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import coder_chats_openapi
import pytest
from connexion.json_schema import Draft4RequestValidator
from connexion.operations import OpenAPIOperation
from connexion.resolver import Resolver
from connexion.spec import Specification

from mockserver.core.errors import InvalidJSONBody, RequestError
from mockserver.edge.generation_parts import load_document
from mockserver.edge.validation import (
    REQUEST_BODY,
    _go_check_fields,
    _go_check_required,
    go_checks_cover,
    validator_map,
)
from mockserver.edge.validation import _format_checker as format_checker
from mockserver.edge.validation import _go_uuid as go_uuid

UUID_TEXT = "0967198e-ec7b-4c6b-b4d3-f71244cadbe9"


def _v1_body_schemas() -> dict[str, Mapping[str, Any]]:
    """Each V1 body schema as Connexion hands it to the body validator (its `components` beside it)."""
    spec = Specification.load(dict(load_document(coder_chats_openapi.document())))
    resolver = Resolver(function_resolver=lambda name: print)
    schemas = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                built = OpenAPIOperation.from_spec(spec, path=path, method=method, resolver=resolver)
                schemas[f"{method.upper()} {path}"] = built.body_schema("application/json")
    return schemas


V1_BODIES = _v1_body_schemas()


def test_v1_has_the_two_bodies_and_the_go_checks_cover_both() -> None:
    assert sorted(V1_BODIES) == ["POST /chats", "POST /chats/{chat}/messages"]
    assert all(go_checks_cover(schema) for schema in V1_BODIES.values())


# A field's value of each kind the checks tell apart: missing, null, empty, a string (a uuid or
# not), a number, an array, an object.
_MISSING = object()
_FIELD_VALUES = (_MISSING, None, "", "p", UUID_TEXT, 0, ["p"], {"p": 1})


def _bodies(schema: Mapping[str, Any]) -> Iterator[Any]:
    """Every combination of `_FIELD_VALUES` over the schema's fields (beside a key it does not
    name), and bodies that are not objects."""
    yield from (None, "p", 1, ["p"])
    names = list(schema.get("properties", {}))
    for values in itertools.product(_FIELD_VALUES, repeat=len(names)):
        body = {name: value for name, value in zip(names, values, strict=True) if value is not _MISSING}
        yield {**body, "unknown": 1}


def _go_checks_pass(body: Any, schema: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        checked = _go_check_fields(body, schema)
        _go_check_required(checked, schema)
    except RequestError:
        return None
    return checked


@pytest.mark.parametrize("operation", sorted(V1_BODIES))
def test_a_v1_body_the_go_checks_pass_is_one_the_document_passes(operation: str) -> None:
    schema = V1_BODIES[operation]
    validator = Draft4RequestValidator(schema, format_checker=format_checker(go_uuid))
    passed = [checked for body in _bodies(schema) if (checked := _go_checks_pass(body, schema)) is not None]
    assert passed  # the combinations reach bodies the Go checks take
    assert [body for body in passed if not validator.is_valid(body)] == []


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


@pytest.mark.parametrize(
    "schema",
    [
        _object(["name"], name={"type": "string", "maxLength": 3}),
        _object(["name"], name={"type": "string", "pattern": "^a"}),
        _object(["name"], name={"type": "string", "enum": ["a"]}),
        _object(["name"], name={"type": "string", "minLength": 2}),
        _object(["name"], name={"type": "string", "format": "date-time"}),
        _object([], name={"type": "string", "minLength": 1}),  # an optional "" is not refused the Go way
        _object([], name={"type": "string"}),  # an optional null: the schema refuses it, Go does not
        _object(["count"], count={"type": "integer"}),
        _object([], meta={"type": "object"}),
        _object([], meta={"description": "any", "format": "uuid"}),
        _object([], ref={"$ref": "#/components/schemas/Other"}),
        {**_object([]), "additionalProperties": False},
        {**_object([]), "minProperties": 1},
        {"type": "array", "items": {"type": "string"}},
        {"properties": {}},
    ],
)
def test_a_schema_that_asks_more_than_the_go_checks_is_not_covered(schema: dict[str, Any]) -> None:
    assert not go_checks_cover(schema)


@pytest.mark.parametrize(
    "schema",
    [
        _object(["name"], name={"type": "string", "minLength": 1, "description": "d", "x-anything": 1}),
        _object([], name={"type": "string", "nullable": True, "format": "uuid"}),
        _object([], meta={"description": "any JSON value", "example": [1]}),
        {**_object([]), "x-go-type": "codersdk.Thing", "description": "d", "components": {"schemas": {}}},
    ],
)
def test_a_schema_of_what_the_go_checks_refuse_is_covered(schema: dict[str, Any]) -> None:
    assert go_checks_cover(schema)


def _read(schema: dict[str, Any], raw: bytes) -> Any:
    """The body the handler would get, read by V1's body validator."""
    validator_cls = validator_map()["body"]["application/json"]
    validator = validator_cls(schema=schema, encoding="utf-8", strict_validation=False)
    scope: dict[str, Any] = {"type": "http", "extensions": {}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    asyncio.run(validator.wrap_receive(receive, scope=scope))
    return scope["extensions"]["connexion_context"][REQUEST_BODY]


def test_a_refusal_only_the_document_makes_is_still_sent_in_its_words() -> None:
    schema = _object(["name"], name={"type": "string", "maxLength": 3})
    assert _read(schema, b'{"name": "abc"}') == {"name": "abc"}
    with pytest.raises(InvalidJSONBody, match=r"^'abcd' is too long$"):
        _read(schema, b'{"name": "abcd"}')
