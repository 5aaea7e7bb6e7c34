"""Fixture files, whatever generation they hold: reading, the version and `api` check, owners.

A fixture file is YAML (or JSON, which is YAML):

    chats_mock_fixture: 1
    api: current            # absent: the seed's generation (v1)
    chats: [...]            # one entry per chat, in the generation's own shape

Each generation turns its entries into store rows (`mockserver.v1.fixtures`,
`mockserver.current.fixtures`); this module does what is the same for all of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from mockserver.core.directory import Directory
from mockserver.core.models import User

__all__ = [
    "FIXTURE_VERSION",
    "FixtureError",
    "ServerOfAnotherGeneration",
    "fixture_document",
    "fixture_text",
    "load_entries",
    "load_files",
    "owner_of",
    "parse_time",
    "read_fixture",
]

# The version key every fixture carries; a later format would bump it.
FIXTURE_VERSION = 1
# The generation a file without an `api` key holds (files written before there were two).
_DEFAULT_API = "v1"

# Loads one chat entry (a mapping) into the store; raises FixtureError, KeyError, TypeError or ValueError.
EntryLoader = Callable[[Mapping[str, Any]], None]


class FixtureError(ValueError):
    """A fixture the mock cannot load; the message says where and why."""


class ServerOfAnotherGeneration(ValueError):
    """An export read answers of another generation's shape; the message says which answer."""

    def __init__(self, api: str, what: str) -> None:
        super().__init__(what)
        self.api = api  # the generation the export expected


def fixture_document(entries: Iterable[Mapping[str, Any]], api: str) -> dict[str, Any]:
    """A fixture of these chat entries for generation `api` (v1 files carry no `api` key)."""
    fixture: dict[str, Any] = {"chats_mock_fixture": FIXTURE_VERSION}
    if api != _DEFAULT_API:
        fixture["api"] = api
    fixture["chats"] = list(entries)
    return fixture


def fixture_text(fixture: Mapping[str, Any], *, as_json: bool = False) -> str:
    """A fixture file's text: YAML, or JSON when asked."""
    if as_json:
        return json.dumps(fixture, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(dict(fixture), sort_keys=False, allow_unicode=True, width=100)


def read_fixture(path: Path) -> Any:
    """A fixture file parsed (not yet checked); FixtureError names the file and, for YAML, the line."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FixtureError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise FixtureError(f"{path}: cannot read: not UTF-8 text (byte {error.start})") from None
    except yaml.MarkedYAMLError as error:
        line = "" if error.problem_mark is None else f":{error.problem_mark.line + 1}"
        raise FixtureError(f"{path}{line}: not YAML: {error.problem}") from None
    except yaml.YAMLError as error:
        raise FixtureError(f"{path}: not YAML: {error}") from None


def load_entries(fixture: Any, api: str, load: EntryLoader, *, source: str) -> int:
    """Check a parsed fixture's version and generation, then load each chat entry; returns the count.

    A malformed entry raises FixtureError naming `source` and `chats[i]`.
    """
    if not isinstance(fixture, dict) or fixture.get("chats_mock_fixture") != FIXTURE_VERSION:
        raise FixtureError(
            f"{source}: not a chats-mock fixture (want `chats_mock_fixture: {FIXTURE_VERSION}`)"
        )
    held = fixture.get("api", _DEFAULT_API)
    if held != api:
        how = f"`api: {held}`" if "api" in fixture else "no `api` key"
        raise FixtureError(f"{source}: holds chats of the {held} API ({how}); it cannot seed --api {api}")
    chats = fixture.get("chats")
    if not isinstance(chats, list):
        raise FixtureError(f"{source}: `chats` must be a list")
    for index, entry in enumerate(chats):
        where = f"{source}: chats[{index}]"
        try:
            if not isinstance(entry, dict):
                raise FixtureError(
                    f"an entry is a mapping (owner, chat, messages), not {type(entry).__name__}"
                )
            load(entry)
        except FixtureError as error:
            raise FixtureError(f"{where}: {error}") from None
        except (KeyError, TypeError, ValueError) as error:
            raise FixtureError(f"{where}: {type(error).__name__}: {error}") from None
    return len(chats)


def load_files(paths: Iterable[Path], api: str, load: EntryLoader) -> int:
    """Load fixture files of generation `api` in order; returns how many chats they held."""
    return sum(load_entries(read_fixture(path), api, load, source=str(path)) for path in paths)


def owner_of(directory: Directory, name: Any) -> User:
    """The mock's user an entry's `owner` names, by username or token id."""
    for user in directory.users:
        if name in (user.username, user.token_id):
            return user
    known = ", ".join(user.username for user in directory.users)
    raise FixtureError(f"owner {name!r} is no user of this mock (by username or token id; users: {known})")


def parse_time(raw: Any) -> datetime:
    """A timestamp of an entry (YAML may have read an unquoted one as a datetime already)."""
    if isinstance(raw, datetime):
        return raw
    return datetime.fromisoformat(str(raw))
