"""Request and response validation with Coder's semantics, plugged into Connexion's validator_map.

Bodies are read the way coderd's httpapi.Read reads them: with Go's json.Decoder whatever the
Content-Type, type errors before missing fields, and each
refusal raised as the error coderd sends. The document stays the judge: after the Go-style
checks the body is validated against its schema too, unless those checks already refuse all the
schema refuses (`go_checks_cover`, proven at start-up). Validators are compiled once per schema.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from typing import Any, TypeVar

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from connexion.utils import is_null, is_nullable
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from connexion.validators.json import JSONResponseBodyValidator
from connexion.validators.parameter import draft4_format_checker
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from starlette.types import Receive, Scope, Send

from mockserver.core.errors import BodyTooLarge, InvalidJSONBody, MissingFields
from mockserver.core.golang import MAX_NESTING, GoJSONError, decode_json, json_kind, parse_uuid
from mockserver.edge.auth import context_of
from mockserver.edge.routed import operation_app

__all__ = [
    "DECODE_INLINE_BYTES",
    "REQUEST_BODY",
    "GoRequestValidationMiddleware",
    "body_chunks",
    "go_checks_cover",
    "read_go_json",
    "read_go_json_into",
    "replay",
    "validator_map",
]

_T = TypeVar("_T")

# The context key under which the decoded, checked request body reaches the handler.
REQUEST_BODY = "request_body"

_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _go_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parse_uuid(value)
    except ValueError:
        return False
    return True


def _canonical_uuid(value: object) -> bool:
    return not isinstance(value, str) or _CANONICAL_UUID.fullmatch(value) is not None


def _format_checker(uuid_check: Callable[[object], bool]) -> FormatChecker:
    checker = FormatChecker()  # date-time and the other formats jsonschema knows
    checker.checks("uuid")(uuid_check)
    return checker


class _Compiled:
    """Validators compiled once per schema object (Connexion hands the same dict each time)."""

    def __init__(self, cls: Any, format_checker: FormatChecker) -> None:
        self._cls = cls
        self._format_checker = format_checker
        self._by_schema: dict[int, tuple[Mapping[str, Any], Validator]] = {}

    def __call__(self, schema: Mapping[str, Any]) -> Validator:
        entry = self._by_schema.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = (schema, self._cls(schema, format_checker=self._format_checker))
            self._by_schema[id(schema)] = entry
        return entry[1]


class _GoStruct:
    """The Go struct a body schema describes, as the Go checks read it: read from the schema
    once (per operation), not on every request."""

    __slots__ = ("_go_type", "_required", "_strings", "_struct")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._go_type: str = schema.get("x-go-type", "struct")
        self._struct = self._go_type.rpartition(".")[2]
        # The string fields, each with whether it is a uuid.UUID.
        self._strings = tuple(
            (name, field.get("format") == "uuid")
            for name, field in schema.get("properties", {}).items()
            if field.get("type") == "string"
        )
        # The required fields, each with Coder's message when it is missing.
        self._required = tuple(
            (name, schema.get("x-coder-required-message", f"{name} is required"))
            for name in schema.get("required", ())
        )

    def fields(self, body: Any) -> dict[str, Any]:
        """Decode into the struct: a type error is the decoder's error."""
        if body is None:
            return {}  # Go decodes `null` into a struct as nothing at all
        if not isinstance(body, dict):
            raise InvalidJSONBody(
                f"json: cannot unmarshal {json_kind(body)} into Go value of type {self._go_type}"
            )
        for name, is_uuid in self._strings:
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise InvalidJSONBody(
                    f"json: cannot unmarshal {json_kind(value)} into Go struct field {self._struct}.{name} "
                    "of type " + ("uuid.UUID" if is_uuid else "string")
                )
            if is_uuid:
                try:
                    parse_uuid(value)
                except ValueError as error:
                    raise InvalidJSONBody(str(error)) from None
        return body

    def require(self, body: dict[str, Any]) -> None:
        """Coder's own field check: a required field missing, null or empty."""
        for name, message in self._required:
            if body.get(name) in (None, ""):
                raise MissingFields(message)


