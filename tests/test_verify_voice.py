"""verify says what it is doing, runs a part on request, and tells a server of the other generation at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import ExitCode, Target, VerifyOptions, verify
from mockserver import DEMO_TOKENS
from mockserver.command.cli import main
from tests.current_planted_bugs import current_mock
from tests.http_server import serving
from tests.planted_bugs import correct_mock

ALICE, BOB = DEMO_TOKENS["alice"], DEMO_TOKENS["bob"]


@pytest.mark.parametrize(
    ("api", "build", "hint"),
    [("current", correct_mock, "try --api v1"), ("v1", current_mock, "try --api current")],
    ids=["v1 server judged as current", "current server judged as v1"],
)
def test_a_server_of_the_other_generation_is_named_with_the_api_that_judges_it(
    api: str, build: Any, hint: str
) -> None:
    report = verify(Target.asgi(build()), [ALICE], VerifyOptions(api=api))

    # Then no check ran: one line says what the server is, and which --api judges it
    assert report.exit_code == ExitCode.CANNOT_JUDGE
    assert report.cannot_judge is not None and report.cannot_judge.endswith(hint)
    assert report.violations == [] and report.figures == {}


async def _not_coder(scope: Any, receive: Any, send: Any) -> None:
    """A web server that answers every request 200 with a page."""
    while scope["type"] == "lifespan":
        message = await receive()
        await send({"type": f"{message['type']}.complete"})
        if message["type"] == "lifespan.shutdown":
            return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"<html>hello</html>"})


def test_a_server_that_is_no_coder_chats_api_cannot_be_judged() -> None:
    report = verify(Target.asgi(_not_coder), [ALICE], VerifyOptions(api="current"))

    assert report.exit_code == ExitCode.CANNOT_JUDGE
    assert report.cannot_judge is not None and report.cannot_judge.startswith("not a Coder Chats API at ")


def _cli(url: str, *extra: str) -> int:
    return main(
        [
            "verify",
            "--api",
            "current",
            "--base-url",
            url,
            "--token",
            ALICE,
            "--token",
            BOB,
            "--expect-agent",
            "5",
            *list(extra),
        ]
    )


def test_progress_names_each_check_on_stderr_and_quiet_silences_it(capsys: Any) -> None:
    with serving(current_mock(step=1.0)) as url:
        code = _cli(url, "--only", "tokens_are_required,every_token_source_is_read")
        loud = capsys.readouterr()
        quiet_code = _cli(url, "--only", "tokens_are_required", "--quiet")
        quiet = capsys.readouterr()

    assert code == quiet_code == ExitCode.CONFORMS, loud.out
    # Then stderr says the phase, each check with its count and outcome; stdout holds the summary
    lines = loud.err.splitlines()
    assert lines[0].startswith("verify: 2 scenario checks of ")
    assert any(line.startswith("  [1/2] ") and line.endswith(" s)") for line in lines)
    assert any(line.startswith("  [2/2] ") and ": ok (" in line for line in lines)
    assert loud.out.startswith("verify: the server conforms (")
    assert quiet.err == ""


def test_only_and_skip_choose_phases_and_rules(capsys: Any) -> None:
    with serving(current_mock(step=1.0)) as url:
        code = _cli(url, "--only", "scenarios", "--skip", "scenarios", "--quiet")
        nothing = capsys.readouterr().out
        bad = _cli(url, "--only", "no_such_rule", "--quiet")
        refusal = capsys.readouterr().err

    # --only scenarios --skip scenarios leaves no check and no Schemathesis phase: nothing exercised
    assert code == ExitCode.CONFORMS
    assert "(0 of " in nothing and "Schemathesis phase was not run" in nothing
    assert bad == ExitCode.CANNOT_JUDGE
    assert "no phase or rule no_such_rule" in refusal


def test_the_figures_count_what_was_judged() -> None:
    report = verify(
        Target.asgi(current_mock()),
        [ALICE, BOB],
        VerifyOptions(
            api="current",
            schemathesis=False,
            only=frozenset({"run_ends_waiting_or_error", "stream_status_ends_waiting_or_error"}),
            read_slice=0.002,
        ),
    )

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    figures = report.figures
    assert figures["runs_judged"] >= 4
    assert figures["stream_events_read"] > 0
    assert figures["payloads_judged"] > figures["stream_events_read"]
    assert json.dumps(figures)  # plain numbers, for a CI dashboard
