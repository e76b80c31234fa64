"""Assessment standards: the YAML files in plans/standards/, read and checked in full.

A standard is data a school edits (KPIs, weights, five levels, bands, deductions, one-vote
vetoes), so, as with plan templates, the file is composed into YAML nodes and every problem is
reported with its file, line and field; a file with any problem loads nothing.
The format is described in docs/reports.md and in the comments of primary_school.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from houqin.errors import NotFound, Problem, ValidationFailed

SOURCES = ("daily", "special", "third_party")  # 日常检查, 专项督查, 第三方评估 (004)
LEDGER_INPUTS = {  # ledger measure -> the unit it yields
    "on_time_rate": "percent", "late_count": "count",
    "repair_response": "percent", "repair_completion": "percent",
}  # fmt: skip
UNITS = ("percent", "points", "count")


@dataclass(frozen=True)
class Title:
    zh: str
    en: str | None = None

    def label(self, lang: str = "zh-CN") -> str:
        return self.en if self.en and not lang.startswith("zh") else self.zh


@dataclass(frozen=True)
class KpiInput:
    kind: str  # a LEDGER_INPUTS key, or "inspection"
    roles: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    limit_minutes: float | None = None
    limit_hours: float | None = None
    sources: tuple[tuple[str, float], ...] = ()  # inspection: (source, weight), weights sum to 1


@dataclass(frozen=True)
class Kpi:
    key: str
    title: Title
    category: str
    weight: float
    unit: str
    better: str  # higher | lower
    input: KpiInput
    levels: tuple[float, float, float, float]  # the bounds of levels 5, 4, 3, 2

    def level(self, value: float) -> int:
        """1–5: the best level whose bound the value meets (at least, or at most if lower)."""
        for level, bound in zip((5, 4, 3, 2), self.levels, strict=True):
            if (value >= bound) if self.better == "higher" else (value <= bound):
                return level
        return 1


@dataclass(frozen=True)
class Category:
    key: str
    title: Title
    weight: float
    kpis: tuple[Kpi, ...]


@dataclass(frozen=True)
class Band:
    key: str
    min: float
    title: Title


@dataclass(frozen=True)
class Deduction:
    key: str
    title: Title
    points: float
    max: float | None


@dataclass(frozen=True)
class Veto:
    """A one-vote veto (一票否决): when it fires, the result is at most ``max_band``.

    Without ``max_band`` it is the last band (000 篇2: "不能评为先进单位或合格单位"); a veto
    that only bars an award names the highest band still open (003: 年度后勤评先 → qualified).
    """

    key: str
    title: Title
    source: str | None
    max_band: str | None = None


@dataclass(frozen=True)
class Standard:
    key: str
    title: Title
    source: str | None
    level_names: dict[int, Title]
    supervision: tuple[tuple[str, float], ...]
    bands: tuple[Band, ...]  # highest first; the last is where a veto puts the result by default
    categories: tuple[Category, ...]
    deductions: tuple[Deduction, ...]
    vetoes: tuple[Veto, ...]
    path: str

    @property
    def kpis(self) -> tuple[Kpi, ...]:
        return tuple(k for c in self.categories for k in c.kpis)

    def band(self, total: float) -> Band:
        return next((b for b in self.bands if total >= b.min), self.bands[-1])

    def entry(self, key: str) -> Kpi | Veto | Deduction | None:
        """What a person-entered score with ``kpi=key`` counts towards, if anything."""
        found: list[Kpi | Veto | Deduction] = [*self.kpis, *self.vetoes, *self.deductions]
        return next((x for x in found if x.key == key), None)


def builtin_standards_dir() -> Path:
    return Path(__file__).parent.parent / "plans" / "standards"


def load_standards(dirs: Iterable[Path] | None = None) -> dict[str, Standard]:
    """Every *.yaml in ``dirs`` (default: the built-in ones); any problem anywhere loads none."""
    problems: list[Problem] = []
    found: dict[str, Standard] = {}
    for d in dirs if dirs is not None else [builtin_standards_dir()]:
        for path in sorted(Path(d).glob("*.yaml")) if Path(d).is_dir() else [Path(d)]:
            try:
                standard = load_standard(path)
            except ValidationFailed as exc:
                problems += exc.problems
                continue
            if standard.key in found:
                problems.append(
                    Problem(
                        str(path),
                        None,
                        "key",
                        f"{standard.key!r} is already used by {found[standard.key].path}",
                    )
                )
            found[standard.key] = standard
    if problems:
        raise ValidationFailed(problems)
    return found


def get_standard(key: str, dirs: Iterable[Path] | None = None) -> Standard:
    standards = load_standards(dirs)
    if key not in standards:
        raise NotFound(f"no standard {key!r}; known: {', '.join(sorted(standards))}")
    return standards[key]


def load_standard(path: Path, known_plans: Iterable[str] | None = None) -> Standard:
    shown = str(path)
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except OSError as exc:
        raise ValidationFailed([Problem(shown, None, "", f"cannot read: {exc.strerror}")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = Problem(
            shown, mark.line + 1 if mark else None, "", f"YAML syntax error: {exc.problem}"
        )
        raise ValidationFailed([problem]) from None
    if root is None:
        raise ValidationFailed([Problem(shown, None, "", "the file is empty")])
    from houqin.reports.standard_file import read

    standard, problems = read(root, shown, set(known_plans) if known_plans is not None else None)
    if problems or standard is None:
        raise ValidationFailed(problems)
    return standard
