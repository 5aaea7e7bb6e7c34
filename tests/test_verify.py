"""verify passes correct servers (the mock and an independent one) and fails every planted bug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from contracts import ExitCode, FuzzBudget, Target, VerifyOptions, verify
from mockserver import DEMO_TOKENS
from mockserver.cli import main
from tests.http_server import serving
from tests.independent_server import TOKENS, build_app
from tests.planted_bugs import VARIANTS, Variant, correct_mock

ALICE, BOB = DEMO_TOKENS["alice"], DEMO_TOKENS["bob"]
SMALL = FuzzBudget(max_examples=10, stateful_examples=10, stateful_steps=6)


def _options(seed: int = 1, **extra: Any) -> VerifyOptions:
    return VerifyOptions(seed=seed, budget=SMALL, **extra)


def test_verify_passes_the_mock_in_process() -> None:
    report = verify(Target.asgi(correct_mock()), [ALICE, BOB], _options(expect_agent=1.0))

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    # Then cases really got past authentication, in the stateful phase too
    assert report.figures["successes"] > 10
    assert report.figures["stateful_calls"] > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_verify_passes_an_independent_implementation(seed: int) -> None:
    report = verify(
        Target.asgi(build_app()), [TOKENS["carol"], TOKENS["dave"]], _options(seed, expect_agent=1.0)
    )

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    assert report.figures["successes"] > 10


def _verify_cli(url: str, junit: Path) -> int:
    """`chats-mock verify` over a real socket, both demo tokens, a small budget, JUnit written."""
    return main(
        [
            "verify",
            "--base-url",
            url,
            "--token",
            ALICE,
            "--token",
            BOB,
            "--max-examples",
            "5",
            "--junit-xml",
            str(junit),
        ]
    )


def test_verify_passes_the_mock_over_http_and_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "verify.xml"
    with serving(correct_mock()) as url:
        # When verify runs as the CLI against a real socket
        code = _verify_cli(url, junit)

    assert code == 0
    suite = ElementTree.parse(junit).getroot()
    assert int(suite.get("tests", "0")) >= 20
    assert suite.get("failures") == "0"


def test_verify_over_http_names_the_rule_of_a_planted_bug(tmp_path: Path, capsys: Any) -> None:
    variant = next(v for v in VARIANTS if v.name == "other_users_chat_readable")
    junit = tmp_path / "verify.xml"
    with serving(variant.build()) as url:
        code = _verify_cli(url, junit)

    out = capsys.readouterr().out
    assert code == 1
    assert "RULE chats_are_private violated" in out
    assert '$TOKEN2"' in out  # the reproduction masks the token
    assert ALICE not in out and BOB not in out
    failed = [case for case in ElementTree.parse(junit).getroot() if case.find("failure") is not None]
    assert any("chats_are_private" in case.get("name", "") for case in failed)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_verify_fails_a_planted_bug_naming_its_rule(variant: Variant) -> None:
    report = verify(Target.asgi(variant.build()), [ALICE, BOB], _options(expect_agent=0.5))

    assert report.exit_code == ExitCode.VIOLATES, report.summary()
    assert set(report.violated_rules) & set(variant.rules), report.summary()


def test_agent_is_not_judged_without_expect_agent() -> None:
    stalling = next(v for v in VARIANTS if v.name == "agent_never_finishes")

    report = verify(Target.asgi(stalling.build()), [ALICE, BOB], _options())

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    assert any("--expect-agent" in note for note in report.notes)


def test_one_token_says_isolation_was_not_checked() -> None:
    report = verify(Target.asgi(correct_mock()), [ALICE], _options())

    assert report.exit_code == ExitCode.CONFORMS
    assert any("isolation was not checked" in note for note in report.notes)


def test_same_seed_gives_the_same_report() -> None:
    variant = next(v for v in VARIANTS if v.name == "error_body_renamed")

    first = verify(Target.asgi(variant.build()), [ALICE, BOB], _options(seed=5))
    second = verify(Target.asgi(variant.build()), [ALICE, BOB], _options(seed=5))

    assert [(v.rule, v.kind, v.operation, v.curl) for v in first.violations] == [
        (v.rule, v.kind, v.operation, v.curl) for v in second.violations
    ]


def test_unreachable_server_cannot_be_judged(capsys: Any) -> None:
    with serving(correct_mock()) as url:
        pass  # the server is gone: its port is closed

    code = main(["verify", "--base-url", url, "--token", ALICE])

    assert code == ExitCode.CANNOT_JUDGE
    assert capsys.readouterr().out.splitlines()[0].startswith("verify: cannot judge: the server at")


def test_rejected_token_cannot_be_judged(capsys: Any) -> None:
    with serving(correct_mock()) as url:
        code = main(
            ["verify", "--base-url", url, "--token", ALICE, "--token", "nobody0000-NoSuchSecretAtAll0000000"]
        )

    assert code == ExitCode.CANNOT_JUDGE
    assert (
        capsys.readouterr().out.splitlines()[0]
        == f"verify: cannot judge: token #2 was rejected (401) by {url}/api/v2"
    )


def test_bad_arguments_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "verify", "--token", ALICE],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "--base-url" in result.stderr
