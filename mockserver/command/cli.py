"""The `chats-mock` command: serve the mock, check the document, verify a server."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from contracts.cli import add_verify_command
from mockserver.app.generations import API_GENERATIONS
from mockserver.command.capacity_options import (
    add_capacity_arguments,
    capacity_settings,
    store_limits,
    store_line,
)
from mockserver.command.installation import missing_package_data
from mockserver.command.scenario_options import add_fixtures_commands, add_serve_options
from mockserver.control.options import add_control_arguments, control_settings
from mockserver.core.directory import DEMO_TOKENS, Directory, mask_token
from mockserver.server.serving import add_serving_arguments
from mockserver.spec.commands import add_spec_commands

__all__ = ["main"]


def _parse_tokens(values: Sequence[str]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for index, value in enumerate(values, start=1):
        name, sep, token = value.rpartition("=")
        tokens[name if sep and name else f"user{index}"] = token
    return tokens


def _serve(args: argparse.Namespace) -> int:
    """Serve the mock until interrupted (SIGTERM or Ctrl-C stop it within --shutdown-timeout, exit code 0)."""
    from mockserver.app.factory import Settings, create_app
    from mockserver.command.scenario_options import StartupError, serve_parts
    from mockserver.core.stopping import Stopping
    from mockserver.edge.prepared_document import default_cache_dir
    from mockserver.server.collector import settle_collector
    from mockserver.server.serving import BindError, bind, limits_from_args, serve

    try:
        directory = Directory.from_tokens(_parse_tokens(args.token) if args.token else DEMO_TOKENS)
    except ValueError as error:
        print(f"chats-mock: bad --token: {error}", file=sys.stderr)
        return 2
    stopping = Stopping()
    try:
        limits = limits_from_args(args)
        parts = serve_parts(args, directory)
        settings = Settings(
            api=args.api,
            validate_responses=args.validate_responses,
            dashboard=args.dashboard,
            ui_model_routes=args.ui_model_routes,
            limits=limits,
            document_cache=default_cache_dir(),
            **control_settings(args),
            **capacity_settings(args),
        )
        app = create_app(settings, directory=directory, stopping=stopping, **parts.as_kwargs())
    except (StartupError, OSError, ValueError) as error:
        print(f"chats-mock: {_one_line(error)}", file=sys.stderr)
        return 2
    try:
        sockets = bind(args.host, args.port)
    except BindError as error:
        print(f"chats-mock: {error}", file=sys.stderr)
        return 1
    settle_collector()  # start-up's objects frozen, collections short (mockserver/server/collector)

    def started() -> None:
        _print_banner(sys.stdout, args.api, args.host, sockets[0].getsockname()[1], directory)
        print(f"  {store_line(store_limits(args))}", flush=True)
        if settings.control:
            print(
                "  control plane at /__mock: /__mock/openapi.json (openapi/control.yaml), Swagger UI at /__mock/ui/",
                flush=True,
            )

    serve(
        app,
        sockets,
        limits=limits,
        stopping=stopping,
        shutdown_timeout=args.shutdown_timeout,
        log_level=args.log_level,
        access_log=args.access_log,
        on_started=started,
        secrets=[user.token for user in directory.users],
    )
    return 0


def _one_line(error: Exception) -> str:
    """An error's message on one line (a YAML parser's, say, spans several)."""
    return " ".join(str(error).split())


# What the banner says of each generation: which API it is, and its documents under openapi/.
_GENERATION_BANNERS = {
    "v1": ("the seed's generation", "openapi/chats.yaml", "openapi/chats.asyncapi.yaml"),
    "current": ("today's generation", "openapi/current/chats.yaml", "openapi/current/chats.asyncapi.yaml"),
}


def _print_banner(out: TextIO, api: str, host: str, port: int, directory: Directory) -> None:
    from mockserver.command.version import pinned_coder_commit

    shown_host = f"[{host}]" if ":" in host else host
    which, document, websockets = _GENERATION_BANNERS[api]
    other = "; today's Coder: --api current" if api != "current" else ""
    # Today's API is also mounted where Coder's own UI calls it, as coderd mounts it.
    also = " and /api/experimental" if api == "current" else ""
    out.write(
        f"coder-chats-mock: the Chats API at http://{shown_host}:{port}/api/v2{also}, {which}"
        f" (--api {api}: coder/coder@{pinned_coder_commit(api)[:8]}{other})\n"
        f"  documents: /api/v2/openapi.json ({document}), Swagger UI at /api/v2/ui/;"
        f" its WebSockets: {websockets}\n"
    )
    for user in directory.users:
        workspaces = ", ".join(str(w.id) for w in directory.workspaces_of(user))
        # The demo users' tokens are public (README); a --token user's is shown by its id only.
        token = user.token if DEMO_TOKENS.get(user.username) == user.token else mask_token(user.token)
        out.write(f"  user {user.username}: Coder-Session-Token: {token}  (workspace {workspaces})\n")
    out.flush()


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what is wrong, and where the help is.

    argparse's own error prints the usage first, and serve's usage is a dozen lines that bury the
    one that says what is wrong (say, in `make serve ARGS="--port x"`). Subcommands' parsers are
    of this class too (add_subparsers makes them of the parent's class).
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _PrintVersion(argparse.Action):
    """`--version`: like argparse's version action, but the text is read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from mockserver.command.version import version_text

        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `chats-mock`."""
    parser: argparse.ArgumentParser = _Parser(
        prog="chats-mock", description="A stub backend and contract suite for Coder's Chats API."
    )
    parser.add_argument(
        "--version",
        action=_PrintVersion,
        help="print the version and the coder/coder commit each --api generation is true to",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the mock Chats API", description=_serve.__doc__)
    serve.add_argument(
        "--api",
        choices=API_GENERATIONS,
        default=API_GENERATIONS[0],
        help=f"which generation of Coder's Chats API to serve (default: {API_GENERATIONS[0]})",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind (default: 8080)")
    serve.add_argument(
        "--token",
        action="append",
        metavar="[NAME=]TOKEN",
        help="a user's session token, <10-char id>-<22-char secret>; repeat for more users "
        "(default: the demo users alice and bob)",
    )
    serve.add_argument(
        "--speed", type=float, default=1.0, help="run agent delays this many times faster (default: 1)"
    )
    serve.add_argument(
        "--validate-responses",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="check each answer against the document, a 500 if it strays (default: off, for speed; "
        "tests and create_app() keep it on)",
    )
    serve.add_argument(
        "--dashboard",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --api current, also answer what Coder's web UI asks around its Agents page "
        "(users/me, entitlements, workspaces, ...; default: on)",
    )
    serve.add_argument(
        "--ui-model-routes",
        action="store_true",
        help="with --api current, also answer /api/experimental/chats/models and /model-configs, "
        "which a Coder UI older than the pinned server reads for its model picker (coderd: 404)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level (default: warning)")
    add_control_arguments(serve)
    add_serve_options(serve)
    add_serving_arguments(serve)
    add_capacity_arguments(serve)
    serve.set_defaults(func=_serve)

    add_spec_commands(commands)
    add_verify_command(commands)
    add_fixtures_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `chats-mock` with the given arguments; returns the exit code."""
    args = build_parser().parse_args(argv)
    missing = missing_package_data()
    if missing:
        print(
            f"chats-mock: this installation of coder-chats-mock lacks its data ({', '.join(missing)}); "
            "reinstall it",
            file=sys.stderr,
        )
        return 2
    if args.func is not _serve:
        gc.enable()  # paused by mockserver.command.startup; only `serve` keeps it off until it is built
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
