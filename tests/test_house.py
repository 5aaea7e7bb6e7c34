"""The house's arrows: each room of mockserver/ imports only from the rooms below it (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MOCKSERVER = Path(__file__).resolve().parent.parent / "mockserver"

# What each room may import from (besides itself). The core knows no HTTP and no generation; the
# edge is HTTP shared by every generation; a generation imports from core and edge, never from the
# registry that picks it (app/) nor from a sibling generation; only command/ sees everything.
ALLOWED = {
    "core": set(),
    "edge": {"core"},
    "spec": set(),
    "control": {"core", "edge"},
    "v1": {"core", "edge"},
    "current": {"core", "edge"},
    "server": {"core", "edge"},
    "app": {"core", "edge", "control", "v1", "current"},
    "command": {"core", "edge", "control", "v1", "current", "app", "server", "spec"},
}


def imported_rooms(path: Path) -> set[str]:
    """The rooms of mockserver/ that one module imports from."""
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "mockserver" and len(parts) > 1:
                rooms.add(parts[1])
    return rooms


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_a_room_imports_only_from_the_rooms_below_it(room: str) -> None:
    wrong = {
        f"{path.relative_to(MOCKSERVER)} imports mockserver.{other}"
        for path in (MOCKSERVER / room).rglob("*.py")
        for other in imported_rooms(path) - ALLOWED[room] - {room}
    }

    assert sorted(wrong) == []


def test_every_room_has_its_arrows_written_down() -> None:
    rooms = {path.name for path in MOCKSERVER.iterdir() if (path / "__init__.py").exists()}

    assert rooms == set(ALLOWED)


def test_no_serving_module_sits_loose_at_the_top() -> None:
    # Only the package's public names and `python -m mockserver` live at the top; the rest has a room.
    assert sorted(path.name for path in MOCKSERVER.glob("*.py")) == ["__init__.py", "__main__.py"]
