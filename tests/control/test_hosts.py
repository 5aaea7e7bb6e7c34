"""The control plane answers only to loopback Host names (and the bound host): no DNS rebinding."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.command.cli import build_parser
from mockserver.control.hosts import HostAllowlist
from mockserver.control.options import control_settings
from tests.control.conftest import ALICE, app

LOOPBACK = HostAllowlist.loopback_and(["127.0.0.1"])


LOOPBACK_NAMES = ["localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST:1", "[::1]"]
OTHER_NAMES = ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "::1", "[::1"]


@pytest.fixture(scope="module")
def guarded() -> TestClient:
    return TestClient(app(control_hosts=LOOPBACK))


@pytest.mark.parametrize("host", LOOPBACK_NAMES)
def test_loopback_hosts_reach_the_control_plane(guarded: TestClient, host: str) -> None:
    assert guarded.get("/__mock/requests", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", OTHER_NAMES)
def test_other_hosts_are_403_before_anything_is_read(guarded: TestClient, host: str) -> None:
    response = guarded.get("/__mock/requests", headers={"host": host})
    assert response.status_code == 403
    assert response.json() == {
        "message": "Forbidden.",
        "detail": "The control plane answers only to localhost, 127.0.0.1, [::1] or --host.",
    }
    # the Coder API itself is not the control plane's to guard
    assert guarded.get("/api/v2/chats/x", headers={**ALICE, "host": host}).status_code == 400


def test_a_request_without_host_is_400() -> None:
    made = app(control_hosts=LOOPBACK)
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/__mock/requests",
            "headers": [],
            "query_string": b"",
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await made(scope, receive, send)

    asyncio.run(call())
    assert sent[0]["status"] == 400


def test_serve_allows_loopback_names_and_its_host_and_any_host_when_bound_to_all() -> None:
    parser = build_parser()
    on_loopback = control_settings(parser.parse_args(["serve", "--control"]))["control_hosts"]
    on_name = control_settings(parser.parse_args(["serve", "--control", "--host", "::1"]))["control_hosts"]
    on_all = control_settings(parser.parse_args(["serve", "--control-token", "t", "--host", "0.0.0.0"]))[
        "control_hosts"
    ]
    assert on_loopback.allows("127.0.0.1:8080") and not on_loopback.allows("evil.example")
    assert on_name.allows("[::1]:8080")
    assert on_all is None  # every name may reach it; the control token guards it
