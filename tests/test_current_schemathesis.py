"""Plain Schemathesis against the current-API app, in-process: every check, both modes, the links.

It reads the repository's schemathesis.toml, as `schemathesis run openapi/current/chats.yaml`
does from the repository root (README, "Today's API"), with a smaller fixed budget so that CI
runs it on every change. A failure of any check fails the test with Schemathesis' own report.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import get_state_machine_test
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from mockserver import DEMO_TOKENS, ImmediateScheduler, SteppingClock, create_app, seeded_uuids
from mockserver.app.factory import Settings

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Coder-Session-Token": DEMO_TOKENS["alice"]}
EXAMPLES = 15  # per operation and mode
SCENARIOS = (
    80  # of the state machine, each up to 8 steps (fewer rarely get past a create, among ~50 operations)
)


def _settings(examples: int, **extra: Any) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        print_blob=False,
        **extra,
    )


def _seed(label: str) -> int:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"current/{label}").int % (2**63)


def _negatable(operation: Any) -> bool:
    """Whether a request to the operation can be made invalid: a body, or a parameter not fixed."""
    definition = operation.definition.raw
    parameters = [*operation.path_parameters, *operation.query, *operation.headers]
    return "requestBody" in definition or any(p.name != "organization" for p in parameters)


@pytest.fixture(scope="module")
def schema() -> Any:
    load_all_checks()
    config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    loaded = schemathesis.openapi.from_path(ROOT / "openapi" / "current" / "chats.yaml", config=config)
    loaded.app = create_app(
        Settings(api="current"), clock=SteppingClock(), new_id=seeded_uuids(3), scheduler=ImmediateScheduler()
    )
    return loaded


def test_every_operation_passes_every_check_with_positive_and_negative_data(schema: Any) -> None:
    calls: dict[str, int] = {}
    failures: list[str] = []
    unnegatable: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            def test(case: Any) -> None:
                response = case.call(headers=HEADERS)
                calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
                try:
                    case.validate_response(response, headers=HEADERS, transport_kwargs={"headers": HEADERS})
                except FailureGroup as group:
                    failures.extend(
                        f"{case.operation.label}: {f.title}: {f.message}" for f in group.exceptions
                    )

            given = hypothesis.given(operation.as_strategy(generation_mode=mode))(test)
            try:
                _settings(EXAMPLES)(hypothesis.seed(_seed(f"{operation.label}/{mode.value}"))(given))()
            except hypothesis.errors.Unsatisfiable:
                # Nothing to negate: an operation with no body and no parameter but the
                # organization, which schemathesis.toml fixes, has no invalid request to make.
                assert mode == GenerationMode.NEGATIVE
                assert not _negatable(operation), operation.label
                unnegatable.add(operation.label)
    assert failures == [], "\n".join(failures)
    assert set(calls) == {r.ok().label for r in schema.get_all_operations()}  # every one was exercised
    assert "GET /organizations/{organization}/chats/models" in unnegatable


def test_the_links_pass_every_check_statefully(schema: Any) -> None:
    reached: dict[str, int] = {}
    failures: list[str] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": HEADERS}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            key = f"{case.operation.label} {response.status_code}"
            reached[key] = reached.get(key, 0) + 1
            try:
                super().validate_response(response, case, **kwargs)
            except FailureGroup as group:
                failures.extend(f"{case.operation.label}: {f.title}: {f.message}" for f in group.exceptions)

    run = get_state_machine_test(Machine, settings=_settings(SCENARIOS, stateful_step_count=8))
    hypothesis.seed(_seed("stateful"))(run)()
    assert failures == []
    # The links led past creating a chat into the routes of the chat it made.
    assert reached.get("POST /chats 201", 0) > 0
    assert any("{chat}" in key and key.split()[-1].startswith("2") for key in reached), repr(
        sorted(reached.items())
    )
