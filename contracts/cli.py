"""The `verify` subcommand of `chats-mock`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_verify_command"]


def _verify(args: argparse.Namespace) -> int:
    """Verify that a server conforms to the Chats API contract.

    Exits 0 when it conforms, 1 when it violates the contract (a summary grouped by rule, each
    with a curl reproduction), 2 when no verdict can be given (unreachable, token rejected).
    """
    from contracts.fuzz_budget import FuzzBudget
    from contracts.report import ExitCode
    from contracts.runner import DEFAULT_AGENT_TIMEOUT, VerifyOptions, suite_named, verify
    from contracts.target import Target

    suite = suite_named(args.api)
    if args.list_rules:
        print(suite.book.listing())
        return ExitCode.CONFORMS
    missing = [flag for flag, value in (("--base-url", args.base_url), ("--token", args.token)) if not value]
    if missing:
        print(f"verify: cannot judge: {' and '.join(missing)} required", file=sys.stderr)
        return ExitCode.CANNOT_JUDGE
    try:
        target = Target.url(args.base_url)
    except ValueError as error:
        print(f"verify: cannot judge: bad --base-url: {error}", file=sys.stderr)
        return ExitCode.CANNOT_JUDGE
    if len(args.token) > 2:
        print("verify: cannot judge: give at most two --token values", file=sys.stderr)
        return ExitCode.CANNOT_JUDGE
    default = FuzzBudget()
    examples = args.max_examples if args.max_examples is not None else default.max_examples
    budget = FuzzBudget(
        max_examples=examples,
        stateful_examples=max(10, examples // 2)
        if args.max_examples is not None
        else default.stateful_examples,
        stateful_steps=default.stateful_steps,
    )
    try:
        only, skip, fuzz = _selection(suite.book, args.only, args.skip)
    except ValueError as error:
        print(f"verify: cannot judge: {error}", file=sys.stderr)
        return ExitCode.CANNOT_JUDGE
    options = VerifyOptions(
        seed=args.seed,
        budget=budget,
        document=args.document,
        expect_agent=args.expect_agent if args.expect_agent is not None else DEFAULT_AGENT_TIMEOUT,
        api=args.api,
        organization=args.organization,
        only=only,
        skip=skip,
        schemathesis=fuzz,
        jobs=args.jobs,
        progress=(lambda line: None) if args.quiet else _to_stderr,
    )
    report = verify(target, args.token, options)
    print(report.summary())
    if args.junit_xml is not None:
        report.write_junit(args.junit_xml)
    return int(report.exit_code)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


PHASES = ("scenarios", "schemathesis")


def _names(values: list[str] | None) -> set[str]:
    return {name.strip() for value in values or [] for name in value.split(",") if name.strip()}


def _selection(
    book: Any, only_values: list[str] | None, skip_values: list[str] | None
) -> tuple[frozenset[str] | None, frozenset[str], bool]:
    """--only and --skip as the scenario checks' rules, and whether the Schemathesis phase runs.

    A name is a phase (`scenarios`, `schemathesis`) or a rule of the book (--list-rules); a rule
    of the Schemathesis phase selects that phase.
    """
    rules = set(book.names())
    fuzz_rules = {rule.name for rule in book.sections[-1].rules}
    only, skip = _names(only_values), _names(skip_values)
    unknown = sorted((only | skip) - rules - set(PHASES))
    if unknown:
        raise ValueError(f"--only/--skip: no phase or rule {', '.join(unknown)} (see --list-rules)")
    scenario_rules = rules - fuzz_rules
    chosen: frozenset[str] | None = None
    if only:
        chosen = frozenset((scenario_rules if "scenarios" in only else set()) | (only & scenario_rules))
    skipped = frozenset((scenario_rules if "scenarios" in skip else set()) | (skip & scenario_rules))
    fuzz = "schemathesis" not in skip and (not only or bool(only & ({"schemathesis"} | fuzz_rules)))
    return chosen, skipped, fuzz


def _positive(kind: Any) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def add_verify_command(subparsers: Any) -> None:
    """Register `verify` on the `chats-mock` subparsers (func(args) -> exit code)."""
    verify = subparsers.add_parser(
        "verify", help="verify that a server conforms to the contract", description=_verify.__doc__
    )
    verify.add_argument("--base-url", help="the server's root, e.g. http://127.0.0.1:8080 (/api/v2 is added)")
    verify.add_argument(
        "--token",
        action="append",
        help="a user's session token; give a second user's token again to check isolation",
    )
    verify.add_argument("--seed", type=int, default=0, help="the seed of every generated case (default: 0)")
    verify.add_argument(
        "--max-examples", type=_positive(int), help="generated cases per operation and mode (default: 100)"
    )
    verify.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report here")
    verify.add_argument(
        "--expect-agent",
        type=_positive(float),
        metavar="SECONDS",
        help="seconds each agent run may take to write run_finished (default: 30)",
    )
    verify.add_argument(
        "--list-rules", action="store_true", help="print every rule with the WIRE.md section it enforces"
    )
    verify.add_argument("--document", type=Path, metavar="PATH", help="another copy of the OpenAPI document")
    verify.add_argument(
        "--api",
        choices=("v1", "current"),
        default="v1",
        help="the API generation to judge: v1 (openapi/chats.yaml, the default) or current (openapi/current)",
    )
    verify.add_argument(
        "--organization",
        metavar="ID",
        help="--api current: the organization verify creates chats in (default: the one named `coder`)",
    )
    verify.add_argument(
        "--only",
        action="append",
        metavar="NAMES",
        help="run only these phases (scenarios, schemathesis) or rules (--list-rules); comma-separated",
    )
    verify.add_argument(
        "--skip", action="append", metavar="NAMES", help="leave out these phases or rules; comma-separated"
    )
    verify.add_argument(
        "--jobs",
        type=_positive(int),
        metavar="N",
        help="scenario checks run at once over the network (default: 8; they mostly wait on runs)",
    )
    verify.add_argument("--quiet", action="store_true", help="print only the summary (no progress on stderr)")
    verify.set_defaults(func=_verify)