def _go_check_fields(body: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Decode into the Go struct the schema describes: a type error is the decoder's error."""
    return _GoStruct(schema).fields(body)


def _go_check_required(body: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Coder's own field check: a required field missing, null or empty."""
    _GoStruct(schema).require(body)


# Keys that describe a schema without checking anything.
_ANNOTATIONS = frozenset({"description", "example", "examples", "title"})


# What a string field's schema may check and the Go checks still cover (see _go_checks_cover_field).
_STRING_CHECKS = frozenset({"type", "format", "nullable", "minLength"})


def _annotation(key: str) -> bool:
    return key in _ANNOTATIONS or key.startswith("x-")


def _go_checks_cover_field(name: str, field: Any, required: frozenset[str]) -> bool:
    """Whether `_go_check_fields` and `_go_check_required` refuse every value the field's schema refuses."""
    if not isinstance(field, Mapping):
        return False
    if "type" not in field:
        return all(_annotation(key) for key in field)  # any JSON value, as json.RawMessage takes
    if not all(_annotation(key) or key in _STRING_CHECKS for key in field):
        return False
    if field["type"] != "string" or field.get("format") not in (None, "uuid"):
        return False  # only strings (a uuid.UUID among them) are checked the Go way
    min_length = field.get("minLength", 0)
    if not isinstance(min_length, int) or min_length > (1 if name in required else 0):
        return False  # the Go checks refuse no length but a required field's "" (as missing)
    # The schema refuses null unless nullable; the Go checks refuse it only as a required field.
    return field.get("nullable") is True or name in required


def go_checks_cover(schema: Mapping[str, Any]) -> bool:
    """Whether the Go checks (`_go_check_fields`, then `_go_check_required`) refuse every body the
    schema refuses, so that validating the body against it afterwards can never fail.

    Conservative: a keyword it does not know (a pattern, an enum, a maximum, `additionalProperties`,
    a number or an object field...) leaves the schema to jsonschema.
    """
    if schema.get("type") != "object":
        return False
    # `components`: Connexion puts the document's beside the schema, to resolve a `$ref` in it.
    if not all(_annotation(key) or key in ("type", "required", "properties", "components") for key in schema):
        return False
    required = frozenset(schema.get("required", ()))
    properties = schema.get("properties", {})
    return all(_go_checks_cover_field(name, field, required) for name, field in properties.items())


# A body larger than this is decoded on a worker thread: the decoding (and the nesting check)
# then shares the GIL with the event loop in slices, instead of holding up every other request.
DECODE_INLINE_BYTES = 64 * 1024


def validator_map(*, max_json_depth: int = MAX_NESTING) -> dict[str, Any]:
    """The validator_map for Connexion: compiled parameter validators, Coder-style body and response validators.

    Bodies nested deeper than `max_json_depth` are refused as Go's decoder refuses them.
    """
    request_validators = _Compiled(Draft4RequestValidator, _format_checker(_go_uuid))
    response_validators = _Compiled(Draft4ResponseValidator, _format_checker(_canonical_uuid))

    class CoderJSONBodyValidator(AbstractRequestBodyValidator):  # type: ignore[misc]
        """Reads the body as coderd's httpapi.Read does, then holds it to the document.

        Built once per operation (see _GoRequestValidationOperation). When the Go checks already
        refuse whatever the schema refuses (`go_checks_cover`: V1's two bodies), the schema's own
        check is left out: it could only pass, at ~10-17 µs a request.
        """

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._struct = _GoStruct(self._schema)
            self._document_check = None if go_checks_cover(self._schema) else request_validators(self._schema)

        def _checked(self, decoded: Any) -> dict[str, Any]:
            body = self._struct.fields(decoded)
            self._struct.require(body)
            if self._document_check is not None:
                try:
                    self._document_check.validate(body)
                except ValidationError as error:
                    raise InvalidJSONBody(error.message) from None
            return body

        async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
            # Decoded and checked in one step, on one thread (a worker's, for a long body).
            raw, body = await read_go_json_into(receive, self._checked, max_depth=max_json_depth)
            context_of(scope)[REQUEST_BODY] = body
            return replay(raw, receive), scope

    class CoderResponseBodyValidator(JSONResponseBodyValidator):  # type: ignore[misc]
        """Connexion's JSON response check, with a compiled validator and uuid checked."""

        @property
        def validator(self) -> Validator:
            return response_validators(self._schema)

    parameter_validators = _Compiled(Draft4Validator, draft4_format_checker)

    class CoderParameterValidator(ParameterValidator):  # type: ignore[misc]
        """Connexion's parameter check, with each parameter's validator compiled once."""

        @staticmethod
        def validate_parameter(
            parameter_type: str, value: Any, param: Mapping[str, Any], param_name: str | None = None
        ) -> str | None:
            if value is None or (is_nullable(param) and is_null(value)):
                return ParameterValidator.validate_parameter(parameter_type, value, param, param_name)  # type: ignore[no-any-return]
            try:
                parameter_validators(param.get("schema", param)).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None

    return {
        "parameter": CoderParameterValidator,
        "body": MediaTypeDict({"*/*json": CoderJSONBodyValidator}),
        "response": MediaTypeDict({"*/*json": CoderResponseBodyValidator}),
    }


# What a schema may hold beside `type` and `format` without adding a check.
_NOT_CHECKS = frozenset({"type", "format", "description", "example", "examples", "title", "nullable"})


def _cannot_fail(parameter: Mapping[str, Any]) -> bool:
    """Whether Connexion's check of a parameter passes every value: a path parameter (always a
    string) whose schema is `type: string` with no format the checker knows (`uuid` is not one
    of Draft 4's), nothing else that checks (pattern, enum, lengths)."""
    schema = parameter.get("schema", parameter)
    return (
        parameter.get("in") == "path"
        and schema.get("type") == "string"
        and schema.get("format") not in draft4_format_checker.checkers
        and all(key in _NOT_CHECKS or key.startswith("x-") for key in schema)
    )


class _GoRequestValidationOperation(RequestValidationOperation):  # type: ignore[misc]
    """Connexion's checks in Connexion's order, with the validators built once per operation.

    Connexion builds the URI parser, the parameter validator and the body validator on every
    request; they depend only on the operation, and the body's media type never depends on the
    request here (see `extract_content_type`), so they are built here, once. An operation whose
    every parameter passes any value (`_cannot_fail`, e.g. a `{chat}` that chat_param has
    already parsed the Go way) skips the parameter step: it would read the request to pass it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        operation = self._operation
        checked = self.strict_validation or not all(_cannot_fail(p) for p in operation.parameters)
        self._parameter_validator = (
            self._validator_map["parameter"](
                operation.parameters,
                uri_parser=operation._uri_parser_class(operation.parameters, operation.body_definition()),
                strict_validation=self.strict_validation,
                security_query_params=self.security_query_params,
            )
            if checked
            else None
        )
        self._body_validator = self._make_body_validator() if operation.consumes else None

    def _make_body_validator(self) -> AbstractRequestBodyValidator | None:
        mime_type, encoding = self.extract_content_type([])
        self.validate_mime_type(mime_type)
        schema = self._operation.body_schema(mime_type)
        validator_cls = self._validator_map["body"].get(mime_type) if schema else None
        if validator_cls is None:
            return None
        return validator_cls(
            schema=schema,
            required=self._operation.request_body.get("required", False),
            nullable=is_nullable(self._operation.body_definition(mime_type)),
            encoding=encoding,
            strict_validation=self.strict_validation,
            uri_parser=self._operation.uri_parser_class(
                self._operation.parameters, self._operation.body_definition()
            ),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._parameter_validator is not None:
            self._parameter_validator.validate(scope)
        if self._body_validator is not None:
            receive, scope = await self._body_validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)

    def extract_content_type(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, str]:
        # coderd's httpapi.Read never looks at Content-Type: any body is read as the operation's JSON.
        consumes = self._operation.consumes
        if consumes:
            return consumes[0], "utf-8"
        return super().extract_content_type(headers)  # type: ignore[no-any-return]


class _GoRequestValidationAPI(RequestValidationAPI):  # type: ignore[misc]
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        # Chained to the next layer's own step for the operation (edge/routed.py), so that a
        # checked request goes straight to it rather than through that layer's lookup.
        return _GoRequestValidationOperation(
            operation_app(self.next_app, self.base_path, operation.operation_id),
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class GoRequestValidationMiddleware(RequestValidationMiddleware):  # type: ignore[misc]
    """Connexion's request validation, but a body is JSON whatever its Content-Type (as in Go)."""

    api_cls = _GoRequestValidationAPI


async def read_go_json(receive: Receive, *, max_depth: int = MAX_NESTING) -> tuple[bytes, Any]:
    """The whole body and its JSON value, read as Go's json.Decoder reads it (InvalidJSONBody if not).

    Bodies nested deeper than `max_depth` are refused as Go's decoder refuses them.
    """
    return await read_go_json_into(receive, _as_decoded, max_depth=max_depth)


def _as_decoded(value: Any) -> Any:
    return value


async def read_go_json_into(
    receive: Receive,
    convert: Callable[[Any], _T],
    *,
    max_depth: int = MAX_NESTING,
    read_limit: int | None = None,
) -> tuple[bytes, _T]:
    """`read_go_json`, then `convert` of the JSON value on the same thread: a long body's value
    is made, read and (when `convert` refuses it, or keeps less) dropped off the event loop.

    `read_limit`: a body past that many bytes is refused as Go's `http.MaxBytesReader` under
    coderd's `httpapi.ReadLimit` refuses it (413), as soon as the count passes it (the server's
    own limit, `--max-body-bytes`, is held by `mockserver.edge.limits`).
    """
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        raw = message.get("body", b"")  # the whole body in one message: the common case
        if read_limit is not None and len(raw) > read_limit:
            raise _past_read_limit(read_limit)
    else:
        chunks: list[bytes] = []
        read = 0
        while message["type"] == "http.request":  # as _body_chunks_after, counted
            chunk = message.get("body", b"")
            read += len(chunk)
            if read_limit is not None and read > read_limit:
                raise _past_read_limit(read_limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
            message = await receive()
        raw = b"".join(chunks)

    if len(raw) <= DECODE_INLINE_BYTES:
        return raw, _decode_into(raw, convert, max_depth)
    return raw, await asyncio.to_thread(_decode_into, raw, convert, max_depth)


def _past_read_limit(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"Maximum request body size is {limit} bytes.")


def _decode_into(raw: bytes, convert: Callable[[Any], _T], max_depth: int) -> _T:
    try:
        value = decode_json(raw, max_depth=max_depth)
    except GoJSONError as error:
        raise InvalidJSONBody(str(error)) from None
    try:
        return convert(value)
    except Exception as error:
        refused = error
    # A refusal's traceback holds the frames that hold the value: freed with it on the event
    # loop, 125,000 parts would cost it ~0.2 s. Dropped here, on this thread, instead.
    del value
    raise refused.with_traceback(None)


async def body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The chunks of a request body, as ASGI delivers them."""
    async for chunk in _body_chunks_after(await receive(), receive):
        yield chunk


async def _body_chunks_after(message: Mapping[str, Any], receive: Receive) -> AsyncIterator[bytes]:
    """The chunks of a request body whose first message is `message`."""
    while message["type"] == "http.request":
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
        message = await receive()


def replay(raw: bytes, receive: Receive) -> Receive:
    """A receive that hands out the already-read body once more, then defers to `receive`."""
    return _Replayed(raw, receive).receive


class _Replayed:
    """`replay`'s receive: one object a request with a body (a closure is a function and a cell
    for each name it holds), whose method is the receive; most handlers never call it."""

    __slots__ = ("_raw", "_receive")

    def __init__(self, raw: bytes, receive: Receive) -> None:
        self._raw: bytes | None = raw  # None once handed out
        self._receive = receive

    async def receive(self) -> MutableMapping[str, Any]:
        raw = self._raw
        if raw is None:
            return await self._receive()
        self._raw = None
        return {"type": "http.request", "body": raw, "more_body": False}
