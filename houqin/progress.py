"""What people finished since the last sweep, and which plan runs are now complete.

The sweep turns these into Prefect events; the cursor is an audit event of its own, so the
ledger alone says what has been announced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from houqin import audit
from houqin.models import AuditEvent, Item, Person, PlanRun, School


@dataclass
class Progress:
    # (item id, school code, plan key, owner code)
    completed_items: list[tuple[int, str, str, str]] = field(default_factory=list)
    # (run id, school code, plan key, period)
    completed_runs: list[tuple[int, str, str, str]] = field(default_factory=list)
    # (item id, school code, plan key, owner code) of items escalated for the first time
    overdue_items: list[tuple[int, str, str, str]] = field(default_factory=list)


def _described(session: Session, ids: list[int]) -> list[tuple[int, str, str, str]]:
    stmt = (
        select(Item.id, School.code, PlanRun.template_key, Person.code)
        .join(PlanRun, PlanRun.id == Item.run_id)
        .join(School, School.id == Item.school_id)
        .join(Person, Person.id == Item.owner_id)
        .where(Item.id.in_(ids))
        .order_by(Item.id)
    )
    return [(i, s, p, o) for i, s, p, o in session.execute(stmt)]


def collect(session: Session, *, now: datetime, overdue_ids: list[int] = ()) -> Progress:  # type: ignore[assignment]
    progress = Progress(overdue_items=_described(session, list(overdue_ids)) if overdue_ids else [])
    last = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "sweep.cursor").order_by(AuditEvent.id.desc())
    )
    cursor = int(last.details["last_id"]) if last else 0
    stmt = (
        select(AuditEvent.id, Item.id, School.code, PlanRun.template_key, Person.code)
        .join(Item, Item.id == AuditEvent.item_id)
        .join(PlanRun, PlanRun.id == Item.run_id)
        .join(School, School.id == Item.school_id)
        .join(Person, Person.id == Item.owner_id)
        .where(AuditEvent.id > cursor, AuditEvent.action == "item.tick")
        .order_by(AuditEvent.id)
    )
    top = cursor
    for event_id, item_id, school, plan, owner in session.execute(stmt):
        progress.completed_items.append((item_id, school, plan, owner))
        top = max(top, event_id)
    newest = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    still_open = exists().where(Item.run_id == PlanRun.id, Item.status == "open")
    for run, school in session.execute(
        select(PlanRun, School.code)
        .join(School, School.id == PlanRun.school_id)
        .where(PlanRun.status == "active", ~still_open)
    ):
        run.status = "completed"
        audit.record(
            session,
            actor="sweep",
            action="plan.complete",
            at=now,
            school_id=run.school_id,
            run_id=run.id,
        )
        progress.completed_runs.append((run.id, school, run.template_key, run.period))
    audit.record(
        session, actor="sweep", action="sweep.cursor", at=now, last_id=max(top, newest or 0)
    )
    return progress
