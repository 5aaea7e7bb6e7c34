"""verify passes correct servers and fails every planted bug, naming the rule it breaks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from contracts import ExitCode, FuzzBudget, Report, Target, VerifyOptions, verify
from contracts.v1.rules import V1_RULES
from mockserver import DEMO_TOKENS
from mockserver.command.cli import main
from tests.correct_variants import CORRECT_VARIANTS, CorrectVariant
from tests.http_server import serving
from tests.independent_server import TOKENS, build_app
from tests.planted_bugs import UNBREAKABLE_DOCUMENT_RULES, VARIANTS, Variant, correct_mock

ALICE, BOB = DEMO_TOKENS["alice"], DEMO_TOKENS["bob"]
SMALL = FuzzBudget(max_examples=10, stateful_examples=10, stateful_steps=6)
TINY = FuzzBudget(max_examples=4, stateful_examples=4, stateful_steps=4)
# The rules the Schemathesis phase judges; a planted bug breaking only these needs that phase.
DOCUMENT_RULES = frozenset(rule.name for rule in V1_RULES.sections[-1].rules)


def _options(seed: int = 1, **extra: Any) -> VerifyOptions:
    return VerifyOptions(**{"seed": seed, "budget": SMALL, "poll_every": 0.01, **extra})


def _planted(variant: Variant, **extra: Any) -> Report:
    """verify against a planted bug: the scenario checks alone unless only the document's rules see it."""
    fuzz = not set(variant.rules) - DOCUMENT_RULES
    return verify(
        Target.asgi(variant.build()), [ALICE, BOB], _options(expect_agent=0.3, schemathesis=fuzz, **extra)
    )


@pytest.mark.parametrize("variant", CORRECT_VARIANTS, ids=lambda v: v.name)
def test_verify_passes_a_correct_server(variant: CorrectVariant) -> None:
    # The mock gets the larger budget; the others differ from it in their answers' bytes and timing
    budget = SMALL if variant.name == "unmodified_mock" else TINY
    report = verify(
        Target.asgi(variant.build()), list(variant.tokens), _options(expect_agent=5.0, budget=budget)
    )

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    # Then cases really got past authentication, in the stateful phase too, and runs were judged
    assert report.figures["successes"] > 5
    assert report.figures["stateful_calls"] > 0
    assert {"run_starts_once_first", "tool_result_follows_its_call"} <= report.exercised


@pytest.mark.parametrize("seed", [0, 2])
def test_verify_passes_an_independent_implementation_with_other_seeds(seed: int) -> None:
    report = verify(Target.asgi(build_app()), [TOKENS["carol"], TOKENS["dave"]], _options(seed, budget=TINY))

    assert report.exit_code == ExitCode.CONFORMS, report.summary()


def test_a_slow_agent_is_waited_for_not_sampled() -> None:
    slow = next(v for v in CORRECT_VARIANTS if v.name == "slow_agent")
    app = slow.build()

    report = verify(Target.asgi(app), list(slow.tokens), _options(schemathesis=False, expect_agent=5.0))

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    # Then verify listed transcripts while runs were still writing, and judged them once finished
    assert app.listed_mid_run >= 10
    assert "step_ends_with_message_then_usage" in report.exercised


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_verify_fails_a_planted_bug_naming_its_rule(variant: Variant) -> None:
    report = _planted(variant)

    assert report.exit_code == ExitCode.VIOLATES, report.summary()
    assert set(report.violated_rules) & set(variant.rules), report.summary()


def test_every_rule_a_server_can_break_has_a_planted_bug() -> None:
    planted = {rule for variant in VARIANTS for rule in variant.rules}

    assert set(V1_RULES.names()) - UNBREAKABLE_DOCUMENT_RULES - planted == set()


def test_a_run_violation_names_its_rule_run_and_rows(tmp_path: Path) -> None:
    variant = next(v for v in VARIANTS if v.name == "tool_result_before_call")

    report = _planted(variant)

    out = report.summary()
    assert "RULE tool_result_follows_its_call (WIRE.md §4) violated" in out
    (violation,) = report.by_rule()["tool_result_follows_its_call"]
    assert violation.operation == "GET /chats/{chat}/messages"
    assert violation.subject.startswith("run ") and " of chat " in violation.subject
    assert any("[tool_result] tool_result step=0" in row for row in violation.evidence)
    assert f"    | {violation.evidence[0]}" in out
    # And JUnit carries the same evidence
    report.write_junit(tmp_path / "verify.xml")
    failures = [f.text or "" for f in ElementTree.parse(tmp_path / "verify.xml").iter("failure")]
    assert any(violation.evidence[0] in text and violation.subject in text for text in failures)


def test_a_run_that_never_finishes_says_how_long_verify_waited() -> None:
    variant = next(v for v in VARIANTS if v.name == "agent_never_finishes")

    report = _planted(variant)

    (violation, *_) = report.by_rule()["run_finishes_once_last"]
    assert violation.kind == "RunNeverFinished"
    assert "no run_finished within 0.3 s (--expect-agent)" in violation.message
    assert any("run_started" in row for row in violation.evidence)


def test_a_stalled_agent_is_waited_for_twice_at_most() -> None:
    # Given a virtual clock that verify's own sleeps move
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    variant = next(v for v in VARIANTS if v.name == "agent_never_finishes")

    report = verify(
        Target.asgi(variant.build()),
        [ALICE, BOB],
        _options(schemathesis=False, expect_agent=30.0, poll_every=1.0, sleep=sleep, clock=lambda: now[0]),
    )

    # Then the history check and the final judgement each waited once; no run was waited for twice
    assert 60.0 <= now[0] <= 62.0
    assert report.by_rule()["run_finishes_once_last"][0].kind == "RunNeverFinished"
    assert any("history was not judged" in note for note in report.notes)


