"""TEMPORARY stand-in for the chats-mock CLI, only so the spec commands run on this branch.

The real `mockserver/cli.py` is written in parallel and replaces this file at merge; it
calls `add_spec_commands(subparsers)` the same way.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mockserver.spec_commands import add_spec_commands

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run `chats-mock` with the given arguments; return the exit code."""
    parser = argparse.ArgumentParser(prog="chats-mock")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_spec_commands(subparsers)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
