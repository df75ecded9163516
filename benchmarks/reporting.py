"""Shared reporting helpers of the benchmark scripts: progress lines, tables, machine facts."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.paths import PROJECT_ROOT as REPO

_STARTED = time.perf_counter()

__all__ = [
    "Report", "Table", "code_version", "cpu_model", "elapsed", "load_average", "log", "mem_total_gb", "percentile",
]


def elapsed() -> float:
    """Seconds since the benchmark started (since this module was imported)."""
    return time.perf_counter() - _STARTED


def log(message: str) -> None:
    """Progress line on stderr, with seconds since start."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def _is_number(cell: str) -> bool:
    text = cell.replace(",", "").rstrip("×%").strip()
    if text in ("—", "-", "n/a", ""):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class Table:
    """A titled table printed as aligned text and written as markdown."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Append a row; cells are turned into strings as given."""
        self.rows.append([str(c) for c in cells])

    def _right(self) -> list[bool]:
        return [bool(self.rows) and all(_is_number(r[i]) for r in self.rows) for i in range(len(self.headers))]

    def text(self) -> str:
        """The table as aligned plain text."""
        widths = [max([len(h)] + [len(r[i]) for r in self.rows]) for i, h in enumerate(self.headers)]
        right = self._right()

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
            ).rstrip()

        out = [self.title, "=" * len(self.title), line(self.headers), line(["-" * w for w in widths])]
        out += [line(r) for r in self.rows]
        out += [f"  * {n}" for n in self.notes]
        return "\n".join(out)

    def markdown(self) -> str:
        """The table as GitHub markdown under a level-3 heading."""
        right = self._right()
        out = [f"### {self.title}", "", "| " + " | ".join(self.headers) + " |"]
        out.append("| " + " | ".join("---:" if r else "---" for r in right) + " |")
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in self.rows]
        if self.notes:
            out.append("")
            out += [f"- {n}" for n in self.notes]
        return "\n".join(out)


@dataclass
class Report:
    """Everything printed, kept for the markdown file."""

    preamble: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def line(self, text: str) -> None:
        """A preamble line (command, machine)."""
        self.preamble.append(text)
        print(text, flush=True)

    def table(self, table: Table) -> None:
        """Print a finished table and keep it."""
        self.tables.append(table)
        print("\n" + table.text() + "\n", flush=True)

    def markdown(self) -> str:
        """The whole report as markdown."""
        parts = ["\n".join(f"{p}  " for p in self.preamble)]
        parts += [t.markdown() for t in self.tables]
        return "\n\n".join(parts) + "\n"

    def write(self, path: Path | None) -> None:
        """Write the markdown to ``path`` (its folder made if missing); nothing when ``path`` is ``None``."""
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown(), encoding="utf-8")
        log(f"markdown written to {path}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mem_total_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return float("nan")


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f}/{five:.2f}/{fifteen:.2f}"


def code_version() -> str:
    """The commit measured (read-only git), and whether the working tree differs from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")



def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation, as numpy's default); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(work: Callable[[], Any], repeat: int, *, warmup: int = 0) -> list[float]:
    """Milliseconds of each of ``repeat`` calls of ``work``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        work()
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        found.append((time.perf_counter() - started) * 1000.0)
    return found
