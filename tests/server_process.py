"""A server started as a command (a console script, make), on a port, stopped with its children."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving_command(
    argv: Sequence[str], port: int, *, cwd: Path, env: Mapping[str, str], timeout: float = 60
) -> Iterator[str]:
    """Run `argv` until it accepts connections on 127.0.0.1:`port`; yields that root URL.

    The command runs in a session of its own, so that stopping it stops what it started (make
    starts chats-mock). If it exits before it listens, the failure shows its output.
    """
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_listening(process, port, output, timeout)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


def _wait_until_listening(
    process: subprocess.Popen[bytes], port: int, output: tempfile._TemporaryFileWrapper[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            output.seek(0)
            raise AssertionError(f"exited {process.returncode} before listening:\n{output.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on port {port} after {timeout} s") from None
            time.sleep(0.05)  # waiting for a real process to bind: there is no clock to push


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def serve_process(
    *argv: str, env: Mapping[str, str] | None = None, banner: list[str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`python -m mockserver serve --port 0 ARGV`, once its banner says it listens; yields it and its port.

    `banner`, when given, receives the banner's first line (the rest is the caller's to read).

    Killed at the end if it still runs; the caller may stop it first and read its exit code.
    """
    with subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else dict(env),
    ) as process:
        try:
            first_line = _first_line(process)
            assert first_line.startswith("coder-chats-mock: the Chats API at http://127.0.0.1:"), first_line
            port = int(first_line.split("http://127.0.0.1:")[1].split("/")[0])
            if banner is not None:
                banner.append(first_line)
            yield process, port
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)


def _first_line(process: subprocess.Popen[str]) -> str:
    """The process's first line of output, read a byte at a time from the pipe itself.

    `readline` on the text stream would buffer what follows it (the banner's other lines), and
    `communicate` reads the pipe's file descriptor, not that buffer: those lines would be lost.
    """
    assert process.stdout is not None
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = os.read(process.stdout.fileno(), 1)
        if not byte:
            break
        line += byte
    return line.decode()
