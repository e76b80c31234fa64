"""What the assessment measures, from the ledger and from scores people entered.

Ledger measures cover what the ledger knows: checklist items done by their deadline (counted
in the database, one aggregate query) and repair response and completion times (repair rows
streamed once). Everything else comes from ``InspectionScore`` rows, the three supervision
levels of seed 004 combined with the standard's weights. Each measure keeps its inputs so the
report can show how the value was reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from houqin.models import InspectionScore, Item, PlanRun, RepairRequest
from houqin.standard_specs import KpiInput

YIELD_PER = 500


@dataclass(frozen=True)
class Input:
    """One figure behind a KPI value; ``key`` names it in reports.labels (``in_*``)."""

    key: str
    value: float | None
    count: int | None = None  # inspection sources: how many scores were averaged
    weight: float | None = None  # inspection sources: the source's weight, rescaled


@dataclass(frozen=True)
class Measure:
    value: float | None  # None: nothing to measure in the period
    inputs: tuple[Input, ...]


@dataclass(frozen=True)
class Scope:
    """Whose period is measured: a school, a window of instants, up to ``now``."""

    school_id: int
    period: str
    start: datetime
    end: datetime
    now: datetime

    @property
    def until(self) -> datetime:
        """Only what is already decidable counts: nothing due or reported after ``now``."""
        return min(self.end, self.now)


def measure(session: Session, spec: KpiInput, kpi_key: str, scope: Scope) -> Measure:
    if spec.kind == "inspection":
        return inspection(session, kpi_key, spec.sources, scope)
    if spec.kind in ("on_time_rate", "late_count"):
        return items(session, spec, scope)
    limit = spec.limit_minutes if spec.kind == "repair_response" else (spec.limit_hours or 0) * 60
    return repairs(session, spec.kind, limit or 0, scope)


def items(session: Session, spec: KpiInput, scope: Scope) -> Measure:
    """Items due in the period: the share done on time, or the number late (done or still open)."""
    done = Item.status == "done"
    stmt = select(
        func.count(Item.id),
        func.coalesce(func.sum(case((Item.status == "waived", 1), else_=0)), 0),
        func.coalesce(func.sum(case((done & Item.late.is_not(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((done & Item.late.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((Item.status == "open", 1), else_=0)), 0),
    ).where(
        Item.school_id == scope.school_id, Item.due_at >= scope.start, Item.due_at < scope.until
    )
    if spec.roles:
        stmt = stmt.where(Item.role_key.in_(spec.roles))
    if spec.plans:
        stmt = stmt.join(PlanRun, PlanRun.id == Item.run_id).where(
            PlanRun.template_key.in_(spec.plans)
        )
    total, waived, on_time, late, overdue = (int(x) for x in session.execute(stmt).one())
    counted = total - waived
    inputs = (
        Input("in_due_items", counted),
        Input("in_done_on_time", on_time),
        Input("in_done_late", late),
        Input("in_open_overdue", overdue),
        Input("in_waived", waived),
    )
    if counted == 0:
        return Measure(None, inputs)
    if spec.kind == "late_count":
        return Measure(float(late + overdue), inputs)
    return Measure(round(100 * on_time / counted, 2), inputs)


def repairs(session: Session, kind: str, limit_minutes: float, scope: Scope) -> Measure:
    """Repair requests reported in the period: the share answered (or fixed) within the limit.

    A request still unanswered after the limit counts as late; one still within it is pending
    and not counted yet.
    """
    stmt = (
        select(RepairRequest.reported_at, RepairRequest.responded_at, RepairRequest.completed_at)
        .where(
            RepairRequest.school_id == scope.school_id,
            RepairRequest.reported_at >= scope.start,
            RepairRequest.reported_at < scope.until,
        )
        .execution_options(yield_per=YIELD_PER)
    )
    within = over = pending = 0
    minutes: list[float] = []
    for reported, responded, completed in session.execute(stmt):
        done_at = responded if kind == "repair_response" else completed
        if done_at is not None:
            took = (done_at - reported).total_seconds() / 60
            minutes.append(took)
            within, over = (within + 1, over) if took <= limit_minutes else (within, over + 1)
        elif (scope.now - reported).total_seconds() / 60 > limit_minutes:
            over += 1
        else:
            pending += 1
    mean = round(sum(minutes) / len(minutes), 1) if minutes else None
    inputs = (
        Input("in_requests", within + over + pending),
        Input("in_within_limit", within),
        Input("in_over_limit", over),
        Input("in_pending", pending),
        Input("in_limit_minutes", limit_minutes),
        Input("in_mean_minutes", mean),
    )
    counted = within + over
    return Measure(round(100 * within / counted, 2) if counted else None, inputs)


def inspection(
    session: Session, kpi_key: str, sources: Sequence[tuple[str, float]], scope: Scope
) -> Measure:
    """The weighted mean of each source's mean score; absent sources' weights are shared out."""
    rows = session.execute(
        select(InspectionScore.source, func.avg(InspectionScore.score), func.count())
        .where(
            InspectionScore.school_id == scope.school_id,
            InspectionScore.period == scope.period,
            InspectionScore.kpi == kpi_key,
        )
        .group_by(InspectionScore.source)
    )
    found = {source: (float(avg), int(n)) for source, avg, n in rows}
    present = [(s, w) for s, w in sources if s in found]
    total = sum(w for _, w in present)
    inputs = tuple(
        Input(
            f"src_{s}",
            round(found[s][0], 2) if s in found else None,
            found[s][1] if s in found else 0,
            round(w / total, 4) if s in found else 0,
        )
        for s, w in sources
    )
    if not present:
        return Measure(None, inputs)
    value = sum(found[s][0] * w for s, w in present) / total
    return Measure(round(value, 2), inputs)


def entered_facts(
    session: Session, keys: Sequence[str], scope: Scope
) -> dict[str, tuple[float, list[str]]]:
    """Veto incidents and deduction findings entered for the period: key -> (count, notes)."""
    facts: dict[str, tuple[float, list[str]]] = {}
    if not keys:
        return facts
    rows = session.execute(
        select(InspectionScore.kpi, InspectionScore.score, InspectionScore.note)
        .where(
            InspectionScore.school_id == scope.school_id,
            InspectionScore.period == scope.period,
            InspectionScore.kpi.in_(keys),
        )
        .order_by(InspectionScore.entered_at, InspectionScore.id)
    )
    for key, score, note in rows:
        count, notes = facts.get(key, (0.0, []))
        facts[key] = (count + score, [*notes, note] if note else notes)
    return facts


def other_entries(session: Session, keys: Sequence[str], scope: Scope) -> dict[str, int]:
    """Scores entered for the period under keys the standard does not know: key -> how many.

    An entry made under another standard, or under a key a standard has since dropped (003's
    food-poisoning goal was once a veto), is shown rather than silently left out.
    """
    rows = session.execute(
        select(InspectionScore.kpi, func.count())
        .where(
            InspectionScore.school_id == scope.school_id,
            InspectionScore.period == scope.period,
            InspectionScore.kpi.not_in(keys),
        )
        .group_by(InspectionScore.kpi)
        .order_by(InspectionScore.kpi)
    )
    return {key: int(n) for key, n in rows}
