"""The `serve` options for long runs and many watchers: --watch-queue, --max-chats, --max-messages."""

from __future__ import annotations

import argparse
from typing import Any

from mockserver.core.store import StoreLimits

__all__ = ["add_capacity_arguments", "capacity_settings", "store_limits"]

DEFAULT_WATCH_QUEUE = 1000


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_capacity_arguments(serve: argparse.ArgumentParser) -> None:
    """Add the options that bound memory under load."""
    group = serve.add_argument_group("capacity (README, Reliability)")
    group.add_argument(
        "--watch-queue",
        type=_positive,
        default=DEFAULT_WATCH_QUEUE,
        metavar="FRAMES",
        help="frames a watch-ws client may fall behind before it is closed with 1008 "
        f"(default: {DEFAULT_WATCH_QUEUE})",
    )
    group.add_argument(
        "--max-chats",
        type=_positive,
        metavar="N",
        help="keep at most N chats: a new one evicts the oldest (default: unbounded)",
    )
    group.add_argument(
        "--max-messages",
        type=_positive,
        metavar="N",
        help="keep at most N messages over all chats: the oldest chats are evicted whole "
        "(default: unbounded)",
    )


def store_limits(args: argparse.Namespace) -> StoreLimits:
    """The store's caps the options ask for."""
    return StoreLimits(max_chats=args.max_chats, max_messages=args.max_messages)


def capacity_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Settings fields the options ask for."""
    return {"watch_queue": args.watch_queue}
