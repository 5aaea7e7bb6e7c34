"""Scenario files: the loader's refusals, the built-in library and the selection rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.core.scenarios import (
    ErrorCode,
    Fail,
    Finish,
    FinishReason,
    Retry,
    ScenarioError,
    ScenarioLibrary,
    Text,
    ToolCall,
    load_scenario,
)

BUILTIN = (
    "echo",
    "tool-use",
    "parallel-tools",
    "reasoning",
    "slow",
    "upstream-error",
    "length",
    "client-tool",
    "retry",
)


def test_builtin_library_has_the_documented_scenarios() -> None:
    library = ScenarioLibrary.builtin()
    assert set(BUILTIN) <= set(library.names)


def test_a_full_scenario_loads_into_steps() -> None:
    text = (
        "description: d\n"
        "match:\n  - text: hi\n  - regex: '^/x'\n  - metadata: {mode: x}\n"
        "steps:\n"
        "  - text: [a, b]\n    every: 0.5\n"
        "  - tool_call: {name: t, args: {p: 1}, error: boom, delay: 1}\n"
        "  - fail: {code: stream_error, message: broke}\n"
    )
    scenario = load_scenario(text, source="x.yaml", name="x")
    assert scenario.steps == (
        Text(("a", "b"), 0.5),
        ToolCall(name="t", args={"p": 1}, error="boom", delay=1.0),
        Fail(ErrorCode.STREAM_ERROR, "broke"),
    )
    assert scenario.duration == 2.0
    assert [rule.matches("hi", {}) for rule in scenario.rules] == [True, False, False]
    assert scenario.rules[2].matches("", {"mode": "x"})


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("steps:\n  - text: hi\n  - finish: nope\n", 3, "finish must be one of: stop, length"),
        ("steps:\n  - text: hi\n  - sing: la\n", 3, "a step has exactly one of"),
        ("steps:\n  - text: hi\n    finish: stop\n", 2, "exactly one of"),
        ("steps:\n  - finish: stop\n  - text: late\n", 3, "nothing may follow"),
        ("steps:\n  - delay: -1\n", 2, "delay must be a number of seconds >= 0"),
        ("steps:\n  - tool_call: {args: {}}\n", 2, "tool_call needs `name`"),
        ("match:\n  - regex: '('\nsteps:\n  - text: x\n", 2, "does not compile"),
        ("steps:\n  - fail: {code: oops, message: m}\n", 2, "code must be one of: llm_init_failed"),
        ("stepz: []\n", 1, "unknown key 'stepz'"),
        ("steps: [\n", 2, "not valid YAML"),
        ("steps:\n  - usage: {prompt_tokens: many}\n", 2, "prompt_tokens must be an integer"),
        (
            "steps:\n  - tool_call: {name: t, client: true, result: 1}\n",
            2,
            "a client tool_call has no result",
        ),
        ("steps:\n  - tool_call: {name: t, client: yes please}\n", 2, "client must be true or false"),
        ("steps:\n  - retry: {delay: 1}\n", 2, "retry needs `message`"),
        ("steps:\n  - retry: {message: m, kind: auth}\n", 2, "kind must be one of: generic, overloaded"),
        ("steps:\n  - retry: {message: m, delay: -2}\n", 2, "delay must be a number of seconds >= 0"),
        ("steps:\n  - retry: {message: m, status: 529}\n", 2, "unknown key 'status' in retry"),
        (
            "steps:\n  - fail: {code: upstream_error, message: m, kind: sad}\n",
            2,
            "kind must be one of: generic",
        ),
    ],
)
def test_a_malformed_scenario_names_file_line_and_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(text, source="bad.yaml", name="bad")
    assert (caught.value.file, caught.value.line) == ("bad.yaml", line)
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"bad.yaml:{line}: ")


def test_a_directory_overrides_builtins_and_its_rules_come_first(tmp_path: Path) -> None:
    (tmp_path / "echo.yaml").write_text("steps:\n  - text: 'Custom: {text}'\n")
    (tmp_path / "greet.yml").write_text("match:\n  - regex: '^hello'\nsteps:\n  - text: hi\n")
    # When
    library = ScenarioLibrary.builtin().with_directory(tmp_path)
    # Then
    assert library["echo"].steps == (Text(("Custom: {text}",)),)
    assert library.select("hello there", {}).name == "greet"
    assert library.select("/tool-use hello", {}).name == "tool-use"


def test_a_malformed_file_in_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("steps:\n  - text: fine\n")
    (tmp_path / "broken.yaml").write_text("steps:\n  - text: fine\n  - usage: 3\n")
    with pytest.raises(ScenarioError, match=r"broken\.yaml:3: usage must be a mapping"):
        ScenarioLibrary.builtin().with_directory(tmp_path)


def test_metadata_scenario_wins_over_rules_and_default_is_echo() -> None:
    library = ScenarioLibrary.builtin()
    assert library.select("/slow", {"scenario": "length"}).name == "length"
    assert library.select("/slow now", {}).name == "slow"
    assert library.select("anything", {}).name == "echo"
    assert library.select("anything", None).name == "echo"


def test_an_unknown_metadata_scenario_fails_the_run_visibly() -> None:
    scenario = ScenarioLibrary.builtin().select("hi", {"scenario": "tool-usse"})
    (step,) = scenario.steps
    assert isinstance(step, Fail)
    assert step.code is ErrorCode.LLM_INIT_FAILED
    assert "'tool-usse'" in step.message


def test_finish_error_is_refused_in_favour_of_fail() -> None:
    with pytest.raises(ScenarioError, match="written by `fail"):
        load_scenario("steps:\n  - finish: error\n", source="f.yaml", name="f")
    assert load_scenario("steps:\n  - finish: tool-calls\n", source="f", name="f").steps == (
        Finish(FinishReason.TOOL_CALLS),
    )


def test_client_tool_calls_and_retries_load_with_their_defaults() -> None:
    text = (
        "steps:\n"
        "  - retry: {message: busy}\n"
        "  - retry: {message: still busy, kind: rate_limit, status_code: 429, delay: 2.5}\n"
        "  - tool_call: {name: ask, args: {q: 1}, client: true, id: call_9}\n"
        "  - finish: stop\n"
    )
    scenario = load_scenario(text, source="x.yaml", name="x")
    assert scenario.steps[:3] == (
        Retry("busy", 1.0),
        Retry("still busy", 2.5, kind="rate_limit", status_code=429),
        ToolCall(name="ask", args={"q": 1}, id="call_9", client=True),
    )
    # the backoffs count in the run's time; the client's own time cannot be known
    assert scenario.duration == 3.5


def test_a_fail_step_may_name_todays_error_kind_and_status_code() -> None:
    text = "steps:\n  - fail: {code: upstream_error, message: m, kind: rate_limit, status_code: 429}\n"
    (step,) = load_scenario(text, source="x.yaml", name="x").steps
    assert step == Fail(ErrorCode.UPSTREAM_ERROR, "m", kind="rate_limit", status_code=429)


@pytest.mark.parametrize(
    ("rules", "picks"),
    [
        # One regex per scenario, as the built-in ones: the union of them tells "none" at once.
        ({"a": r"^/a\b", "b": r"bee"}, {"/a x": "a", "a bee": "b", "/ab": "echo", "x": "echo", "": "echo"}),
        # A group, a flag for the whole pattern, a back-reference: the rules are tried one by one.
        (
            {"a": r"(ab)\1", "b": r"(?i)^B"},
            {"abab": "a", "ab": "echo", "Bee": "b", "bee": "b", "a b": "echo"},
        ),
        # A scoped flag and alternatives stay inside the union.
        ({"a": r"(?i:^x)|y$", "b": r"z"}, {"X1": "a", "1y": "a", "y1": "echo", "zy": "a", "z": "b"}),
    ],
)
def test_the_first_rule_to_match_picks_the_scenario_whatever_its_patterns(
    tmp_path: Path, rules: dict[str, str], picks: dict[str, str]
) -> None:
    for name, pattern in rules.items():
        (tmp_path / f"{name}.yaml").write_text(f"match:\n  - regex: '{pattern}'\nsteps:\n  - text: {name}\n")
    library = ScenarioLibrary(
        [load_scenario((tmp_path / f"{n}.yaml").read_text(), source=n, name=n) for n in rules]
        + [ScenarioLibrary.builtin()["echo"]]
    )
    # Then
    assert {text: library.select(text, {}).name for text in picks} == picks


def test_a_metadata_rule_is_tried_in_its_turn_among_regex_rules(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("match:\n  - metadata: {mode: m}\nsteps:\n  - text: m\n")
    library = ScenarioLibrary.builtin().with_directory(tmp_path)
    # Then
    assert library.select("anything", {"mode": "m"}).name == "m"
    assert library.select("/slow", {"mode": "m"}).name == "m"
    assert library.select("/slow", {}).name == "slow"
    assert library.select("anything", {}).name == "echo"
