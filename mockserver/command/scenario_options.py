"""The command-line parts of scenarios, clocks and fixtures: `serve` flags and `fixtures export`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.app.generations import API_GENERATIONS
from mockserver.command.capacity_options import store_limits
from mockserver.core.clock import random_uuids, system_clock
from mockserver.core.directory import Directory
from mockserver.core.fixture_files import FixtureError, ServerOfAnotherGeneration, fixture_text
from mockserver.core.scenarios import ScenarioError, ScenarioLibrary
from mockserver.core.scheduler import AsyncioScheduler, ImmediateScheduler, ManualScheduler, Scheduler
from mockserver.core.store import ChatStore

__all__ = [
    "ServeParts",
    "StartupError",
    "add_fixtures_commands",
    "add_serve_options",
    "serve_parts",
]

CLOCKS = ("real", "virtual", "instant")

# Per generation (`--api`): load fixture files into a store; build a fixture with GETs. Each
# generation's fixtures module is imported when it is used: `serve` needs only its own.
LoadFixtures = Callable[[ChatStore, Directory, tuple[Path, ...]], int]
FetchFixture = Callable[[Callable[[str], Any], str, list[str]], dict[str, Any]]


def _load_fixtures(api: str) -> LoadFixtures:
    if api == "current":
        from mockserver.current.fixtures import load_fixture_files as load_current

        return load_current
    from mockserver.v1.fixtures import load_fixture_files as load_v1

    return load_v1


def _fetch_fixture(api: str) -> FetchFixture:
    if api == "current":
        from mockserver.current.fixtures import fetch_fixture as fetch_current

        return fetch_current
    from mockserver.v1.fixtures import fetch_fixture as fetch_v1

    return fetch_v1


class StartupError(Exception):
    """A flag's file the mock refuses to start with; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class ServeParts:
    """What `serve` hands to create_app, built from its flags."""

    store: ChatStore
    scheduler: Scheduler
    seed_store: Callable[[ChatStore], None]  # loads the fixtures; run at start-up and on reset
    library: ScenarioLibrary  # the scenarios runs play (the built-in ones and --scenarios)

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for create_app."""
        return {
            "store": self.store,
            "scheduler": self.scheduler,
            "seed_store": self.seed_store,
            "library": self.library,
        }


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """Add --scenarios, --fixtures and --clock to `serve`."""
    serve.add_argument(
        "--scenarios",
        type=Path,
        metavar="DIR",
        help="a directory of scenario files (*.yaml) adding to or overriding the built-in ones",
    )
    serve.add_argument(
        "--fixtures",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a fixture file of chats to load at start-up; repeat for more",
    )
    serve.add_argument(
        "--clock",
        choices=CLOCKS,
        default="real",
        help="agent time: real (with --speed), virtual (runs wait until time is advanced), "
        "or instant (a run is written before its post answers) (default: real)",
    )


def _scheduler(clock: str, speed: float) -> Scheduler:
    if clock == "virtual":
        return ManualScheduler()
    if clock == "instant":
        return ImmediateScheduler()
    return AsyncioScheduler(speed=speed)


def serve_parts(args: argparse.Namespace, directory: Directory) -> ServeParts:
    """The store (fixtures loaded), scheduler and scenario library for `serve`; StartupError says why not.

    The agent that plays the library is the generation's own, built by create_app over these.
    """
    library = ScenarioLibrary.builtin()
    try:
        if args.scenarios is not None:
            library = library.with_directory(args.scenarios)
    except ScenarioError as error:
        raise StartupError(f"bad scenario: {error}") from None
    store = ChatStore(clock=system_clock, new_id=random_uuids(), limits=store_limits(args))
    fixture_files = tuple(args.fixtures)
    load_fixtures = _load_fixtures(args.api)

    def seed_store(target: ChatStore) -> None:
        try:
            load_fixtures(target, directory, fixture_files)
        except FixtureError as error:
            raise StartupError(f"bad fixture: {error}") from None

    scheduler = _scheduler(args.clock, args.speed)
    return ServeParts(
        store=store,
        scheduler=scheduler,
        seed_store=seed_store,
        library=library,
    )


def add_fixtures_commands(commands: Any) -> None:
    """Add `chats-mock fixtures export`."""
    fixtures = commands.add_parser("fixtures", help="export chats as fixture files")
    actions = fixtures.add_subparsers(dest="fixtures_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write chats as a fixture", description=_export.__doc__)
    export.add_argument(
        "--api",
        choices=API_GENERATIONS,
        default=API_GENERATIONS[0],
        help="which generation of the Chats API the server speaks (default: %(default)s)",
    )
    export.add_argument(
        "--base-url", default="http://127.0.0.1:8080", help="the server (default: %(default)s)"
    )
    export.add_argument("--token", required=True, help="the session token of the chats' owner")
    export.add_argument("--chat", action="append", required=True, metavar="ID", help="a chat id; repeat")
    export.add_argument("--owner", help="the owner the fixture records (default: the token's id)")
    export.add_argument("--json", action="store_true", help="write JSON instead of YAML")
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    """Write chats, read with plain GETs of the Chats API (mock or real Coder), as a fixture.

    Load it with `chats-mock serve --fixtures FILE` (with the same --api).
    """
    import urllib.error  # here: urllib.request (http.client, email) is no part of serve's start-up
    import urllib.request

    base = args.base_url.rstrip("/")
    if not base.endswith("/api/v2"):
        base += "/api/v2"

    def get_json(path: str) -> Any:
        request = urllib.request.Request(base + path, headers={"Coder-Session-Token": args.token})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    owner = args.owner or args.token.partition("-")[0]
    try:
        fixture = _fetch_fixture(args.api)(get_json, owner, args.chat)
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace").strip()
        print(f"chats-mock: {error.url}: {error.code} {body}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as error:
        print(f"chats-mock: cannot reach {base}: {error}", file=sys.stderr)
        return 1
    except ServerOfAnotherGeneration as error:
        # Exit 2 as for a wrong option: the command, not the server, is what to change.
        others = " or ".join(f"--api {api}" for api in API_GENERATIONS if api != args.api)
        print(
            f"chats-mock fixtures export: {base} does not answer as the {args.api} API ({error});"
            f" for a server of another generation give {others}",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(fixture_text(fixture, as_json=args.json))
    return 0
