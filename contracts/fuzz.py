"""The Schemathesis phase: every built-in check, positive and negative data, then the stateful
phase over the document's OpenAPI links (create chat -> get -> post message -> list).

Hypothesis is driven here rather than through Schemathesis' engine so that `--seed` fixes every
draw, the budget is a fixed number of examples, and each failure is kept (first reproduction
per rule and operation) instead of ending the run.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import get_state_machine_test
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode

from contracts.fuzz_budget import FuzzBudget
from contracts.target import Target
from contracts.violations import Violation

__all__ = ["FuzzBudget", "FuzzStats", "run_schemathesis"]

Record = Callable[[Violation], None]


@dataclass(slots=True)
class FuzzStats:
    """What the phase sent, by outcome: so that a run that tested nothing is visible."""

    calls: int = 0
    successes: int = 0  # 2xx answers: proof that cases got past authentication
    stateful_calls: int = 0
    negative_calls: int = 0  # calls with negative (invalid) data
    seen: set[tuple[str, int]] = field(default_factory=set)  # (operation, status) answered
    reached: dict[str, int] = field(default_factory=dict)  # "METHOD path status" -> count, stateful


def _config(seed: int, extra: Mapping[str, Any]) -> SchemathesisConfig:
    # Every built-in check; a valid random id legitimately finds nothing (404) and
    # another user's workspace is a 403, so those are accepted answers to positive data.
    # A suite adds what its API needs (`extra`: per-operation statuses, fixed parameters).
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "generation": {"with-security-parameters": False, "database": "none"},
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": ["2XX", "403", "404"]},
            },
            **extra,
        }
    )


def _settings(examples: int, **extra: Any) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first reproduction is kept
        print_blob=False,
        report_multiple_bugs=False,
        **extra,
    )


def run_schemathesis(
    document: dict[str, Any],
    target: Target,
    token: str,
    *,
    seed: int,
    budget: FuzzBudget,
    extra_checks: list[Callable[[Any, Any, Any], None]],
    record: Record,
    mask: Callable[[str], str],
    extra_config: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] = lambda line: None,
    with_stateful: bool = True,
) -> FuzzStats:
    """Run the positive, negative and (when `with_stateful`) stateful phases; every failure goes to `record`."""
    load_all_checks()
    schema = schemathesis.openapi.from_dict(document, config=_config(seed, extra_config or {}))
    if target.app is not None:
        schema.app = target.app
    else:
        schema.config.update(base_url=target.api_url)
    headers = {"Coder-Session-Token": token}
    stats = FuzzStats()
    keep = _Keeper(record, mask, target)
    fixed = set((extra_config or {}).get("parameters", {}))

    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # the document is validated upstream
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and _nothing_to_negate(operation, fixed):
                progress(f"  {operation.label} ({mode.value}): nothing to make invalid (every input fixed)")
                continue

            def test(case: Any) -> None:
                response = case.call(headers=headers, **_call_kwargs(target))
                stats.calls += 1
                stats.seen.add((str(case.operation.label), response.status_code))
                stats.successes += 200 <= response.status_code < 300
                try:
                    case.validate_response(
                        response,
                        additional_checks=extra_checks,
                        headers=headers,
                        transport_kwargs={"headers": headers, **_call_kwargs(target)},
                    )
                except FailureGroup as group:
                    keep.failures(group.exceptions, case, headers)

            given = hypothesis.given(operation.as_strategy(generation_mode=mode))(test)
            run = _settings(budget.max_examples)(
                hypothesis.seed(_sub_seed(seed, operation.label, mode.value))(given)
            )
            before, started = stats.calls, time.monotonic()
            # Unsatisfiable: nothing to generate in this mode (a parameter the suite fixed).
            with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                run()
            if mode is GenerationMode.NEGATIVE:
                stats.negative_calls += stats.calls - before
            progress(
                f"  {operation.label} ({mode.value}): {stats.calls - before} calls "
                f"({time.monotonic() - started:.1f} s)"
            )

    if not with_stateful:
        return stats
    machine = schema.as_state_machine()

    class Machine(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers, **_call_kwargs(target)}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            stats.stateful_calls += 1
            key = f"{case.operation.label} {response.status_code}"
            stats.reached[key] = stats.reached.get(key, 0) + 1
            stats.seen.add((str(case.operation.label), response.status_code))
            stats.successes += 200 <= response.status_code < 300
            try:
                super().validate_response(response, case, additional_checks=extra_checks, **kwargs)
            except FailureGroup as group:
                keep.failures(group.exceptions, case, headers, stateful=True)

    stateful = get_state_machine_test(
        Machine, settings=_settings(budget.stateful_examples, stateful_step_count=budget.stateful_steps)
    )
    started = time.monotonic()
    hypothesis.seed(_sub_seed(seed, "stateful", ""))(stateful)()
    progress(
        f"  stateful: {stats.stateful_calls} calls in {budget.stateful_examples} scenarios "
        f"({time.monotonic() - started:.1f} s)"
    )
    return stats


def _nothing_to_negate(operation: Any, fixed: set[str]) -> bool:
    """No body, and every parameter fixed by the suite (`path.user`): no invalid case exists.

    Hypothesis would draw and reject some hundreds of cases before it gave up (Unsatisfiable):
    about a second for each such operation, and not one call.
    """
    return not operation.body and all(
        f"{parameter.location.value}.{parameter.name}" in fixed for parameter in operation.iter_parameters()
    )


def _call_kwargs(target: Target) -> dict[str, Any]:
    return {} if target.app is not None else {"base_url": target.api_url}


def _sub_seed(seed: int, label: str, mode: str) -> int:
    # A stable seed per test function: the same --seed draws the same cases in each of them.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/{label}/{mode}").int % (2**63)


@dataclass(slots=True)
class _Keeper:
    record: Record
    mask: Callable[[str], str]
    target: Target

    def failures(
        self, failures: tuple[Failure, ...], case: Any, headers: dict[str, str], *, stateful: bool = False
    ) -> None:
        for failure in failures:
            rule = type(failure).checks[0] if type(failure).checks else type(failure).__name__
            curl = case.as_curl_command(headers=headers, base_url=self.target.api_url)
            self.record(
                Violation(
                    rule=rule,
                    kind=type(failure).__name__,
                    operation=str(case.operation.label) + (" (stateful)" if stateful else ""),
                    message=f"{failure.title}: {failure.message}".strip(),
                    curl=self.mask(curl),
                )
            )
