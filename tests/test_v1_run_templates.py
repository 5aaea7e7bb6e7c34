"""A scenario compiled into a run template plans every run exactly as its steps do."""

from __future__ import annotations

import json
import marshal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.scenarios import Scenario, ScenarioLibrary, load_scenario
from mockserver.v1.agent import Burst, TextRunTemplate, packed_user_message, plan_run, user_message_envelope

TEXT_ONLY = {
    "reasoning, waits and a named finish": (
        "steps:\n"
        '  - reasoning: ["think about {text}", " more"]\n'
        "    every: 0.1\n"
        "  - delay: 0.5\n"
        '  - text: ["a", "{text}", "c {text}"]\n'
        "    every: 0.05\n"
        "  - delay: 1\n"
        "  - finish: length\n"
    ),
    "several parts due at once": (
        'steps:\n  - reasoning: [x]\n  - text: [y]\n    every: 0.3\n  - text: ["{text}{text}"]\n'
    ),
    "only a finish": "steps:\n  - finish: stop\n",
    "only a wait": "steps:\n  - delay: 1\n",
}

TEXTS = ["Hello there, how are you?", "", "  two  words ", "{text}", "x\ny\tz", "/echo hi", "é ü 日本"]


def _shapes(bursts: tuple[Burst, ...]) -> list[list[str]]:
    return [[type(action).__name__ for action in burst.actions] for burst in bursts]


def _assert_plans_alike(scenario: Scenario, run_id: UUID, text: str) -> None:
    expected = plan_run(scenario, run_id, text)
    template = TextRunTemplate.compile(scenario)
    planned = expected if template is None else template.plan(run_id, text)
    assert planned == expected
    assert _shapes(planned) == _shapes(expected)


@pytest.mark.parametrize("name", ScenarioLibrary.builtin().names)
@pytest.mark.parametrize("text", TEXTS)
def test_every_builtin_scenario_plans_as_its_steps(name: str, text: str) -> None:
    _assert_plans_alike(ScenarioLibrary.builtin()[name], UUID(int=0x1234_5678_9ABC, version=4), text)


@pytest.mark.parametrize("name", ["echo", "slow"])
def test_the_streamed_text_scenarios_are_compiled(name: str) -> None:
    assert TextRunTemplate.compile(ScenarioLibrary.builtin()[name]) is not None


@pytest.mark.parametrize("source", TEXT_ONLY.values(), ids=list(TEXT_ONLY))
@pytest.mark.parametrize("text", TEXTS)
def test_text_only_scenarios_from_files_are_compiled_and_plan_alike(source: str, text: str) -> None:
    scenario = load_scenario(source, source="test.yaml", name="test")
    assert TextRunTemplate.compile(scenario) is not None
    _assert_plans_alike(scenario, UUID(int=0xFEED_BEEF, version=4), text)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40), run=st.integers(min_value=0, max_value=2**128 - 1))
def test_any_text_and_run_plan_alike(text: str, run: int) -> None:
    scenario = load_scenario(
        TEXT_ONLY["reasoning, waits and a named finish"], source="test.yaml", name="test"
    )
    _assert_plans_alike(scenario, UUID(int=run, version=4), text)
    _assert_plans_alike(ScenarioLibrary.builtin()["echo"], UUID(int=run, version=4), text)


@pytest.mark.parametrize("text", TEXTS)
def test_a_run_due_at_once_stores_the_rows_its_plan_writes(text: str) -> None:
    # Given echo, compiled: its run is one burst due as soon as it starts
    template = TextRunTemplate.compile(ScenarioLibrary.builtin()["echo"])
    assert template is not None and template.at_once
    run_id = UUID(int=0x1234_5678_9ABC, version=4)
    # Then the rows it stores alone load as the rows its plan writes, in order
    (burst,) = template.plan(run_id, text)
    stored = template.packed_rows(str(run_id), text)
    assert [(role, marshal.loads(stream)) for role, stream in stored] == [
        (row.role, row.content) for row in burst.rows
    ]


def test_a_run_with_waits_is_not_due_at_once() -> None:
    template = TextRunTemplate.compile(ScenarioLibrary.builtin()["slow"])
    assert template is not None and not template.at_once


