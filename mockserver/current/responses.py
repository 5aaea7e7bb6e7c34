"""The two answers today's handlers send: Coder's JSON (Go's encoding), or no content."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mockserver.core.golang import encode_json
from mockserver.edge.coder_errors import CONTENT_TYPE

__all__ = ["JSONBody", "json_response", "no_content"]

_CONTENT_TYPE = (b"content-type", CONTENT_TYPE.encode("latin-1"))


class JSONBody(Response):
    """An answer of encoded JSON, its headers made at once: the ones Response.init_headers makes
    for `Response(content=body, status_code=status, media_type=CONTENT_TYPE)`, in its order."""

    media_type = CONTENT_TYPE

    def __init__(self, body: bytes, status_code: int = 200) -> None:  # a status that has a body
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _CONTENT_TYPE]


def json_response(status: int, body: Any) -> Response:
    """A JSON answer, encoded as Go's encoding/json would."""
    return JSONBody(encode_json(body), status)


def no_content() -> Response:
    """204, no body."""
    return Response(status_code=204)
