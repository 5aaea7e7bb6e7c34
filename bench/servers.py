"""The servers under test: every command line lives here, so adding another is one entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEMO_TOKEN", "ServerSpec", "document_of", "server_specs"]

# The mock's seeded demo user; Prism only checks that some token is present.
DEMO_TOKEN = "alice00001-AliceDemoSessionSecret"


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """How to start one server and where it serves the document's paths."""

    name: str
    argv: tuple[str, ...]  # "{port}" in an argument is replaced by the port
    base_path: str  # prefix before the document's paths, e.g. "/api/v2"
    token: str = DEMO_TOKEN
    environment: Mapping[str, str] = field(default_factory=dict)  # set over the harness's own

    def command(self, port: int, **values: str) -> list[str]:
        """The command line for a server listening on port ("{name}" in an argument is values[name])."""
        filled = {"port": str(port), **values}
        argv = []
        for arg in self.argv:
            for name, value in filled.items():
                arg = arg.replace("{" + name + "}", value)
            argv.append(arg)
        return argv


def document_of(root: Path, api: str) -> Path:
    """The OpenAPI document of a generation (`serve --api` names)."""
    if api == "current":
        return root / "openapi" / "current" / "chats.yaml"
    return root / "openapi" / "chats.yaml"


def server_specs(
    root: Path, python: str, mock_args: Sequence[str] = (), api: str = "v1"
) -> dict[str, ServerSpec]:
    """The known servers, by name, for the checkout at root, serving generation `api`."""
    return {
        # The mock serves the document's `servers` URL, /api/v2. `serve` checks requests always
        # and answers only with --validate-responses, which mock_args can carry.
        "mock": ServerSpec(
            name="mock",
            argv=(
                python,
                "-m",
                "mockserver",
                "serve",
                "--api",
                api,
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                *mock_args,
            ),
            base_path="/api/v2",
        ),
        # Prism ignores a relative servers URL and serves the paths at the root.
        # --verboseLevel silent drops the per-request log lines (the "quiet logging" baseline);
        # --errors stays off (its default), so Prism answers without judging violations.
        "prism": ServerSpec(
            name="prism",
            argv=(
                str(root / "bench" / "node_modules" / ".bin" / "prism"),
                "mock",
                "-h",
                "127.0.0.1",
                "-p",
                "{port}",
                "--verboseLevel",
                "silent",
                str(document_of(root, api)),
            ),
            base_path="",
        ),
        # The ceiling: a bare Starlette app on serve's own server stack (bench/ceiling.py),
        # answering GET chat with the JSON the mock answered it with in this run.
        "ceiling": ServerSpec(
            name="ceiling",
            argv=(python, str(root / "bench" / "ceiling.py"), "--port", "{port}", "--body", "{body}"),
            base_path="/api/v2",
        ),
    }
