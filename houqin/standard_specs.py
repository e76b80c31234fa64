"""What an assessment standard holds: KPIs by category, weights, five levels, bands,
deductions and one-vote vetoes (the seeds' 004 and 005 schemes as data).

Data only: ``houqin.standard_reader`` builds these from a file, ``houqin.standards`` finds the
files. The format is described in docs/reports.md and in plans/standards/primary_school.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

from houqin.bilingual import Bilingual
from houqin.school_profiles import AppliesTo

SOURCES = ("daily", "special", "third_party")  # 日常检查, 专项督查, 第三方评估 (004)
LEDGER_INPUTS = {  # ledger measure -> the unit it yields
    "on_time_rate": "percent",
    "late_count": "count",
    "repair_response": "percent",
    "repair_completion": "percent",
}
UNITS = ("percent", "points", "count")


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
    title: Bilingual
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
    title: Bilingual
    weight: float
    kpis: tuple[Kpi, ...]


@dataclass(frozen=True)
class Band:
    key: str
    min: float
    title: Bilingual


@dataclass(frozen=True)
class Deduction:
    key: str
    title: Bilingual
    points: float
    max: float | None


@dataclass(frozen=True)
class Veto:
    """A one-vote veto (一票否决): when it fires, the result is at most ``max_band``.

    Without ``max_band`` it is the last band (000 篇2: "不能评为先进单位或合格单位"); a veto
    that only bars an award names the highest band still open (003: 年度后勤评先 → qualified).
    """

    key: str
    title: Bilingual
    source: str | None
    max_band: str | None = None


@dataclass(frozen=True)
class Standard:
    key: str
    title: Bilingual
    source: str | None
    level_names: dict[int, Bilingual]
    supervision: tuple[tuple[str, float], ...]
    bands: tuple[Band, ...]  # highest first; the last is where a veto puts the result by default
    categories: tuple[Category, ...]
    deductions: tuple[Deduction, ...]
    vetoes: tuple[Veto, ...]
    path: str
    applies: AppliesTo | None = None  # which kinds of school it is for (school_profiles)

    @property
    def kpis(self) -> tuple[Kpi, ...]:
        return tuple(k for c in self.categories for k in c.kpis)

    def band(self, total: float) -> Band:
        return next((b for b in self.bands if total >= b.min), self.bands[-1])

    def entry(self, key: str) -> Kpi | Veto | Deduction | None:
        """What a person-entered score with ``kpi=key`` counts towards, if anything."""
        found: list[Kpi | Veto | Deduction] = [*self.kpis, *self.vetoes, *self.deductions]
        return next((x for x in found if x.key == key), None)
