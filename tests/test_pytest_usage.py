"""How a team runs the same suite inside its own pytest session (the README shows this file)."""

from __future__ import annotations

from contracts import FuzzBudget, Target, VerifyOptions, verify
from tests.http_server import serving
from tests.independent_server import TOKENS, build_app


def test_my_server_conforms_in_process() -> None:
    # In-process: hand verify the ASGI app itself.
    report = verify(
        Target.asgi(build_app()),
        [TOKENS["carol"], TOKENS["dave"]],
        VerifyOptions(seed=0, budget=FuzzBudget(max_examples=10, stateful_examples=10)),
    )

    assert report.ok, report.summary()


def test_my_server_conforms_over_http() -> None:
    # Over HTTP: point verify at the server's root URL (here one started for the test).
    with serving(build_app()) as url:
        report = verify(
            Target.url(url),
            [TOKENS["carol"], TOKENS["dave"]],
            VerifyOptions(seed=0, budget=FuzzBudget(max_examples=10, stateful_examples=10)),
        )

    assert report.ok, report.summary()
