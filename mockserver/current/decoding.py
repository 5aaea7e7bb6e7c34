"""Request bodies and parameters of today's API, read as coderd reads them.

coderd's `httpapi.Read` decodes a body into its Go struct and the handler then checks the
fields itself, in its own order and with its own messages. So here a body is only decoded the
Go way, against the struct its schema describes: keys matched case-insensitively, `null` for
any field left unset, a value of the wrong JSON type refused with 400 `Request body must be
valid JSON.`; and parameters are left for the handlers to read (Connexion's checks would answer
with words Coder never sends).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from starlette.types import Message, Receive, Scope

from mockserver.core.errors import BodyTooLarge, InvalidJSONBody
from mockserver.core.golang import json_kind, parse_uuid
from mockserver.current.inputs import check_part_count
from mockserver.edge.auth import context_of
from mockserver.edge.validation import REQUEST_BODY, read_go_json_into, replay, validator_map

__all__ = ["READ_LIMITS", "current_validator_map", "go_decode", "read_limited"]

_INT_RANGES = {"int32": 32, "int64": 64}
# The bodies coderd reads with `httpapi.ReadLimit(ctx, rw, r, 2*maxSystemPromptLenBytes, &req)`
# (256 KiB) instead of `httpapi.Read`'s 4 MiB, by the Go type they are read into (WIRE.md
# section 2): postChats and postChatToolResults. Every other body is held to --max-body-bytes.
READ_LIMITS = {"codersdk.CreateChatRequest": 262_144, "codersdk.SubmitToolResultsRequest": 262_144}
# A field of any JSON value: Go calls its UnmarshalJSON even for `null`, so `null` is a value.
_RAW_MESSAGE = "json.RawMessage"


def _go_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "string":
        return "uuid.UUID" if schema.get("format") == "uuid" else "string"
    if kind == "integer":
        return str(schema.get("format", "int"))
    if kind == "boolean":
        return "bool"
    if kind == "array":
        return "[]" + _go_type(schema.get("items", {}))
    if kind == "object" and "additionalProperties" in schema:
        return "map[string]string"
    return str(schema.get("x-go-type", "struct"))


def _zero(schema: Mapping[str, Any]) -> Any:
    """Go's zero value of the type `schema` describes."""
    kind = "object" if "oneOf" in schema else schema.get("type")
    if kind == "string":
        return "00000000-0000-0000-0000-000000000000" if schema.get("format") == "uuid" else ""
    return {"integer": 0, "boolean": False, "array": None, "object": {}}.get(str(kind))


def _refuse(value: Any, schema: Mapping[str, Any], path: str) -> InvalidJSONBody:
    return InvalidJSONBody(
        f"json: cannot unmarshal {json_kind(value)} into Go struct field {path} of type {_go_type(schema)}"
    )


