"""Assessment scoring of one school for one period, by a standard in plans/standards/.

The formula (also printed in the report, so a reader can check every line):

    level_i   = 1–5 from KPI i's value and its four bounds (no data: the standard's no_data_level)
    score_i   = weight_i × level_i ÷ 5
    points    = Σ score_i                                     (weights add up to 100)
    total     = max(points − Σ min(count_d × points_d, max_d), 0)
    band      = the first band whose min ≤ total; any one-vote veto (一票否决) → the last band
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from houqin.models import School
from houqin.reports.measures import Input, Scope, entered_facts, measure
from houqin.reports.windows import Window, parse_window
from houqin.standard_specs import Band, Category, Deduction, Kpi, Standard, Veto


@dataclass(frozen=True)
class KpiScore:
    kpi: Kpi
    inputs: tuple[Input, ...]
    value: float | None
    level: int
    score: float  # weight × level ÷ 5

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
    points: float
    deducted: float
    total: float
    band_by_points: Band
    band: Band

    @property
    def fired(self) -> list[VetoCheck]:
        return [v for v in self.vetoes if v.fired]

    def by_category(self) -> list[tuple[Category, list[KpiScore], float]]:
        """Each category with its KPI scores and their subtotal."""
        out = []
        for category in self.standard.categories:
            scores = [s for s in self.kpis if s.kpi.category == category.key]
            out.append((category, scores, round(sum(s.score for s in scores), 4)))
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
        level = standard.no_data_level if m.value is None else kpi.level(m.value)
        kpis.append(KpiScore(kpi, m.inputs, m.value, level, round(kpi.weight * level / 5, 4)))
    keys = [v.key for v in standard.vetoes] + [d.key for d in standard.deductions]
    facts = entered_facts(session, keys, scope)
    deductions = []
    for d in standard.deductions:
        count, notes = facts.get(d.key, (0.0, []))
        points = max(count, 0) * d.points
        points = min(points, d.max) if d.max is not None else points
        deductions.append(DeductionScore(d, count, points, tuple(notes)))
    vetoes = [VetoCheck(v, *_fact(facts, v.key)) for v in standard.vetoes]
    points = round(sum(k.score for k in kpis), 2)
    deducted = round(sum(d.points for d in deductions), 2)
    total = round(max(points - deducted, 0.0), 2)
    by_points = standard.band(total)
    band = standard.bands[-1] if any(v.fired for v in vetoes) else by_points
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
        total,
        by_points,
        band,
    )


def _fact(facts: dict[str, tuple[float, list[str]]], key: str) -> tuple[float, tuple[str, ...]]:
    count, notes = facts.get(key, (0.0, []))
    return count, tuple(notes)