def test_rules_never_exercised_are_counted_apart_not_passed() -> None:
    # The independent server serves no watch-ws and its agent never fails
    report = verify(Target.asgi(build_app()), [TOKENS["carol"], TOKENS["dave"]], _options(schemathesis=False))

    assert report.exit_code == ExitCode.CONFORMS
    assert {"watch_reads_every_token_source", "failed_run_ends_with_error", "use_after_free"} <= set(
        report.not_exercised
    )
    assert not {"watch_reads_every_token_source", "failed_run_ends_with_error"} & report.exercised
    total = len(V1_RULES.names())
    assert report.verdict() == (
        f"verify: the server conforms ({len(report.exercised)} of {total} rules exercised, "
        f"{total - len(report.exercised)} not exercised)"
    )
    assert "not exercised (" in report.summary()


def test_list_rules_prints_each_rule_with_its_section(capsys: Any) -> None:
    code = main(["verify", "--list-rules"])

    out = capsys.readouterr().out
    assert code == 0
    for section in V1_RULES.sections:
        assert f"{section.source}: {section.title}" in out
    assert "WIRE.md §4: Posting a message and the agent loop" in out
    assert all(f"  {name} " in out for name in V1_RULES.names())


def _as_the_shell_reads(command: str) -> list[str]:
    """The words bash makes of a reproduction line, with $TOKEN and $TOKEN2 set."""
    result = subprocess.run(
        ["bash", "-c", "printf '%s\\n' " + command.removeprefix("curl ")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TOKEN": ALICE, "TOKEN2": BOB},
    )
    return result.stdout.splitlines()


def test_every_reproduction_pastes_into_a_shell_and_names_its_operation() -> None:
    # A planted bug seen by both phases: the scenario checks and Schemathesis' reproductions
    variant = next(v for v in VARIANTS if v.name == "error_body_renamed")

    report = verify(Target.asgi(variant.build()), [ALICE, BOB], _options(budget=TINY))

    fuzzed = [v for v in report.violations if v.rule == "response_schema_conformance"]
    assert fuzzed and len(fuzzed) < len(report.violations)
    for violation in report.violations:
        assert violation.operation.split(" ")[0] in ("GET", "POST"), violation
        assert ALICE not in violation.curl and BOB not in violation.curl
        words = _as_the_shell_reads(violation.curl)
        tokens = [word for word in words if word.lower().startswith("coder-session-token:")]
        assert tokens and all(word.split(": ", 1)[1] in (ALICE, BOB) for word in tokens), words


def test_token_sources_are_reproduced_as_sent() -> None:
    variant = next(v for v in VARIANTS if v.name == "query_token_ignored")

    report = _planted(variant)

    (violation,) = report.by_rule()["every_token_source_is_read"]
    words = _as_the_shell_reads(violation.curl)
    assert any(word.endswith(f"?coder_session_token={ALICE}") for word in words), words


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
            "--expect-agent",
            "5",
            "--junit-xml",
            str(junit),
        ]
    )


def test_verify_passes_the_mock_over_http_and_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "verify.xml"
    with serving(correct_mock()) as url:
        # When verify runs as the CLI against a real socket (watch-ws over a real WebSocket too)
        code = _verify_cli(url, junit)

    assert code == 0
    suite = ElementTree.parse(junit).getroot()
    assert int(suite.get("tests", "0")) == len(V1_RULES.names())
    assert suite.get("failures") == "0"
    skipped = {case.get("classname") for case in suite if case.find("skipped") is not None}
    assert "contracts.watch_reads_every_token_source" not in skipped
    assert "contracts.use_after_free" in skipped


def test_verify_over_http_names_the_rule_of_a_planted_bug(tmp_path: Path, capsys: Any) -> None:
    variant = next(v for v in VARIANTS if v.name == "other_users_chat_readable")
    junit = tmp_path / "verify.xml"
    with serving(variant.build()) as url:
        code = _verify_cli(url, junit)

    out = capsys.readouterr().out
    assert code == 1
    assert "RULE chats_are_private (WIRE.md §2) violated" in out
    assert '$TOKEN2"' in out  # the reproduction masks the token
    assert ALICE not in out and BOB not in out
    failed = [case for case in ElementTree.parse(junit).getroot() if case.find("failure") is not None]
    assert any("chats_are_private" in case.get("name", "") for case in failed)


def test_watch_token_sources_over_a_real_websocket(capsys: Any) -> None:
    variant = next(v for v in VARIANTS if v.name == "watch_ignores_query_token")
    with serving(variant.build()) as url:
        report = verify(Target.url(url), [ALICE, BOB], _options(schemathesis=False, expect_agent=5.0))

    (violation,) = report.by_rule()["watch_reads_every_token_source"]
    assert violation.curl.startswith("websocat ")
    assert '?coder_session_token=$TOKEN"' in violation.curl


def test_one_token_says_isolation_was_not_checked() -> None:
    report = verify(Target.asgi(correct_mock()), [ALICE], _options(schemathesis=False))

    assert report.exit_code == ExitCode.CONFORMS
    assert any("isolation was not checked" in note for note in report.notes)
    assert "chats_are_private" in report.not_exercised


def test_same_seed_gives_the_same_report() -> None:
    variant = next(v for v in VARIANTS if v.name == "error_body_renamed")

    first = verify(Target.asgi(variant.build()), [ALICE, BOB], _options(seed=5, budget=TINY))
    second = verify(Target.asgi(variant.build()), [ALICE, BOB], _options(seed=5, budget=TINY))

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