# Texts made of the characters that decide how str.split counts: words, spaces of every kind
# (str.split's whitespace, ASCII and not), and the placeholder itself.
_SPLIT_TEXTS = st.lists(
    st.sampled_from(["a", "b", " ", "\t", "\n", "\x1c", "\x85", "\u3000", "{text}"]), max_size=8
).map("".join)


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(_SPLIT_TEXTS, min_size=1, max_size=4), text=_SPLIT_TEXTS | st.text(max_size=12))
def test_a_compiled_run_counts_the_words_of_any_text_as_its_steps(chunks: list[str], text: str) -> None:
    # Given a text-only scenario whose chunks hold constant words glued to {text} or not
    source = "steps:\n  - reasoning: [r]\n  - text: " + json.dumps(chunks) + "\n"
    scenario = load_scenario(source, source="test.yaml", name="test")
    assert TextRunTemplate.compile(scenario) is not None
    # Then its usage figures (counted once at compile for the constant words) are the planner's
    _assert_plans_alike(scenario, UUID(int=0xFEED_BEEF, version=4), text)


def _assert_packed_rows_load_as_the_planned_rows(template: TextRunTemplate, run_id: UUID, text: str) -> None:
    """A template's packed rows load as the rows `plan_run` writes: same roles, types, key order."""
    expected = [row for burst in plan_run(template.scenario, run_id, text) for row in burst.rows]
    packed = template.packed_rows(str(run_id), text)
    assert [role for role, _ in packed] == [row.role for row in expected]
    loaded = [marshal.loads(stream) for _, stream in packed]
    assert loaded == [row.content for row in expected]
    # the same types and key order all the way down (== alone takes 1 for True, any key order)
    assert json.dumps(loaded) == json.dumps([row.content for row in expected])
    assert repr(loaded) == repr([row.content for row in expected])


_COMPILED_BUILTINS = [
    name
    for name in ScenarioLibrary.builtin().names
    if TextRunTemplate.compile(ScenarioLibrary.builtin()[name])
]


def test_the_builtins_compiled_include_echo_and_slow() -> None:
    assert {"echo", "slow"} <= set(_COMPILED_BUILTINS)


@pytest.mark.parametrize("name", _COMPILED_BUILTINS)
@pytest.mark.parametrize("text", [*TEXTS, "\ud800 lone", "   ", "a" * 300, "é" * 100])
def test_every_compiled_builtin_packs_the_rows_its_steps_write(name: str, text: str) -> None:
    template = TextRunTemplate.compile(ScenarioLibrary.builtin()[name])
    assert template is not None
    _assert_packed_rows_load_as_the_planned_rows(template, UUID(int=0x1234_5678_9ABC, version=4), text)


@pytest.mark.parametrize("source", TEXT_ONLY.values(), ids=list(TEXT_ONLY))
@pytest.mark.parametrize("text", TEXTS)
def test_text_only_scenarios_from_files_pack_the_rows_their_steps_write(source: str, text: str) -> None:
    template = TextRunTemplate.compile(load_scenario(source, source="test.yaml", name="test"))
    assert template is not None
    _assert_packed_rows_load_as_the_planned_rows(template, UUID(int=0xFEED_BEEF, version=4), text)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
    | st.sampled_from(["", " ", " \t\n ", "\ud800", "a\udfffb c", "{text}", "a" * 255, "a" * 256]),
    run=st.integers(min_value=0, max_value=2**128 - 1),
)
def test_any_text_and_run_pack_the_rows_the_planner_writes(text: str, run: int) -> None:
    for template in (
        TextRunTemplate.compile(ScenarioLibrary.builtin()["echo"]),
        TextRunTemplate.compile(
            load_scenario(TEXT_ONLY["several parts due at once"], source="t.yaml", name="t")
        ),
        TextRunTemplate.compile(load_scenario(TEXT_ONLY["only a finish"], source="t.yaml", name="t")),
    ):
        assert template is not None
        _assert_packed_rows_load_as_the_planned_rows(template, UUID(int=run, version=4), text)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
    | st.sampled_from(["", " ", " \t\n ", "\ud800", "a\udfffb c", "a" * 255, "a" * 256]),
    run=st.integers(min_value=0, max_value=2**128 - 1),
)
def test_a_packed_user_message_loads_as_its_envelope(text: str, run: int) -> None:
    spelt = str(UUID(int=run, version=4))
    loaded = marshal.loads(packed_user_message(spelt, text))
    assert loaded == user_message_envelope(spelt, text)
    assert repr(loaded) == repr(user_message_envelope(spelt, text))  # same types and key order
