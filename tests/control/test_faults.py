"""Fault rules: a Coder error, latency or a dropped connection for matching requests."""

from __future__ import annotations

import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver.control import ConnectionDropped, FaultRule, Faults
from mockserver.control.faults import FaultMiddleware
from mockserver.control.paths import PathPattern

from .conftest import ALICE, NEW_CHAT, app, served


def test_a_rule_makes_the_next_two_posts_503_then_service_resumes(client: TestClient) -> None:
    chat = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).json()["id"]
    added = client.post(
        "/__mock/faults",
        json={"method": "POST", "path": "/chats/{chat}/messages", "status": 503, "times": 2},
    )
    assert added.status_code == 201

    # When the client posts three messages (and reads the chat in between)
    answers = []
    for text in ("one", "two", "three"):
        answers.append(client.post(f"/api/v2/chats/{chat}/messages", json={"content": text}, headers=ALICE))
        assert client.get(f"/api/v2/chats/{chat}", headers=ALICE).status_code == 200

    # Then the first two are 503 with a Coder error body, the third is served
    assert [answer.status_code for answer in answers] == [503, 503, 201]
    assert answers[0].headers["content-type"] == "application/json; charset=utf-8"
    assert answers[0].json() == {
        "message": "Service Unavailable.",
        "detail": "Injected by the mock's fault rule 1.",
    }
    [rule] = client.get("/__mock/faults").json()["faults"]
    assert (rule["matched"], rule["fired"], rule["remaining"]) == (2, 2, 0)
    # And the journal says which requests the rule answered
    statuses = client.get("/__mock/requests", params={"method": "POST", "path": "/chats/*/messages"})
    assert [(e["status"], e["faults"]) for e in statuses.json()["requests"]] == [
        (503, [1]),
        (503, [1]),
        (201, []),
    ]


def test_a_rule_with_its_own_message_and_detail(client: TestClient) -> None:
    client.post(
        "/__mock/faults",
        json={"path": "/chats", "status": 429, "message": "Slow down.", "detail": ""},
    )
    answer = client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE)
    assert (answer.status_code, answer.json()) == (429, {"message": "Slow down."})


def test_rules_are_listed_removed_and_cleared(client: TestClient) -> None:
    client.post("/__mock/faults", json={"latency_ms": 5})
    client.post("/__mock/faults", json={"method": "GET", "drop": True, "probability": 0.5})

    assert [rule["id"] for rule in client.get("/__mock/faults").json()["faults"]] == [1, 2]
    assert client.delete("/__mock/faults/1").status_code == 204
    assert client.delete("/__mock/faults/1").status_code == 404
    assert [rule["id"] for rule in client.get("/__mock/faults").json()["faults"]] == [2]
    assert client.delete("/__mock/faults").status_code == 204
    assert client.get("/__mock/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    "rule",
    [
        {"method": "GET"},  # no action
        {"status": 200},  # not an error
        {"status": 503, "drop": True},  # two endings
        {"latency_ms": -1},
        {"latency_ms": 1, "times": 0},
        {"latency_ms": 1, "probability": 2},
        {"latency_ms": 1, "colour": "red"},
    ],
)
def test_a_rule_that_cannot_act_is_400(client: TestClient, rule: dict[str, object]) -> None:
    answer = client.post("/__mock/faults", json=rule)
    assert answer.status_code == 400
    assert set(answer.json()) <= {"message", "detail"}


def test_the_control_plane_is_never_faulted(client: TestClient) -> None:
    client.post("/__mock/faults", json={"path": "/api/**", "status": 500})
    client.post("/__mock/faults", json={"status": 500})
    assert client.get("/__mock/faults").status_code == 200


def _tiny_app(faults: Faults, slept: list[float]) -> FaultMiddleware:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    inner = Starlette(
        routes=[Route("/api/v2/chats", lambda _: PlainTextResponse("ok"), methods=["GET", "POST"])]
    )
    return FaultMiddleware(inner, faults=faults, sleep=sleep)


def test_a_latency_rule_delays_matching_requests_by_the_amount_given() -> None:
    slept: list[float] = []
    faults = Faults([FaultRule(method="GET", path=PathPattern("/chats"), latency_ms=250)])
    client = TestClient(_tiny_app(faults, slept))

    assert client.get("/api/v2/chats").text == "ok"
    assert client.post("/api/v2/chats").text == "ok"

    assert slept == [0.25]


def test_latencies_of_all_firing_rules_add_up_before_an_error() -> None:
    slept: list[float] = []
    faults = Faults([FaultRule(latency_ms=100), FaultRule(status=502), FaultRule(latency_ms=7)])
    client = TestClient(_tiny_app(faults, slept))

    assert client.get("/api/v2/chats").status_code == 502
    assert slept == [0.1]


def test_probability_draws_repeat_with_the_same_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = Faults([FaultRule(status=503, probability=0.5)], seed=seed)
        return [faults.decide("GET", "/api/v2/chats").status is not None for _ in range(40)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert 5 < sum(pattern(7)) < 35


def test_reset_restarts_the_draws_and_the_counts() -> None:
    faults = Faults([FaultRule(status=503, probability=0.5, times=3)], seed=3)
    first = [faults.decide("GET", "/api/v2/x").status is not None for _ in range(10)]
    faults.reset()
    assert [faults.decide("GET", "/api/v2/x").status is not None for _ in range(10)] == first


def test_a_drop_rule_raises_in_process(client: TestClient) -> None:
    client.post("/__mock/faults", json={"path": "/chats", "drop": True, "times": 1})
    with pytest.raises(ConnectionDropped):
        client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE)
    assert client.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).status_code == 201


def test_a_drop_rule_closes_a_real_connection_without_an_answer() -> None:
    with served(app()) as base, httpx.Client(base_url=base) as http:
        http.post("/__mock/faults", json={"method": "POST", "path": "/chats", "drop": True, "times": 1})

        # When
        with pytest.raises(
            (httpx.RemoteProtocolError, httpx.ReadError)
        ):  # a close or a reset: no answer either way
            http.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE)

        # Then the next request is served, and the journal shows the drop
        assert http.post("/api/v2/chats", json=NEW_CHAT, headers=ALICE).status_code == 201
        entries = http.get("/__mock/requests").json()["requests"]
        assert [(e["status"], e["faults"]) for e in entries] == [(None, [1]), (201, [])]


def test_start_up_latency_delays_a_real_request_at_least_that_long() -> None:
    # A lower bound only: the delay is asserted, never how fast the rest is.
    with (
        served(app(faults=(FaultRule(latency_ms=150),))) as base,
        httpx.Client(base_url=base) as http,
    ):
        started = time.perf_counter()
        answer = http.get("/api/v2/chats/nope", headers=ALICE)
        elapsed = time.perf_counter() - started
    assert answer.status_code == 400
    assert elapsed >= 0.15
