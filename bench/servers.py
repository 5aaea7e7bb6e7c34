"""The servers under test: every command line lives here, so adding a third is one entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEMO_TOKEN", "ServerSpec", "server_specs"]

# The mock's seeded demo user; Prism only checks that some token is present.
DEMO_TOKEN = "alice00001-AliceDemoSessionSecret"


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """How to start one server and where it serves the document's paths."""

    name: str
    argv: tuple[str, ...]  # "{port}" in an argument is replaced by the port
    base_path: str  # prefix before the document's paths, e.g. "/api/v2"
    token: str = DEMO_TOKEN

    def command(self, port: int) -> list[str]:
        """The command line for a server listening on port."""
        return [arg.replace("{port}", str(port)) for arg in self.argv]


def server_specs(root: Path, python: str, mock_args: Sequence[str] = ()) -> dict[str, ServerSpec]:
    """The known servers, by name, for the checkout at root."""
    document = str(root / "openapi" / "chats.yaml")
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
                document,
            ),
            base_path="",
        ),
    }