def _union(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """A `oneOf` of object kinds as the one Go struct behind them: every kind's fields."""
    properties: dict[str, Any] = {}
    for variant in schema["oneOf"]:
        for name, field in variant.get("properties", {}).items():
            properties.setdefault(name, field)
    return {"type": "object", "properties": properties}


def _decode(value: Any, schema: Mapping[str, Any], path: str) -> Any:
    """`value` as Go decodes it into the type `schema` describes (None: a null, left unset)."""
    if value is None:
        return None
    if "oneOf" in schema:
        schema = _union(schema)
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            raise _refuse(value, schema, path)
        if schema.get("format") == "uuid":
            try:
                parse_uuid(value)
            except ValueError as error:
                raise InvalidJSONBody(str(error)) from None
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _refuse(value, schema, path)
        bits = _INT_RANGES.get(str(schema.get("format")), 64)
        if isinstance(value, float) or not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
            raise InvalidJSONBody(
                f"json: cannot unmarshal number {value} into Go struct field {path} of type {_go_type(schema)}"
            )
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _refuse(value, schema, path)
        return value
    if kind == "array":
        if not isinstance(value, list):
            raise _refuse(value, schema, path)
        items = schema.get("items", {})
        # A null element is decoded into the element type's zero value.
        return [_zero(items) if item is None else _decode(item, items, path) for item in value]
    if kind == "object":
        if not isinstance(value, dict):
            raise _refuse(value, schema, path)
        if "properties" not in schema:
            extra = schema.get("additionalProperties")
            if isinstance(extra, Mapping):
                # null into a map's element stores the zero value
                return {
                    key: _zero(extra) if item is None else _decode(item, extra, path)
                    for key, item in value.items()
                }
            return value
        return _decode_struct(value, schema, path)
    return value  # any JSON value (json.RawMessage)


def _decode_struct(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Go's struct decoding: each key to the field of that name, else of that name in any case."""
    properties: Mapping[str, Any] = schema["properties"]
    by_folded = {name.lower(): name for name in properties}
    struct = path.rpartition(".")[2] if path else str(schema.get("x-go-type", "struct")).rpartition(".")[2]
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in properties else by_folded.get(key.lower())
        if name is None:
            continue  # unknown fields are ignored
        decoded = _decode(item, properties[name], f"{struct}.{name}")
        if decoded is not None or properties[name].get("x-go-type") == _RAW_MESSAGE:
            out[name] = decoded  # a json.RawMessage keeps a JSON null (its UnmarshalJSON sees it)
    return out


def go_decode(body: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as the handler's Go struct holds it; InvalidJSONBody as coderd refuses it."""
    if body is None:
        return {}  # Go decodes `null` into a struct as nothing at all
    if not isinstance(body, dict):
        go_type = schema.get("x-go-type", "struct")
        raise InvalidJSONBody(f"json: cannot unmarshal {json_kind(body)} into Go value of type {go_type}")
    return _decode_struct(body, schema, "")


def read_limited(receive: Receive, limit: int) -> Receive:
    """`receive`, but a body past `limit` bytes is refused as Go's MaxBytesReader refuses it (413)."""
    read = 0

    async def limited() -> Message:
        nonlocal read
        message = await receive()
        read += len(message.get("body", b""))
        if read > limit:
            raise BodyTooLarge(f"Maximum request body size is {limit} bytes.")
        return message

    return limited


def _content_length(body: Any, schema: Mapping[str, Any]) -> int:
    """How many parts a decoded body's `content` has (a key Go would read into it), 0 if none."""
    if not isinstance(body, dict) or "content" not in schema.get("properties", {}):
        return 0
    return max((len(v) for k, v in body.items() if k.lower() == "content" and isinstance(v, list)), default=0)


def current_validator_map(*, max_json_depth: int, max_message_parts: int) -> dict[str, Any]:
    """The validator_map of today's API: Go decoding for bodies, parameters left to the handlers.

    Bodies nested deeper than `max_json_depth` are refused as Go's decoder refuses them; a
    message of more than `max_message_parts` parts is refused once the JSON is decoded, before
    its parts are read into Go's struct (the mock's limit: its own place in the order).
    """

    class GoBodyDecoder(AbstractRequestBodyValidator):  # type: ignore[misc]
        """Reads the body as coderd's httpapi.Read does, and nothing more."""

        def _go_struct(self, decoded: Any) -> dict[str, Any]:
            check_part_count(_content_length(decoded, self._schema), max_message_parts)
            return go_decode(decoded, self._schema)

        async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
            limit = READ_LIMITS.get(str(self._schema.get("x-go-type")))
            reading = receive if limit is None else read_limited(receive, limit)
            # Decoded, counted and read into Go's struct on one thread (a worker's, for a long
            # body): 100k parts are made, walked and, when refused, dropped off the event loop.
            raw, body = await read_go_json_into(reading, self._go_struct, max_depth=max_json_depth)
            context_of(scope)[REQUEST_BODY] = body
            return replay(raw, receive), scope

    class HandlersReadParameters(ParameterValidator):  # type: ignore[misc]
        """No check here: each handler reads its parameters and refuses them in Coder's words."""

        def validate(self, scope: Scope) -> None:
            return None

    return {
        **validator_map(max_json_depth=max_json_depth),
        "parameter": HandlersReadParameters,
        "body": MediaTypeDict({"*/*json": GoBodyDecoder}),
    }
