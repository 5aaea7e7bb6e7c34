"""How a layer calls the next one: through its own `__call__`, found once."""

from __future__ import annotations

from types import FunctionType

from starlette.types import ASGIApp

__all__ = ["direct_call"]


def direct_call(app: ASGIApp) -> ASGIApp:
    """What calling `app` runs, to be called in its place: for an instance of a class whose
    `__call__` is a Python function, that method bound to it (calling the instance goes through
    its type's call slot, which looks `__call__` up and binds it again on every request); else
    `app` itself (a function, a bound method, anything else)."""
    if isinstance(app, FunctionType):
        return app
    for kind in type(app).__mro__:  # the `__call__` an instance's call finds
        call = kind.__dict__.get("__call__")
        if call is not None:
            if isinstance(call, FunctionType):
                bound: ASGIApp = call.__get__(app)
                return bound
            break
    return app
