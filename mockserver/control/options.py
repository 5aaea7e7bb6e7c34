"""The `serve` options of the control plane and its comforts, and the Settings fields they give."""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path
from typing import Any

from mockserver.edge.origins import CONTROL_TOKEN_HEADER, LOCALHOST_ORIGINS, CorsPolicy

from .faults import MAX_LATENCY_MS, FaultRule, load_fault_rules
from .hosts import HostAllowlist

__all__ = ["add_control_arguments", "control_settings"]


def add_control_arguments(serve: argparse.ArgumentParser) -> None:
    """Add --control, --control-token, --faults, --fault-seed, --latency and the CORS options."""
    group = serve.add_argument_group("control plane and comforts (docs/control.md)")
    group.add_argument(
        "--control",
        action="store_true",
        help="serve the control plane under /__mock (reset, request journal, faults, clock); "
        "without --control-token only on a loopback --host",
    )
    group.add_argument(
        "--control-token",
        metavar="TOKEN",
        help=f"serve the control plane, to requests with the header {CONTROL_TOKEN_HEADER}: TOKEN",
    )
    group.add_argument(
        "--faults",
        type=Path,
        metavar="FILE",
        help="fault rules in force from start-up (YAML or JSON)",
    )
    group.add_argument(
        "--fault-seed",
        type=int,
        default=0,
        help="seed of the rules' probability draws (default: 0)",
    )
    group.add_argument(
        "--latency", type=int, metavar="MS", default=0, help="add MS milliseconds to every request"
    )
    group.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to call the mock, e.g. http://app.test:3000; repeat "
        "for more (replaces the default: localhost, 127.0.0.1 and [::1] on any port)",
    )
    group.add_argument(
        "--cors-origin-regex",
        metavar="REGEX",
        help="allowed origins as a regular expression over the whole origin (replaces the default)",
    )


def control_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields the options ask for; ValueError says what is wrong with them."""
    enabled = args.control or args.control_token is not None
    if enabled and args.control_token is None and not _is_loopback(args.host):
        raise ValueError(
            f"--control on the non-loopback host {args.host} would let anyone reset the mock: "
            "give --control-token as well"
        )
    if args.control_token == "":
        raise ValueError("--control-token must not be empty")
    rules: list[FaultRule] = []
    if not 0 <= args.latency <= MAX_LATENCY_MS:
        raise ValueError(f"--latency must be between 0 and {MAX_LATENCY_MS}")
    if args.latency:
        rules.append(FaultRule(latency_ms=args.latency))  # one mechanism: a rule matching everything
    if args.faults is not None:
        rules.extend(load_fault_rules(args.faults))
    custom = args.cors_origin or args.cors_origin_regex is not None
    cors = CorsPolicy(
        origins=tuple(args.cors_origin),
        origin_regex=args.cors_origin_regex if custom else LOCALHOST_ORIGINS,
    )
    return {
        "control": enabled,
        "control_token": args.control_token,
        "faults": tuple(rules),
        "fault_seed": args.fault_seed,
        "cors": cors,
        "control_hosts": _control_hosts(args.host),
    }


def _control_hosts(host: str) -> HostAllowlist | None:
    """Loopback names and the bound host; bound to every address, any Host (the token guards)."""
    if host in ("0.0.0.0", "::", ""):
        return None
    return HostAllowlist.loopback_and([host])


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
