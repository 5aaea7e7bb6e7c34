"""Whether this installation holds the package data the commands read.

A wheel built without its data (package data not declared, a file left out) imports fine and then
fails deep inside a command with a traceback; `chats-mock` asks here first and says so in one line.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["missing_package_data"]

# (package, file): what some command reads from the installed packages, not from a checkout.
_PACKAGE_DATA = (
    ("coder_chats_openapi", "chats.yaml"),  # the document: serve, spec, verify
    ("coder_chats_openapi", "control.yaml"),  # the control plane's document: serve --control
    ("coder_chats_openapi", "chats-api-docs.md"),  # Coder's docs page: spec check-docs
    ("mockserver.core", "scenario_library/echo.yaml"),  # the default built-in scenario: serve
)


def missing_package_data() -> list[str]:
    """Where each packaged file the commands read should be and is not (empty when all are there)."""
    missing: list[str] = []
    for package, name in _PACKAGE_DATA:
        try:
            path = resources.files(package).joinpath(*name.split("/"))
        except ModuleNotFoundError:
            missing.append(f"{package}/{name} (no package {package})")
            continue
        if not path.is_file():
            missing.append(str(path))
    return missing
