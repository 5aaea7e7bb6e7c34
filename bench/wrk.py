"""Driving wrk: the Lua script for one request, its command line, and parsing its output."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["WrkError", "WrkResult", "lua_script", "parse_output", "wrk_argv"]

_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


class WrkError(ValueError):
    """wrk's output lacks a figure the harness needs."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """The figures of one wrk run."""

    requests: int
    duration_s: float
    req_per_s: float
    p50_s: float
    p99_s: float
    non_2xx_3xx: int
    socket_errors: int

    @property
    def errors(self) -> int:
        """Responses with status >= 400 plus connect/read/write/timeout errors."""
        return self.non_2xx_3xx + self.socket_errors


def _lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def lua_script(
    method: str, path: str, headers: Mapping[str, str], body: str | None, rotate: Sequence[str] = ()
) -> str:
    """A wrk script that sends the same request on every connection (or, with `rotate`, the
    same request to each of those paths in turn)."""
    lines = [f"wrk.method = {_lua_string(method)}", f"wrk.path = {_lua_string(path)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
    if rotate:
        lines.append("local paths = {" + ", ".join(_lua_string(p) for p in rotate) + "}")
        lines += [
            "local sent = 0",
            "request = function()",
            "  sent = sent + 1",
            "  return wrk.format(nil, paths[(sent % #paths) + 1])",
            "end",
        ]
    return "\n".join(lines) + "\n"


def wrk_argv(url: str, script: str, *, threads: int, connections: int, duration_s: float) -> list[str]:
    """The wrk command line for one run, with the latency distribution on."""
    return [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration_s))}s",
        f"--script={script}",
        "--latency",
        url,
    ]


def _seconds(value: str, unit: str) -> float:
    return float(value) * _UNITS_S[unit]


def _search(pattern: str, text: str, what: str) -> re.Match[str]:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise WrkError(f"wrk output has no {what}:\n{text}")
    return match


def _percentile(text: str, percent: int) -> float:
    match = _search(rf"^\s+{percent}%\s+{_DURATION}\s*$", text, f"{percent}% latency")
    return _seconds(match[1], match[2])


def _socket_errors(text: str) -> int:
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return 0 if match is None else sum(int(g) for g in match.groups())


def parse_output(text: str) -> WrkResult:
    """Read the figures of a `wrk --latency` run from its standard output."""
    done = _search(rf"^\s*(\d+) requests in {_DURATION}", text, "request count")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return WrkResult(
        requests=int(done[1]),
        duration_s=_seconds(done[2], done[3]),
        req_per_s=float(_search(r"^Requests/sec:\s+([\d.]+)", text, "Requests/sec")[1]),
        p50_s=_percentile(text, 50),
        p99_s=_percentile(text, 99),
        non_2xx_3xx=0 if non_2xx is None else int(non_2xx[1]),
        socket_errors=_socket_errors(text),
    )
