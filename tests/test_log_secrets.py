"""No session token in serve's output: log lines at every level, the banner, errors (issue 27)."""

from __future__ import annotations

import asyncio
import io
import logging
import signal
import sys

import httpx
import pytest
import websockets

from mockserver.command.cli import _print_banner
from mockserver.core.directory import DEMO_TOKENS, Directory
from mockserver.server.log_masking import SecretsFilter, mask_secrets
from tests.server_process import serve_process

CAROL = "carol00001-CarolPrivateSecret0000"
DAVE = "dave000001-DavePrivateSecret00000"
# A token no user has, shaped like one: a client's typo may still be a real token elsewhere.
STRANGER = "strange001-SomeoneElsesSecret0000"


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ('"GET /api/v2/chats?coder_session_token=' + CAROL + '&x=1 HTTP/1.1"', "carol00001-***"),
        ("< cookie: theme=dark; coder_session_token=" + CAROL, "coder_session_token=carol00001-***"),
        ("< authorization: Bearer " + CAROL, "Bearer carol00001-***"),
        ("< Coder-Session-Token: " + CAROL, "Coder-Session-Token: carol00001-***"),
        ("< coder-session-token: not-a-token-at-all", "coder-session-token: ***"),
        ("< cookie: session=opaque-value", "cookie: session=***"),
        ("< authorization: Basic dXNlcjpwYXNz", "Basic ***"),
        ("token " + STRANGER + " in an error", "strange001-***"),
    ],
    ids=["query", "cookie", "bearer", "header", "malformed", "other cookie", "basic", "token-shaped"],
)
def test_a_secret_in_a_line_shows_its_id_at_most(line: str, shown: str) -> None:
    masked = mask_secrets(line, [CAROL])
    assert shown in masked
    for secret in ("CarolPrivateSecret", "SomeoneElsesSecret", "not-a-token-at-all", "opaque-value", "dXNl"):
        assert secret not in masked


def test_an_error_with_a_token_in_its_traceback_is_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretsFilter([CAROL]))
    logger = logging.getLogger("tests.log_secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError(f"bad header {CAROL}")
    except ValueError:
        logger.exception("while reading %s", f"?coder_session_token={CAROL}")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output
    assert "CarolPrivateSecret" not in output
    assert output.count("carol00001-***") == 2


def test_the_banner_shows_the_demo_tokens_and_masks_the_others() -> None:
    demo, own = io.StringIO(), io.StringIO()
    _print_banner(demo, "127.0.0.1", 8080, Directory.from_tokens(DEMO_TOKENS))
    _print_banner(own, "127.0.0.1", 8080, Directory.from_tokens({"carol": CAROL}))
    # The demo users' tokens are public (the README prints them): shown whole
    assert DEMO_TOKENS["alice"] in demo.getvalue()
    assert DEMO_TOKENS["bob"] in demo.getvalue()
    # A --token user's is the operator's secret: its id only
    assert "user carol: Coder-Session-Token: carol00001-***" in own.getvalue()
    assert CAROL not in own.getvalue()


def test_a_debug_level_serve_prints_no_token_anywhere() -> None:
    argv = ("--api", "current", "--log-level", "debug", "--access-log", "--token", f"carol={CAROL}")
    with serve_process(*argv, "--token", f"dave={DAVE}") as (process, port):
        base = f"http://127.0.0.1:{port}/api/v2"

        async def scenario() -> None:
            async with httpx.AsyncClient(base_url=base) as http:
                # Every place coderd reads a token from (edge/auth.py), good and bad
                await http.get("/chats", headers={"Coder-Session-Token": CAROL})
                await http.get("/chats", headers={"Authorization": f"Bearer {DAVE}"})
                await http.get("/chats", headers={"Cookie": f"coder_session_token={CAROL}"})
                await http.get(f"/chats?coder_session_token={DAVE}")
                await http.get("/chats", headers={"Coder-Session-Token": STRANGER})
                created = await http.post(
                    "/chats",
                    headers={"Coder-Session-Token": CAROL},
                    json={"organization_id": "7c60d51f-b44e-4682-87d6-449835ea4de6", "content": CAROL},
                )
                assert created.status_code == 400  # a token in a body that is refused
            # A browser's WebSocket: the token in the query; and one with a cookie
            ws = f"ws://127.0.0.1:{port}/api/v2/chats/watch"
            async with websockets.connect(f"{ws}?coder_session_token={CAROL}") as socket:
                await asyncio.sleep(0.1)
                await socket.close()
            async with websockets.connect(ws, additional_headers={"Cookie": f"coder_session_token={DAVE}"}):
                pass
            with pytest.raises(websockets.InvalidStatus):
                async with websockets.connect(f"{ws}?coder_session_token={STRANGER}"):
                    pass

        asyncio.run(scenario())
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    output = stdout + stderr
    sys.stdout.write(output)  # shown by pytest when the test fails
    # Then the run logged each kind of line (so the grep below reads what matters)
    assert "coder_session_token=carol00001-***" in output  # WebSocket access line, debug dump
    assert "cookie: coder_session_token=dave000001-***" in output  # debug header dump
    assert "user carol: Coder-Session-Token: carol00001-***" in output  # the banner
    # And no secret appears anywhere
    for secret in (CAROL, DAVE, STRANGER, "PrivateSecret", "SomeoneElsesSecret"):
        assert secret not in output
