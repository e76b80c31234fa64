"""What a benchmark run found: one row per measurement, each with its baseline and ratio.

A ratio is always *Houqin's cost over the baseline's* for the same work (time over time), so
1.0 means "as fast as the baseline" and 2.0 "twice the time" — except where a row says otherwise
(the naive-Prefect row divides the naive design's time by Houqin's, so bigger is better).
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.findings import FINDINGS


def code_version() -> str:
    """The commit measured, and whether the measured code had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "houqin", "calendars", "notifications", "plans")
    return f"commit {head}" + (" with uncommitted changes in the core" if dirty else "")


@dataclass
class Row:
    measure: str
    value: float  # the figure, in ``unit``
    unit: str
    baseline: str = ""  # what it was compared with, and the baseline's figure
    ratio: float | None = None
    ratio_means: str = "× baseline time"
    target: str = ""
    met: bool | None = None  # None: no target for this row


@dataclass
class Section:
    key: str  # launch | sweep | delivery | ticks | overdue | memory
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: object, **kwargs: object) -> Row:
        row = Row(*args, **kwargs)  # type: ignore[arg-type]
        self.rows.append(row)
        return row


@dataclass
class Results:
    started: datetime
    scale: str
    database: str = ""  # the generated database's name (dropped at the end unless kept)
    code: str = field(default_factory=code_version)  # taken at the start: the code imported
    items: int = 0
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def section(self, key: str, title: str) -> Section:
        found = Section(key, title)
        self.sections.append(found)
        return found

    def by_key(self) -> dict[str, Section]:
        return {s.key: s for s in self.sections}


def fmt(value: float, unit: str) -> str:
    if unit in ("s", "ms") or value < 10:
        text = f"{value:,.3g}" if value < 10 else f"{value:,.1f}"
    else:
        text = f"{value:,.0f}"
    return f"{text} {unit}"


def _ratio(row: Row) -> str:
    if row.ratio is None:
        return "—"
    number = f"{row.ratio:,.0f}" if row.ratio >= 100 else f"{row.ratio:.2f}"
    return f"{number} {row.ratio_means}"


def _verdict(row: Row) -> str:
    if row.met is None:
        return row.target
    return f"{row.target}: **{'met' if row.met else 'MISSED'}**"


def machine() -> str:
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return (
        f"{cores} cores (`nproc`), {mem_kb / 2**20:.1f} GiB memory, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )


def markdown(results: Results, *, postgres: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench` (see docs/benchmark.md); every ratio compares two runs in",
        "the same process against the same database, because absolute times on a shared",
        "machine are noisy.",
        "",
        f"- date: {results.started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- database: {postgres}",
        f"- code: {results.code}",
        f"- scale: {results.scale}",
        f"- run took {results.seconds:,.0f} s",
        "",
        "| section | measure | figure | baseline | ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    for section in results.sections:
        for row in section.rows:
            lines.append(
                f"| {section.title} | {row.measure} | {fmt(row.value, row.unit)} | "
                f"{row.baseline or '—'} | {_ratio(row)} | {_verdict(row)} |"
            )
    for section in results.sections:
        if section.notes:
            lines += ["", f"## {section.title}", ""]
            lines += [f"- {note}" for note in section.notes]
    if results.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in results.notes]
    lines += ["", FINDINGS.rstrip()]
    return "\n".join(lines) + "\n"
