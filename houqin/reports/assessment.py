"""Assessment scoring of one school for one period, by a standard in plans/standards/.

The formula (also printed in the report, so a reader can check every line):

    level_i   = 1–5 from KPI i's value and its four bounds; no value: 数据不足, no level
    score_i   = weight_i × level_i ÷ 5
    points    = Σ score_i over the KPIs with data                 (weights add up to 100)
    total     = max(points − Σ min(count_d × points_d, max_d), 0)
    band      = the first band whose min ≤ total, capped by each one-vote veto (一票否决) that
                fired at its max_band (by default the last band)

A KPI without data is never given a level: the total is then only known to lie between the
missing KPIs all at level 1 and all at level 5, and the result is a band only when both ends of
that range give the same one (a veto to the last band, say); otherwise it is 数据不足.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from houqin.models import School
from houqin.reports.measures import Input, Scope, entered_facts, measure, other_entries
from houqin.reports.windows import Window, parse_window
from houqin.standard_specs import Band, Category, Deduction, Kpi, Standard, Veto


@dataclass(frozen=True)
class KpiScore:
    kpi: Kpi
    inputs: tuple[Input, ...]
    value: float | None
    level: int | None  # None: 数据不足
    score: float | None  # weight × level ÷ 5; None: 数据不足

    @property
    def no_data(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class DeductionScore:
    deduction: Deduction
    count: float
    points: float  # min(count × points per finding, max)
    notes: tuple[str, ...]


@dataclass(frozen=True)
class VetoCheck:
    veto: Veto
    count: float
    notes: tuple[str, ...]

    @property
    def fired(self) -> bool:
        return self.count > 0


@dataclass
class Assessment:
    standard: Standard
    school_code: str
    school_name: str
    timezone: str
    window: Window
    now: datetime
    kpis: list[KpiScore]
    deductions: list[DeductionScore]
    vetoes: list[VetoCheck]
    points: float  # the KPIs with data
    deducted: float
    total_range: tuple[float, float]  # the missing KPIs all at level 1 … all at level 5
    other_entries: dict[str, int]  # scores entered under keys this standard does not count

    @property
    def fired(self) -> list[VetoCheck]:
        return [v for v in self.vetoes if v.fired]

    @property
    def missing(self) -> list[KpiScore]:
        """The KPIs without data (数据不足)."""
        return [k for k in self.kpis if k.no_data]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def total(self) -> float | None:
        """The total when every KPI has data; None while the score is incomplete."""
        return self.total_range[0] if self.complete else None

    @property
    def missing_weight(self) -> float:
        return sum(k.kpi.weight for k in self.missing)

    @property
    def result_key(self) -> str:
        return self.band.key if self.band is not None else "insufficient_data"

    @property
    def band(self) -> Band | None:
        """The result: a band only when the data decides it; None is 数据不足."""
        possible = self.possible_bands()
        return possible[0] if len(possible) == 1 else None

    @property
    def band_by_points(self) -> Band | None:
        """The band of the total before any veto (None while the missing data could change it)."""
        possible = self.possible_bands(vetoes=False)
        return possible[0] if len(possible) == 1 else None

    @property
    def veto_cap(self) -> Band | None:
        """The highest band the vetoes that fired leave open (None: none fired)."""
        fired = [v.veto for v in self.fired]
        return _capped(self.standard, self.standard.bands[0], fired) if fired else None

    def possible_bands(self, vetoes: bool = True) -> list[Band]:
        """The bands the result can still take, best first: one once it is decided."""
        low, high = self.total_range
        fired = [v.veto for v in self.fired] if vetoes else []
        best, worst = (_capped(self.standard, self.standard.band(x), fired) for x in (high, low))
        bands = list(self.standard.bands)
        return bands[bands.index(best) : bands.index(worst) + 1]

    def by_category(self) -> list[tuple[Category, list[KpiScore], float]]:
        """Each category with its KPI scores and their subtotal."""
        out = []
        for category in self.standard.categories:
            scores = [s for s in self.kpis if s.kpi.category == category.key]
            out.append((category, scores, round(sum(s.score or 0 for s in scores), 4)))
        return out


def assess(
    session: Session, *, standard: Standard, school: School, period: str, now: datetime
) -> Assessment:
    """Score ``school`` for ``period`` (2027Q1, 2026-2027/1, 2026-2027) as of ``now``."""
    window = parse_window(period)
    start, end = window.bounds(school.timezone)
    scope = Scope(school.id, window.label, start, end, now)
    kpis = []
    for kpi in standard.kpis:
        m = measure(session, kpi.input, kpi.key, scope)
        level = None if m.value is None else kpi.level(m.value)
        score = None if level is None else round(kpi.weight * level / 5, 4)
        kpis.append(KpiScore(kpi, m.inputs, m.value, level, score))
    keys = [v.key for v in standard.vetoes] + [d.key for d in standard.deductions]
    facts = entered_facts(session, keys, scope)
    others = other_entries(session, [*keys, *(k.key for k in standard.kpis)], scope)
    deductions = []
    for d in standard.deductions:
        count, notes = facts.get(d.key, (0.0, []))
        points = max(count, 0) * d.points
        points = min(points, d.max) if d.max is not None else points
        deductions.append(DeductionScore(d, count, points, tuple(notes)))
    vetoes = [VetoCheck(v, *_fact(facts, v.key)) for v in standard.vetoes]
    points = round(sum(k.score for k in kpis if k.score is not None), 2)
    deducted = round(sum(d.points for d in deductions), 2)
    missing = sum(k.kpi.weight for k in kpis if k.score is None)
    low, high = (round(max(points + missing * level / 5 - deducted, 0.0), 2) for level in (1, 5))
    return Assessment(
        standard,
        school.code,
        school.name,
        school.timezone,
        window,
        now,
        kpis,
        deductions,
        vetoes,
        points,
        deducted,
        (low, high),
        others,
    )


def _capped(standard: Standard, band: Band, fired: list[Veto]) -> Band:
    """The band after the vetoes that fired: the lowest of the band and each veto's cap."""
    keys = [b.key for b in standard.bands]
    last = len(keys) - 1
    worst = max(
        [keys.index(band.key), *(keys.index(v.max_band) if v.max_band else last for v in fired)]
    )
    return standard.bands[worst]


def _fact(facts: dict[str, tuple[float, list[str]]], key: str) -> tuple[float, tuple[str, ...]]:
    count, notes = facts.get(key, (0.0, []))
    return count, tuple(notes)
