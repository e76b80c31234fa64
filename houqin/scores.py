"""Scores people enter for what the ledger cannot know: inspection results, veto incidents,
deduction findings (日常检查, 专项督查, 第三方评估 in seed 004's three supervision levels).

Each entry is checked against the standard it counts towards, so a typo in a KPI key or a
percentage of 980 is refused at the keyboard rather than discovered in the report.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from houqin import audit
from houqin.errors import UserError
from houqin.models import InspectionScore, School
from houqin.reports.windows import parse_window
from houqin.standard_specs import SOURCES, Kpi, Standard

_RANGES = {"percent": (0.0, 100.0), "points": (0.0, 100.0), "count": (0.0, float("inf"))}


def enter(
    session: Session,
    *,
    standard: Standard,
    school: School,
    period: str,
    kpi: str,
    source: str,
    score: float,
    by: str,
    now: datetime,
    note: str | None = None,
) -> InspectionScore:
    """Record one score; vetoes and deductions take a count of incidents (negative withdraws)."""
    label = parse_window(period).label
    if source not in SOURCES:
        raise UserError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    target = standard.entry(kpi)
    if target is None:
        raise UserError(
            f"{standard.key} has no KPI, veto or deduction {kpi!r}; enterable: "
            f"{', '.join(enterable(standard))}"
        )
    if isinstance(target, Kpi):
        _check_kpi(target, source, score)
    elif score != int(score) or (score < 0 and not (note or "").strip()):
        raise UserError(
            f"{kpi} takes a whole number of incidents; a negative one withdraws "
            "an earlier entry and needs a --note saying why"
        )
    entry = InspectionScore(
        school_id=school.id,
        period=label,
        kpi=kpi,
        source=source,
        score=score,
        note=note,
        entered_by=by,
        entered_at=now,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=by,
        action="score.enter",
        at=now,
        school_id=school.id,
        standard=standard.key,
        period=label,
        kpi=kpi,
        source=source,
        score=score,
        note=note,
    )
    return entry


def enterable(standard: Standard) -> list[str]:
    """The keys a person may enter scores for: inspection KPIs, vetoes and deductions."""
    kpis = [k.key for k in standard.kpis if k.input.kind == "inspection"]
    return kpis + [v.key for v in standard.vetoes] + [d.key for d in standard.deductions]


def _check_kpi(kpi: Kpi, source: str, score: float) -> None:
    if kpi.input.kind != "inspection":
        raise UserError(
            f"{kpi.key} is measured from the ledger ({kpi.input.kind}); "
            "it cannot be entered by hand"
        )
    sources = [s for s, _ in kpi.input.sources]
    if source not in sources:
        raise UserError(f"{kpi.key} is scored by {', '.join(sources)}, not {source}")
    low, high = _RANGES[kpi.unit]
    if not low <= score <= high:
        raise UserError(f"{kpi.key} is a {kpi.unit} value: {score:g} is outside {low:g}–{high:g}")
