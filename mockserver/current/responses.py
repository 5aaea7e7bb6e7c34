"""The two answers today's handlers send: Coder's JSON (Go's encoding), or no content."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mockserver.core.golang import encode_json
from mockserver.edge.coder_errors import CONTENT_TYPE

__all__ = ["json_response", "no_content"]


def json_response(status: int, body: Any) -> Response:
    """A JSON answer, encoded as Go's encoding/json would."""
    return Response(content=encode_json(body), status_code=status, media_type=CONTENT_TYPE)


def no_content() -> Response:
    """204, no body."""
    return Response(status_code=204)
