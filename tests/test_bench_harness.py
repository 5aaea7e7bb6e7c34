"""The benchmark harness's logic: wrk output parsing, Lua scripts, /proc reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bars import judge
from bench.endpoints import CURRENT_ENDPOINTS, Fixtures
from bench.procstat import ProcTree, cpu_busy_ticks
from bench.report import kept_sections, render
from bench.results import Measurement, Session, rows
from bench.wrk import WrkError, WrkResult, lua_script, parse_output

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:4010
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    33.98ms  110.80ms   1.07s    93.22%
    Req/Sec   248.23     98.84   585.00     85.00%
  Latency Distribution
     50%  812.00us
     75%   68.85ms
     90%   87.76ms
     99%    1.07s
  4250 requests in 5.00s, 2.63MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    849.91
Transfer/sec:    538.81KB
"""


def test_parse_output_reads_rate_percentiles_and_errors() -> None:
    result = parse_output(WRK_OUTPUT)
    assert result.requests == 4250
    assert result.duration_s == pytest.approx(5.0)
    assert result.req_per_s == pytest.approx(849.91)
    assert result.p50_s == pytest.approx(812e-6)
    assert result.p99_s == pytest.approx(1.07)
    assert (result.non_2xx_3xx, result.socket_errors, result.errors) == (7, 5, 12)


def test_parse_output_without_error_lines_counts_zero_errors() -> None:
    clean = "\n".join(
        line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )
    assert parse_output(clean).errors == 0


def test_parse_output_without_latency_distribution_is_an_error() -> None:
    with pytest.raises(WrkError, match="50% latency"):
        parse_output(WRK_OUTPUT.replace("50%", "51%"))


def test_lua_script_escapes_the_body() -> None:
    script = lua_script("POST", "/chats", {"Content-Type": "application/json"}, '{"a": "b\\n"}')
    assert script == (
        'wrk.method = "POST"\n'
        'wrk.path = "/chats"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.body = "{\\"a\\": \\"b\\\\n\\"}"\n'
    )


def _fake_process(proc: Path, pid: int, ppid: int, utime: int, stime: int, rss_kb: int) -> None:
    (proc / str(pid)).mkdir()
    # The name holds a space and a parenthesis, as /proc allows.
    fields = ["S", str(ppid), *["0"] * 9, str(utime), str(stime)]
    (proc / str(pid) / "stat").write_text(f"{pid} (node (x) y) " + " ".join(fields) + "\n")
    (proc / str(pid) / "status").write_text(f"Name:\tx\nVmRSS:\t {rss_kb} kB\n")


def test_proc_tree_sums_cpu_and_rss_of_descendants_only(tmp_path: Path) -> None:
    _fake_process(tmp_path, 10, 1, utime=100, stime=50, rss_kb=1000)
    _fake_process(tmp_path, 11, 10, utime=20, stime=10, rss_kb=200)
    _fake_process(tmp_path, 12, 11, utime=1, stime=1, rss_kb=10)
    _fake_process(tmp_path, 99, 1, utime=999, stime=999, rss_kb=9999)  # not ours
    tree = ProcTree(10, proc=tmp_path, ticks_per_s=100)
    assert sorted(tree.pids()) == [10, 11, 12]
    assert tree.cpu_seconds() == pytest.approx(1.82)
    assert tree.rss_bytes() == 1210 * 1024


def test_cpu_busy_ticks_counts_steal_but_not_idle_or_iowait(tmp_path: Path) -> None:
    (tmp_path / "stat").write_text(
        "cpu  9 9 9 9 9 9 9 9 0 0\n"
        "cpu0 10 1 5 500 7 2 3 4 0 0\n"  # user nice system idle iowait irq softirq steal guest ...
        "cpu1 90 0 0 10 0 0 0 0 0 0\n"
    )
    assert cpu_busy_ticks(0, proc=tmp_path) == (10 + 1 + 5 + 2 + 3 + 4, 532)
    assert cpu_busy_ticks(1, proc=tmp_path) == (90, 100)
    with pytest.raises(ValueError):
        cpu_busy_ticks(2, proc=tmp_path)


