"""verify --api current passes correct servers of today's API and fails every planted bug, naming its rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from contracts import ExitCode, FuzzBudget, Report, Target, VerifyOptions, verify
from contracts.current.rules import CURRENT_RULES, DOCUMENT_RULES
from contracts.runner import suite_named
from mockserver import ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.command.cli import main
from mockserver.core.directory import DEFAULT_ORGANIZATION_ID
from tests.app_settings import app_settings
from tests.current_correct_variants import CORRECT_VARIANTS, CorrectVariant
from tests.current_planted_bugs import (
    TOKENS,
    UNBREAKABLE_DOCUMENT_RULES,
    VARIANTS,
    Variant,
    current_mock,
    rewrite_requests,
)
from tests.http_server import serving

SUITE = suite_named("current")
ALICE, BOB = TOKENS
TINY = FuzzBudget(max_examples=3, stateful_examples=3, stateful_steps=4)
DOCUMENT = frozenset(rule.name for rule in DOCUMENT_RULES.rules)
WIRE_RULES = frozenset(CURRENT_RULES.names()) - DOCUMENT
# The check that finds the organization (and its models) the Schemathesis phase creates chats in.
FINDS_THE_ORGANIZATION = frozenset({"create_refusals_are_coders"})


class VirtualTime:
    """verify's clock, moved only by its own sleeps: waits are counted in polls, not real seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _verify(app: Any, tokens: tuple[str, ...] = TOKENS, **options: Any) -> Report:
    time = VirtualTime()
    settings: dict[str, Any] = {
        "seed": 1,
        "budget": TINY,
        "poll_every": 0.1,  # virtual: a poll pushes the mock's clock PUSH seconds, verify's 0.1
        "expect_agent": 60.0,
        "sleep": time.sleep,
        "clock": time.clock,
        # In process, a read with no frame queued waits on the mock's own event loop: 2 ms, not
        # the default 20 ms, of real time per poll (hundreds of polls per run).
        "read_slice": 0.002,
        **options,
    }
    return verify(Target.asgi(app), list(tokens), VerifyOptions(api="current", **settings))


# A run with the Schemathesis phase fuzzes every operation of both documents (~15 s of CPU, most
# of it Hypothesis drawing cases): `make test` keeps one such proof of each kind, the unmodified
# mock (and one tolerant re-encoding) passing and one planted bug that only the phase finds
# named; the others are `slow` and run under `make test-slow` (CI runs both targets).
FAST_FUZZED_CORRECT = frozenset({"unmodified_mock", "one_event_per_frame"})
FAST_FUZZED_PLANTED = frozenset({"create_answers_200"})


def _fuzzed(variant: Variant) -> bool:
    """Whether only the Schemathesis phase finds the variant's bug (so its run fuzzes)."""
    return not set(variant.rules) - DOCUMENT


def _slow_unless(fast: frozenset[str], variants: Sequence[Any], fuzzed: Callable[[Any], bool]) -> list[Any]:
    """The variants as parameters: those whose runs fuzz, unless named in `fast`, marked slow."""
    return [
        pytest.param(v, id=v.name, marks=() if v.name in fast or not fuzzed(v) else pytest.mark.slow)
        for v in variants
    ]


def _planted(variant: Variant) -> Report:
    """A reduced verify: the checks of the variant's rules alone (the Schemathesis phase when only it sees them)."""
    fuzz = _fuzzed(variant)
    return _verify(
        variant.build(),
        expect_agent=10.0,
        schemathesis=fuzz,
        only=FINDS_THE_ORGANIZATION if fuzz else frozenset(variant.rules),
    )


# The slow agent is judged without the Schemathesis phase (below): what it changes is timing.
FUZZED_CORRECT_VARIANTS = tuple(v for v in CORRECT_VARIANTS if v.name != "slow_agent")


@pytest.mark.parametrize(
    "variant", _slow_unless(FAST_FUZZED_CORRECT, FUZZED_CORRECT_VARIANTS, lambda v: True)
)
def test_verify_current_passes_a_correct_server(variant: CorrectVariant) -> None:
    report = _verify(variant.build(), variant.tokens)

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    # Then every rule of WIRE.md was exercised (busy chats seen, runs ended), and generated
    # requests got past authentication
    assert report.exercised >= WIRE_RULES, report.summary()
    assert report.figures["successes"] > 3


def test_a_slow_agent_is_waited_for_and_seen_busy() -> None:
    app = next(v for v in CORRECT_VARIANTS if v.name == "slow_agent").build()

    report = _verify(app, schemathesis=False)

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    assert app.busy_answers >= 100  # verify polled while runs were still writing
    assert report.exercised == WIRE_RULES


def test_an_agent_faster_than_verify_leaves_the_busy_rules_not_exercised() -> None:
    # Given a server whose runs end before its answer to the post that started them
    fast = create_app(
        app_settings(api="current", validate_responses=False, swagger_ui=False),
        clock=SteppingClock(),
        new_id=seeded_uuids(5),
        scheduler=ImmediateScheduler(),
    )

    report = _verify(fast, schemathesis=False)

    # Then it conforms: being fast is no violation; the rules that need a busy chat say why
    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    busy = {"queue_holds_messages_sent_while_busy", "promoted_message_runs_next", "interrupt_stops_the_run"}
    assert busy <= set(report.not_exercised)
    assert any("the agent ignored `scenario: slow`" in note for note in report.notes)


def _declared_tools_dropped(method: str, route: str, query: str, body: Any) -> tuple[str, Any]:
    if (method, route) == ("POST", "/chats") and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "unsafe_dynamic_tools"}
    return query, body


