"""The last step of the middleware list: call an operation's handler with its arguments from the context.

Connexion's own last step re-decorates the handler on every request (its `AsyncOperation.fn`
inspects the signature and copies parameter definitions each time) to offer path, query and
body parameters by name. The mock's handlers take only what earlier middlewares put in the
Connexion context (`user` from auth, `chat` from chat_param, `request_body` from validation),
so each handler's argument names are read once, at start-up, and every request stays
authenticated and validated before it gets here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl

from connexion.middleware.abstract import RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.edge.auth import context_of
from mockserver.edge.routed import routed_middleware
from mockserver.edge.validation import REQUEST_BODY

__all__ = ["handler_middleware"]


# What the mock's own layers put in the context: `user` (auth), `chat` (chat_param), the body.
_CONTEXT_ARGUMENTS = frozenset({"user", "chat", REQUEST_BODY})
# What a handler may read raw from the request, to refuse it in Coder's words itself: the
# path parameters as sent, the query as Go's url.Values (every value of every name), the
# headers (lower-cased names, latin-1 values), and a body no validator reads (a file's bytes).
# (`body` stays the control plane's: its handlers take the parsed JSON by that name.)
_RAW_ARGUMENTS = frozenset({"path", "query", "request_headers", "raw_body"})
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _raw(scope: Scope, name: str) -> Any:
    if name == "request_headers":
        return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
    if name == "path":
        return dict(scope.get("path_params", {}))
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return query


async def _body(receive: Receive) -> bytes:
    """The whole body, as the edge's limits let it through (413 past `--max-body`)."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _values_of(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values of `names` in a mapping, in their order: one C call a request (a dict built by
    a comprehension for keyword arguments costs about three times as much)."""
    if len(names) > 1:
        return itemgetter(*names)
    return lambda context: tuple(context[name] for name in names)


def _call_handler(operation: AbstractOperation, next_app: ASGIApp) -> ASGIApp:
    handler = operation.function
    parameters = inspect.signature(handler).parameters
    names = tuple(parameters)
    if not set(names) <= _CONTEXT_ARGUMENTS | _RAW_ARGUMENTS:
        # A handler that wants query, path or body parameters by name (the control plane's) is
        # called by Connexion's own machinery, which extracts them.
        return next_app

    if set(names) <= _CONTEXT_ARGUMENTS and all(p.kind in _POSITIONAL for p in parameters.values()):
        # The common case: everything from the context, handed over in the handler's order.
        arguments = _values_of(names)

        async def call_from_context(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(*arguments(context_of(scope)))
            await response(scope, receive, send)

        return call_from_context

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        context = context_of(scope)
        arguments = {
            name: context[name] if name not in _RAW_ARGUMENTS else _raw(scope, name)
            for name in names
            if name != "raw_body"
        }
        if "raw_body" in names:
            arguments["raw_body"] = await _body(receive)
        response = await handler(**arguments)
        await response(scope, receive, send)

    return call


def handler_middleware() -> type[RoutedMiddleware[Any]]:
    """The innermost middleware: answers each operation with its handler's Response."""
    return routed_middleware(_call_handler)
