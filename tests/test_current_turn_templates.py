"""A scenario of streamed text alone, laid out once as a turn template, plans every turn as its steps do."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import ManualScheduler, SteppingClock, seeded_uuids
from mockserver.core.directory import DEFAULT_ORGANIZATION_ID, DEMO_TOKENS, Directory
from mockserver.core.scenarios import Scenario, ScenarioLibrary, load_scenario
from mockserver.core.store import ChatStore
from mockserver.current.catalog import ModelCatalog
from mockserver.current.engine import ChatEngine
from mockserver.current.turns import StoreMessage, TextTurnTemplate, TurnRunner, plan_turn
from tests.current_support import text as text_parts

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
    "parts that join and alternate": (
        'steps:\n  - text: [x]\n  - text: [" y"]\n    every: 0.3\n  - reasoning: ["{text}{text}"]\n'
        '  - text: ["z {text}"]\n  - delay: 0.25\n'
    ),
    "empty text chunks": 'steps:\n  - text: [""]\n  - delay: 2\n',
    "only a finish": "steps:\n  - finish: stop\n",
    "only a wait": "steps:\n  - delay: 1\n",
}

TEXTS = ["Hello there, how are you?", "", "  two  words ", "{text}", "x\ny\tz", "/echo hi", "é ü 日本"]


def _assert_plans_alike(scenario: Scenario, text: str, context_limit: int = 128_000) -> None:
    template = TextTurnTemplate.compile(scenario)
    assert template is not None
    expected = plan_turn(scenario, text, context_limit=context_limit, turn_key="0123456789abcdef")
    planned = template.plan(text, context_limit=context_limit)
    assert planned == expected
    assert [type(action) for action in planned] == [type(action) for action in expected]


@pytest.mark.parametrize("name", ["echo", "slow"])
@pytest.mark.parametrize("text", TEXTS)
def test_the_streamed_text_builtins_are_compiled_and_plan_as_their_steps(name: str, text: str) -> None:
    _assert_plans_alike(ScenarioLibrary.builtin()[name], text)


@pytest.mark.parametrize("name", ["tool-use", "client-tool", "retry", "upstream-error", "reasoning"])
def test_scenarios_with_tools_usage_retries_or_failures_are_not_compiled(name: str) -> None:
    assert TextTurnTemplate.compile(ScenarioLibrary.builtin()[name]) is None


@pytest.mark.parametrize("source", TEXT_ONLY.values(), ids=list(TEXT_ONLY))
@pytest.mark.parametrize("text", TEXTS)
def test_text_only_scenarios_from_files_plan_alike(source: str, text: str) -> None:
    _assert_plans_alike(load_scenario(source, source="test.yaml", name="test"), text, context_limit=4096)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40), limit=st.integers(min_value=1, max_value=2_000_000))
def test_any_text_and_context_limit_plan_alike(text: str, limit: int) -> None:
    scenario = load_scenario(
        TEXT_ONLY["reasoning, waits and a named finish"], source="test.yaml", name="test"
    )
    _assert_plans_alike(scenario, text, limit)


AT_ONCE = {
    "echo": ScenarioLibrary.builtin()["echo"],
    "parts with no wait": load_scenario(
        'steps:\n  - reasoning: ["{te", "xt}", " r"]\n  - text: ["a", " {text}"]\n  - finish: stop\n',
        source="test.yaml",
        name="test",
    ),
}


@pytest.mark.parametrize("scenario", AT_ONCE.values(), ids=list(AT_ONCE))
@pytest.mark.parametrize("text", TEXTS)
def test_a_turn_due_at_once_stores_the_message_its_plan_stores(scenario: Scenario, text: str) -> None:
    # Given a compiled scenario whose whole turn is due as soon as it starts
    template = TextTurnTemplate.compile(scenario)
    assert template is not None and template.at_once
    # Then its message alone is the message its plan stores, parts and usage
    *_, stored, _ = template.plan(text, context_limit=4096)
    parts, usage = template.message(text, context_limit=4096)
    assert type(stored) is StoreMessage
    assert (tuple(parts), usage) == (stored.parts, stored.usage)


@pytest.mark.parametrize("source", TEXT_ONLY.values(), ids=list(TEXT_ONLY))
def test_a_turn_with_waits_or_no_message_is_not_due_at_once(source: str) -> None:
    template = TextTurnTemplate.compile(load_scenario(source, source="test.yaml", name="test"))
    assert template is not None and not template.at_once
    slow = TextTurnTemplate.compile(ScenarioLibrary.builtin()["slow"])
    assert slow is not None and not slow.at_once


def _stored_reply(scenario: Scenario, text: str, *, heard: bool) -> dict[str, Any]:
    """The assistant message a turn of `scenario` stores for `text`, with or without a listener."""
    scheduler = ManualScheduler()
    new_id = seeded_uuids(5)
    store = ChatStore(clock=SteppingClock(), new_id=new_id)
    library = ScenarioLibrary([scenario], default=scenario.name)
    runner = TurnRunner(store, scheduler, library, clock=SteppingClock(), new_id=new_id)
    engine = ChatEngine(store, runner, scheduler, ModelCatalog(DEFAULT_ORGANIZATION_ID), queue_limit=20)
    owner = Directory.from_tokens(DEMO_TOKENS).authenticate(DEMO_TOKENS["alice"])
    chat = engine.create(
        owner,
        title="t",
        model=engine.catalog.default,
        labels={},
        parts=text_parts(text),
        workspace_id=None,
        attributes={},
    )
    if heard:
        store.subscribe(chat.id, lambda event: None)
    scheduler.run_until_idle()
    *_, reply = store.messages_of(chat.id)
    return reply.content


@pytest.mark.parametrize("scenario", AT_ONCE.values(), ids=list(AT_ONCE))
def test_a_turn_due_at_once_stores_the_same_message_heard_or_not(scenario: Scenario) -> None:
    # Given a turn due in full as it starts, played once with a listener on the chat and once without
    heard = _stored_reply(scenario, "Hello there", heard=True)
    unheard = _stored_reply(scenario, "Hello there", heard=False)
    # Then the stored message is the same, the reasoning parts' created_at included
    assert heard["parts"]
    assert unheard == heard
