"""Request bodies and parameters of today's API, read as coderd reads them.

coderd's `httpapi.Read` decodes a body into its Go struct and the handler then checks the
fields itself, in its own order and with its own messages. So here a body is only decoded the
Go way, against the struct its schema describes: keys matched case-insensitively, `null` for
any field left unset, a value of the wrong JSON type refused with 400 `Request body must be
valid JSON.`; and parameters are left for the handlers to read (Connexion's checks would answer
with words Coder never sends).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from starlette.types import Receive, Scope

from mockserver.core.errors import InvalidJSONBody
from mockserver.core.golang import json_kind, parse_uuid
from mockserver.current.inputs import check_part_count
from mockserver.edge.auth import context_of
from mockserver.edge.validation import REQUEST_BODY, read_go_json_into, replay, validator_map

__all__ = ["READ_LIMITS", "current_validator_map", "go_decode", "go_struct_decoder"]

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


# Decodes one JSON value (never None: a null is left unset by its caller) into a place of a body.
_Decoder = Callable[[Any], Any]


def _lazy(make: Callable[[], _Decoder]) -> _Decoder:
    """The decoder `make` builds, built when first asked for (a schema may nest itself)."""
    built: list[_Decoder] = []

    def decode(value: Any) -> Any:
        if not built:
            built.append(make())
        return built[0](value)

    return decode


def _compile(schema: Mapping[str, Any], path: str) -> _Decoder:
    """How Go decodes a value into the type `schema` describes, at `path` (its errors' field).

    Built once per place in a body's schema and kept by the operation's validator: what each
    value needs (union of a `oneOf`, field names by case, paths) is worked out once, not per
    request.
    """
    if "oneOf" in schema:
        schema = _union(schema)
    kind = schema.get("type")
    if kind == "string":
        return _string(schema, path)
    if kind == "integer":
        return _integer(schema, path)
    if kind == "boolean":

        def boolean(value: Any) -> Any:
            if not isinstance(value, bool):
                raise _refuse(value, schema, path)
            return value

        return boolean
    if kind == "array":
        return _array(schema, path)
    if kind == "object":
        return _object(schema, path)
    return _any


def _any(value: Any) -> Any:
    return value  # any JSON value (json.RawMessage)


def _string(schema: Mapping[str, Any], path: str) -> _Decoder:
    is_uuid = schema.get("format") == "uuid"

    def string(value: Any) -> Any:
        if not isinstance(value, str):
            raise _refuse(value, schema, path)
        if is_uuid:
            try:
                parse_uuid(value)
            except ValueError as error:
                raise InvalidJSONBody(str(error)) from None
        return value

    return string


def _integer(schema: Mapping[str, Any], path: str) -> _Decoder:
    bits = _INT_RANGES.get(str(schema.get("format")), 64)
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def integer(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _refuse(value, schema, path)
        if isinstance(value, float) or not low <= value < high:
            raise InvalidJSONBody(
                f"json: cannot unmarshal number {value} into Go struct field {path} of type {_go_type(schema)}"
            )
        return value

    return integer


def _array(schema: Mapping[str, Any], path: str) -> _Decoder:
    items = schema.get("items", {})
    decode_item = _lazy(lambda: _compile(items, path))

    def array(value: Any) -> Any:
        if not isinstance(value, list):
            raise _refuse(value, schema, path)
        # A null element is decoded into the element type's zero value.
        return [_zero(items) if item is None else decode_item(item) for item in value]

    return array


def _object(schema: Mapping[str, Any], path: str) -> _Decoder:
    if "properties" in schema:
        decode_struct = _struct(schema, path)

        def struct(value: Any) -> Any:
            if not isinstance(value, dict):
                raise _refuse(value, schema, path)
            return decode_struct(value)

        return struct
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        decode_item = _lazy(lambda: _compile(extra, path))

        def mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise _refuse(value, schema, path)
            # null into a map's element stores the zero value
            return {key: _zero(extra) if item is None else decode_item(item) for key, item in value.items()}

        return mapping

    def anything(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _refuse(value, schema, path)
        return value

    return anything


def _struct(schema: Mapping[str, Any], path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Go's struct decoding: each key to the field of that name, else of that name in any case."""
    properties: Mapping[str, Any] = schema["properties"]
    by_folded = {name.lower(): name for name in properties}
    struct = path.rpartition(".")[2] if path else str(schema.get("x-go-type", "struct")).rpartition(".")[2]
    # Per field: its decoder, and whether it keeps a JSON null (a json.RawMessage's UnmarshalJSON sees it).
    fields = {
        name: (_lazy(partial(_compile, field, f"{struct}.{name}")), field.get("x-go-type") == _RAW_MESSAGE)
        for name, field in properties.items()
    }

    def decode(value: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if key in properties else by_folded.get(key.lower())
            if name is None:
                continue  # unknown fields are ignored
            decode_field, keeps_null = fields[name]
            decoded = None if item is None else decode_field(item)
            if decoded is not None or keeps_null:
                out[name] = decoded
        return out

    return decode


def go_struct_decoder(schema: Mapping[str, Any]) -> Callable[[Any], dict[str, Any]]:
    """The request body as the handler's Go struct holds it; InvalidJSONBody as coderd refuses it."""
    go_type = schema.get("x-go-type", "struct")
    decode_struct = _lazy(lambda: _struct(schema, ""))

    def decode(body: Any) -> dict[str, Any]:
        if body is None:
            return {}  # Go decodes `null` into a struct as nothing at all
        if not isinstance(body, dict):
            raise InvalidJSONBody(f"json: cannot unmarshal {json_kind(body)} into Go value of type {go_type}")
        decoded: dict[str, Any] = decode_struct(body)
        return decoded

    return decode


def go_decode(body: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as the handler's Go struct holds it (`go_struct_decoder`, built for one body)."""
    return go_struct_decoder(schema)(body)


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

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._go_decode = go_struct_decoder(self._schema)  # built once: one per operation
            self._read_limit = READ_LIMITS.get(str(self._schema.get("x-go-type")))

        def _go_struct(self, decoded: Any) -> dict[str, Any]:
            check_part_count(_content_length(decoded, self._schema), max_message_parts)
            return self._go_decode(decoded)

        async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
            # Counted against coderd's read limit as it is read (no receive wrapped around the
            # limits layer's for that); decoded, counted and read into Go's struct on one thread
            # (a worker's, for a long body): 100k parts are made, walked and, when refused,
            # dropped off the event loop.
            raw, body = await read_go_json_into(
                receive, self._go_struct, max_depth=max_json_depth, read_limit=self._read_limit
            )
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
