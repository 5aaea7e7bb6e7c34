"""CPU time and resident memory of a process tree, read from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcTree", "cpu_busy_ticks"]


@dataclass(frozen=True, slots=True)
class ProcTree:
    """A process and its descendants, as /proc shows them."""

    pid: int
    proc: Path = Path("/proc")  # injected so a test can hand in a fake tree
    ticks_per_s: int = os.sysconf("SC_CLK_TCK")

    def _stat_fields(self, pid: int) -> list[str]:
        # The command name (field 2) may hold spaces; fields after it follow the last ')'.
        text = (self.proc / str(pid) / "stat").read_text()
        return text[text.rindex(")") + 2 :].split()

    def pids(self) -> list[int]:
        """The root pid and every live descendant."""
        children: dict[int, list[int]] = {}
        for entry in self.proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int(self._stat_fields(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue  # the process ended while we looked
            children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the tree (utime+stime, fields 14 and 15)."""
        total = 0
        for pid in self.pids():
            try:
                fields = self._stat_fields(pid)
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / self.ticks_per_s

    def rss_bytes(self) -> int:
        """The summed VmRSS of the tree."""
        total = 0
        for pid in self.pids():
            try:
                status = (self.proc / str(pid) / "status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total


def cpu_busy_ticks(cpu: int, proc: Path = Path("/proc")) -> tuple[int, int]:
    """(busy, total) clock ticks of one CPU since boot; busy counts stolen time, not idle or iowait."""
    prefix = f"cpu{cpu} "
    for line in (proc / "stat").read_text().splitlines():
        if line.startswith(prefix):
            # user nice system idle iowait irq softirq steal
            ticks = [int(field) for field in line.split()[1:9]]
            return sum(ticks) - ticks[3] - ticks[4], sum(ticks)
    raise ValueError(f"no cpu{cpu} in {proc / 'stat'}")