def test_a_server_that_ignores_declared_tools_leaves_the_client_tool_rules_not_exercised() -> None:
    # Given a server whose agent runs every tool itself (the chat's unsafe_dynamic_tools dropped)
    app = rewrite_requests(current_mock(), _declared_tools_dropped)

    rules = frozenset({"client_tool_waits_for_its_result", "watch_tells_action_required"})

    report = _verify(app, schemathesis=False, only=rules)

    # Then it conforms: no run reached requires_action, and the notes say why the rules were not judged
    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    assert rules <= set(report.not_exercised)
    assert any("requires_action was not exercised" in note for note in report.notes)
    assert any("action_required was not exercised" in note for note in report.notes)


@pytest.mark.parametrize("variant", _slow_unless(FAST_FUZZED_PLANTED, VARIANTS, _fuzzed))
def test_verify_current_fails_a_planted_bug_naming_its_rule(variant: Variant) -> None:
    report = _planted(variant)

    assert report.exit_code == ExitCode.VIOLATES, report.summary()
    assert set(report.violated_rules) & set(variant.rules), report.summary()


def test_every_current_rule_a_server_can_break_has_a_planted_bug() -> None:
    planted = {rule for variant in VARIANTS for rule in variant.rules}

    assert WIRE_RULES - planted == set()
    assert DOCUMENT - UNBREAKABLE_DOCUMENT_RULES - planted == set()


def test_every_scenario_rule_is_in_the_current_book_with_a_section() -> None:
    names = CURRENT_RULES.names()

    assert len(names) == len(set(names))
    assert {rule for scenario in SUITE.scenarios for rule in scenario.rules} == WIRE_RULES
    assert all(CURRENT_RULES.source_of(name) for name in names)


def test_a_violation_names_its_rule_section_and_chat() -> None:
    variant = next(v for v in VARIANTS if v.name == "never_waits")

    report = _planted(variant)

    out = report.summary()
    assert "RULE run_ends_waiting_or_error (WIRE.md §4) violated" in out
    violation = report.by_rule()["run_ends_waiting_or_error"][0]
    assert violation.kind == "RunNeverEnded"
    assert violation.subject.startswith("chat ")
    assert "after 10 s (--expect-agent); statuses seen: running" in violation.message
    assert ALICE not in violation.curl and "$TOKEN" in violation.curl


def test_summary_counts_the_rules_exercised() -> None:
    report = _verify(current_mock(), schemathesis=False)

    total = len(CURRENT_RULES.names())
    assert report.verdict() == (
        f"verify: the server conforms ({len(report.exercised)} of {total} rules exercised, "
        f"{total - len(report.exercised)} not exercised)"
    )
    assert report.exercised == WIRE_RULES
    assert any("Schemathesis phase was not run" in note for note in report.notes)


def test_list_rules_of_the_current_api_names_each_wire_section(capsys: Any) -> None:
    code = main(["verify", "--api", "current", "--list-rules"])

    out = capsys.readouterr().out
    assert code == 0
    for section in CURRENT_RULES.sections:
        assert f"{section.source}: {section.title}" in out
    assert all(f"  {name} " in out for name in CURRENT_RULES.names())
    assert "WIRE.md §4: The status machine" in out


@pytest.fixture(scope="module")
def served_mock() -> Iterator[str]:
    """One current-API mock over a real socket, shared by the CLI cases.

    verify's waits are real here (0.1 s between polls): each request pushes the mock's clock a
    whole second, so that a `slow` run ends after a few of them.
    """
    with serving(current_mock(step=1.0)) as url:
        yield url


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
            # One check at a time: each request pushes the mock's one virtual clock.
            "--jobs",
            "1",
            *extra,
        ]
    )


def test_verify_current_over_http_passes_the_mock_and_writes_junit(
    served_mock: str, tmp_path: Path, capsys: Any
) -> None:
    junit = tmp_path / "verify.xml"

    code = _cli(served_mock, "--max-examples", "2", "--junit-xml", str(junit))

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("verify: the server conforms (")
    suite = ElementTree.parse(junit).getroot()
    assert int(suite.get("tests", "0")) == len(CURRENT_RULES.names())
    assert suite.get("failures") == "0"
    names = {case.get("name", "") for case in suite}
    assert "edit_truncates_what_follows (WIRE.md §5)" in names


def test_a_named_organization_is_used_and_one_token_skips_isolation() -> None:
    report = _verify(current_mock(), (ALICE,), schemathesis=False, organization=str(DEFAULT_ORGANIZATION_ID))

    assert report.exit_code == ExitCode.CONFORMS, report.summary()
    assert "chats_are_private" in report.not_exercised
    assert any("isolation was not checked" in note for note in report.notes)


class _NoWebSockets:
    """The mock with its WebSockets closed before the handshake completes (a REST-only server)."""

    def __init__(self) -> None:
        self._app = current_mock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        await self._app(scope, receive, send)


def test_a_server_without_the_websockets_violates_their_rules_without_a_crash() -> None:
    report = _verify(_NoWebSockets(), schemathesis=False)

    assert report.exit_code == ExitCode.VIOLATES
    assert {
        "stream_snapshot_comes_first",
        "stream_refuses_like_coder",
        "watch_reports_the_callers_chats",
    } <= set(report.violated_rules), report.summary()
    # (the client-tool rule of §5 reads its action_required on the stream too, the interrupt its
    # effect, the shapes a run's parts, and the token rules both handshakes)
    assert not set(report.violated_rules) - {
        "client_tool_waits_for_its_result",
        "interrupt_stops_the_run",
        "answers_fit_the_document",
        "websockets_read_every_token_source",
        "both_prefixes_open_the_websockets",
        *(rule.name for section in CURRENT_RULES.sections[-3:-1] for rule in section.rules),
    }