def _session(round_no: int, startup_s: float, first_start_s: float) -> Session:
    measurement = Measurement(
        server="mock",
        endpoint="GET chat",
        round=round_no,
        wrk=parse_output(WRK_OUTPUT),
        cpu_s=1.0,
        settle_s=0.2,
        rss_bytes=50 * 1024 * 1024,
    )
    return Session("mock", round_no, startup_s, 48 * 1024 * 1024, (measurement,), first_start_s)


def test_report_judges_the_warm_start_up_and_shows_the_first_start() -> None:
    sessions = [_session(1, 0.31, 0.62), _session(2, 0.33, 0.48), _session(3, 0.52, 0.30)]

    report = render(sessions, rows(sessions), {"date": "today"})

    # the warm start-ups 0.31/0.33/0.52 (median and range) and the first starts' median 0.48
    assert "| v1 | mock | 0.330 | 0.310-0.520 | 0.480 | 48 | 50 |" in report
    assert "- v1 mock: 0.310 (first 0.620), 0.330 (first 0.480), 0.520 (first 0.300)" in report
    # the bar judges the worst warm start-up, not a first start
    assert "| mock start-up ≤ 0.4 s (warm) | 0.520 s (worst of 3) | **FAIL** |" in report


def test_lua_script_with_paths_to_rotate_sends_each_in_turn() -> None:
    script = lua_script("POST", "/a", {}, "{}", rotate=["/a", "/b"])
    assert 'local paths = {"/a", "/b"}' in script
    assert "return wrk.format(nil, paths[(sent % #paths) + 1])" in script


def test_todays_send_message_goes_to_the_write_chats_in_turn() -> None:
    send = next(e for e in CURRENT_ENDPOINTS if e.name == "send message")
    fixtures = Fixtures(read_chat="r", write_chat="w1", write_chats=("w1", "w2"))
    assert [send.resolve(fixtures, i) for i in range(3)] == [
        "/chats/w1/messages",
        "/chats/w2/messages",
        "/chats/w1/messages",
    ]


def _run(server: str, endpoint: str, rate: float, cpu_s: float, *, api: str = "v1") -> Measurement:
    wrk = WrkResult(
        requests=1000,
        duration_s=1.0,
        req_per_s=rate,
        p50_s=0.002,
        p99_s=0.008,
        non_2xx_3xx=0,
        socket_errors=0,
    )
    return Measurement(server, endpoint, 1, wrk, cpu_s, 0.2, 0, api)


def test_the_bars_set_the_mock_against_prism_and_the_ceiling_of_the_same_run() -> None:
    runs = (
        _run("mock", "get chat", 3000, 0.12),  # 120 µs a request
        _run("mock", "send message", 1000, 0.30),
        _run("prism", "get chat", 900, 0.6),
        _run("prism", "send message", 400, 0.9),
        _run("ceiling", "get chat", 5000, 0.07),  # 70 µs
    )
    sessions = [Session(m.server, 1, 0.35, 0, (m,), 0.5) for m in runs]

    verdicts = {v.bar: (v.measured, v.holds) for v in judge(rows(sessions), sessions)}

    assert verdicts["v1 get chat: mock ≥ 3x Prism req/s"] == ("3.33x", True)
    assert verdicts["v1 send message: mock ≥ 3x Prism req/s"] == ("2.50x", False)
    assert verdicts["v1 get chat: mock ≥ 0.5x the ceiling's req/s"] == ("0.60x", True)
    assert verdicts["v1 get chat: mock CPU/request ≤ 2x the ceiling's GET chat"] == (
        "120 / 70 µs = 1.71x",
        True,
    )
    assert verdicts["v1 send message: mock CPU/request ≤ 4x the ceiling's GET chat"] == (
        "300 / 70 µs = 4.29x",
        False,
    )
    assert verdicts["v1 get chat: mock p99 ≤ 10 ms, no errors"] == ("8.00 ms", True)


def test_the_report_keeps_the_sections_other_commands_wrote(tmp_path: Path) -> None:
    report = tmp_path / "REPORT.md"
    report.write_text("# old head\n\n<!-- stream-bars: x -->\nbars\n\n<!-- fanout: y -->\nfanout\n")
    assert kept_sections("# new head\n", report) == (
        "# new head\n\n<!-- stream-bars: x -->\nbars\n\n<!-- fanout: y -->\nfanout\n"
    )
