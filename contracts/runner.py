"""`verify`: judge a server against the document and Coder's wire semantics."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contracts.facts import WireFacts, load_document
from contracts.fuzz import FuzzBudget, run_schemathesis
from contracts.report import Report
from contracts.response_checks import response_checks
from contracts.scenarios import SCENARIOS, ScenarioContext
from contracts.target import Probe, Target
from contracts.violations import ContractBroken, Violation

__all__ = ["VerifyOptions", "verify"]

# The built-in Schemathesis checks the phase runs (all of them), reported as rules.
_SCHEMATHESIS_RULES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
    "coder_error_body",
    "transcript_is_ordered",
    "answer_matches_request",
)


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """How to verify: the seed, the budget, the document, and the agent's deadline."""

    seed: int = 0
    budget: FuzzBudget = field(default_factory=FuzzBudget)
    document: Path | None = None  # None: the packaged document
    expect_agent: float | None = None  # seconds; None: the agent is not checked
    schemathesis: bool = True  # False runs the scenario checks only


def verify(target: Target, tokens: Sequence[str], options: VerifyOptions | None = None) -> Report:
    """Judge the server at `target` with one or two users' tokens; never raises for the server's faults.

    The report's `exit_code` is 0 when the server conforms, 1 when it violates a rule, and 2 when
    no verdict could be given (unreachable server, a rejected token). With one token, isolation
    between users is not checked, and the report says so.
    """
    options = options or VerifyOptions()
    report = Report()
    if not 1 <= len(tokens) <= 2:
        report.cannot_judge = "give one or two --token values"
        return report
    document = load_document(options.document)
    facts = WireFacts.from_document(document)
    placeholders = {"$TOKEN": tokens[0], **({"$TOKEN2": tokens[1]} if len(tokens) > 1 else {})}
    started = time.monotonic()
    with target.client() as client:
        probe = Probe(client, placeholders)
        rng = random.Random(options.seed)
        reason = _preflight(probe, tokens, target)
        if reason is not None:
            report.cannot_judge = reason
            return report
        ctx = ScenarioContext(
            probe=probe,
            facts=facts,
            token=tokens[0],
            other_token=tokens[1] if len(tokens) > 1 else None,
            expect_agent=options.expect_agent,
            new_uuid=lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        for scenario in SCENARIOS:
            if scenario.rule == "agent_run_finishes" and options.expect_agent is None:
                continue
            report.rules.append(scenario.rule)
            try:
                note = scenario.run(ctx)
            except ContractBroken as broken:
                report.add(Violation(scenario.rule, broken.kind, "-", broken.message, probe.last_curl))
            except httpx.HTTPError as error:
                report.add(
                    Violation(
                        scenario.rule,
                        "RequestFailed",
                        "-",
                        f"{type(error).__name__}: {error}",
                        probe.last_curl,
                    )
                )
            else:
                if note:
                    report.notes.append(f"{scenario.rule}: {note}")
        if options.expect_agent is None:
            report.notes.append("agent_run_finishes: the agent was not checked (give --expect-agent SECONDS)")
        report.figures["scenario_requests"] = probe.sent
    if options.schemathesis:
        report.rules.extend(rule for rule in _SCHEMATHESIS_RULES if rule not in report.rules)

        def mask(curl: str) -> str:
            return curl.replace("[Filtered]", "$TOKEN").replace(tokens[0], "$TOKEN")

        stats = run_schemathesis(
            document,
            target,
            tokens[0],
            seed=options.seed,
            budget=options.budget,
            extra_checks=response_checks(facts),
            record=report.add,
            mask=mask,
        )
        report.figures.update(
            schemathesis_calls=stats.calls, stateful_calls=stats.stateful_calls, successes=stats.successes
        )
        if stats.successes == 0:
            report.cannot_judge = "no generated request was accepted (2xx): the run tested nothing"
    report.figures["seconds"] = round(time.monotonic() - started, 2)
    return report


def _preflight(probe: Probe, tokens: Sequence[str], target: Target) -> str | None:
    """Why no verdict can be given, or None: the server answers and accepts every token."""
    for index, token in enumerate(tokens, start=1):
        try:
            response = probe.send("GET", f"/chats/{uuid.UUID(int=0)}", token=token)
        except httpx.HTTPError as error:
            return f"the server at {target.api_url} is unreachable ({type(error).__name__}: {error})"
        if response.status_code == 401:
            return f"token #{index} was rejected (401) by {target.api_url}"
        if response.status_code not in (400, 404):
            return f"token #{index}: GET /chats/<unknown id> answered {response.status_code}, expected 404"
    return None
