"""verify's negative phase skips an operation only when no invalid case of it can exist."""

from __future__ import annotations

import contextlib
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from contracts.current.facts import load_document
from contracts.current.suite import fuzz_config
from contracts.fuzz import _config, _nothing_to_negate

ORGANIZATION = "0d4f7d2c-7b1e-4b0a-9a52-6f1b3c1e2a10"


def _operations() -> dict[str, Any]:
    schema = schemathesis.openapi.from_dict(load_document())
    return {str(r.ok().label): r.ok() for r in schema.get_all_operations()}  # type: ignore[union-attr]


def _fixed() -> set[str]:
    return set(fuzz_config({"organization": ORGANIZATION})["parameters"])


def test_an_operation_without_body_or_free_parameter_has_nothing_to_negate() -> None:
    operations, fixed = _operations(), _fixed()
    assert _nothing_to_negate(operations["GET /chats/config/system-prompt"], fixed)
    # Its one parameter is fixed by the suite (the organization the scenario checks found).
    assert _nothing_to_negate(operations["GET /organizations/{organization}/chats/models"], fixed)


@pytest.mark.parametrize(
    "label",
    [
        "POST /chats",  # a body
        "GET /chats",  # query parameters
        "GET /chats/{chat}",  # a path parameter the suite does not fix
    ],
)
def test_an_operation_with_a_body_or_a_free_parameter_is_negated(label: str) -> None:
    assert not _nothing_to_negate(_operations()[label], _fixed())


def _negative_cases(path: str, method: str) -> list[Any]:
    """The invalid cases Hypothesis draws for an operation, configured as verify configures it."""
    config = _config(0, fuzz_config({"organization": ORGANIZATION}))
    operation = schemathesis.openapi.from_dict(load_document(), config=config)[path][method]
    drawn: list[Any] = []

    @hypothesis.settings(max_examples=5, database=None, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def draw(case: Any) -> None:
        drawn.append(case)

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        draw()
    return drawn


@pytest.mark.parametrize(
    ("path", "method"),
    [("/chats/config/system-prompt", "GET"), ("/organizations/{organization}/chats/models", "GET")],
)
def test_hypothesis_draws_no_invalid_case_where_the_phase_skips(path: str, method: str) -> None:
    # What the skip saves: Hypothesis drawing and rejecting cases until it gives up, with no call.
    assert _nothing_to_negate(_operations()[f"{method} {path}"], _fixed())
    assert _negative_cases(path, method) == []


def test_hypothesis_draws_invalid_cases_where_the_phase_negates() -> None:
    assert len(_negative_cases("/chats/{chat}", "GET")) == 5
