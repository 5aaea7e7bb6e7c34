"""The ceiling: a bare Starlette app on serve's server stack, answering GET chat with stored JSON.

python bench/ceiling.py --port P --body FILE

What the mock could do at best on this machine, Python and server: the same uvicorn
configuration and request-head limits (`mockserver.serving.build_server`), the same allocator
(`serve` starts itself again on the C allocator; so does this), and one route that answers
`GET /api/v2/chats/{chat}` with the bytes of FILE (the mock's own answer to GET chat, taken in
the same run) whatever the chat: no authentication, no validation, no store, no encoding.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver.server.memory_return import c_allocator_environment


def main() -> int:
    """Serve the stored body until stopped."""
    environment = c_allocator_environment(os.environ)
    if environment is not None:  # as `serve` does, before the heavy imports
        os.execve(sys.executable, [sys.executable, *sys.argv], environment)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    args = parser.parse_args()

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from mockserver.core.stopping import Stopping
    from mockserver.edge.limits import Limits
    from mockserver.server.serving import bind, serve

    body = args.body.read_bytes()

    async def get_chat(request: Request) -> Response:
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/api/v2/chats/{chat}", get_chat)])
    serve(app, bind("127.0.0.1", args.port), limits=Limits(), stopping=Stopping())
    return 0


if __name__ == "__main__":
    sys.exit(main())
