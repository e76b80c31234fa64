"""What to announce after a sweep: items newly overdue, items completed, plan runs complete.

Each announcement is claimed in the ledger by a conditional UPDATE (a marker still NULL, a run
still active), so overlapping sweeps announce each exactly once and an item completed by a
transaction that commits late is still announced by the next sweep (no audit-id cursor). The
sweep emits Prefect events only for what its own transaction claimed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from houqin import audit
from houqin.db import rowcount
from houqin.models import Item, Person, PlanRun, School

CHUNK = 5_000  # ids per IN list


@dataclass
class Progress:
    # (item id, school code, plan key, owner code)
    completed_items: list[tuple[int, str, str, str]] = field(default_factory=list)
    # (run id, school code, plan key, period)
    completed_runs: list[tuple[int, str, str, str]] = field(default_factory=list)
    # (item id, school code, plan key, owner code) of items escalated for the first time
    overdue_items: list[tuple[int, str, str, str]] = field(default_factory=list)


def _described(session: Session, ids: list[int]) -> list[tuple[int, str, str, str]]:
    found: list[tuple[int, str, str, str]] = []
    for start in range(0, len(ids), CHUNK):
        stmt = (
            select(Item.id, School.code, PlanRun.template_key, Person.code)
            .join(PlanRun, PlanRun.id == Item.run_id)
            .join(School, School.id == Item.school_id)
            .join(Person, Person.id == Item.owner_id)
            .where(Item.id.in_(ids[start : start + CHUNK]))
        )
        found += [(i, s, p, o) for i, s, p, o in session.execute(stmt)]
    return sorted(found)


def _claim(
    session: Session,
    marker: InstrumentedAttribute[datetime | None],
    condition: ColumnElement[bool],
    now: datetime,
) -> list[int]:
    """Set ``marker`` on the items meeting ``condition`` whose marker is still NULL; return the
    ids this transaction set. A concurrent claimer waits on the row lock (PostgreSQL) or the
    write lock (SQLite) and then finds the marker set, so it gets none of them."""
    stmt = (
        update(Item)
        .where(marker.is_(None), condition)
        .values({marker: now})
        .returning(Item.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(stmt))


def collect(session: Session, *, now: datetime, escalated: Iterable[int] = ()) -> Progress:
    """Claim and describe what this sweep announces; ``escalated``: items at an escalation
    step now (the planner's), whose overdue event goes out at the first, whatever its level."""
    overdue: list[int] = []
    wanted = sorted(set(escalated))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        overdue += _claim(session, Item.overdue_announced_at, Item.id.in_(chunk), now)
    completed = _claim(session, Item.completed_announced_at, Item.status == "done", now)
    progress = Progress(
        overdue_items=_described(session, overdue),
        completed_items=_described(session, completed),
    )
    still_open = exists().where(Item.run_id == PlanRun.id, Item.status == "open")
    ready = session.execute(
        select(PlanRun.id, PlanRun.school_id, School.code, PlanRun.template_key, PlanRun.period)
        .join(School, School.id == PlanRun.school_id)
        .where(PlanRun.status == "active", ~still_open)
        .order_by(PlanRun.id)
    ).all()
    for run_id, school_id, school, plan, period in ready:
        claim = update(PlanRun).where(PlanRun.id == run_id, PlanRun.status == "active")
        if rowcount(session, claim.values(status="completed")) != 1:
            continue  # another sweep announced it
        audit.record(
            session,
            actor="sweep",
            action="plan.complete",
            at=now,
            school_id=school_id,
            run_id=run_id,
        )
        progress.completed_runs.append((run_id, school, plan, period))
    return progress
