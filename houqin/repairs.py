"""Repair requests (报修): reported, answered, fixed; the times feed the assessment.

Seed 004 promises an answer within 30 minutes and 002 asks for a published repair time limit,
so the three instants are what matters. Each step is a conditional UPDATE (only if not done
yet), so two people answering the same request at once leave the first answer standing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, update
from sqlalchemy.orm import Session

from houqin import audit
from houqin.db import rowcount
from houqin.errors import NotFound, UserError
from houqin.models import RepairRequest, School


def report(
    session: Session, *, school: School, location: str, description: str, by: str, now: datetime
) -> RepairRequest:
    if not location.strip() or not description.strip():
        raise UserError("a repair request needs a location and a description")
    repair = RepairRequest(
        school_id=school.id,
        location=location.strip(),
        description=description.strip(),
        reported_by=by,
        reported_at=now,
    )
    session.add(repair)
    session.flush()
    audit.record(
        session,
        actor=by,
        action="repair.report",
        at=now,
        school_id=school.id,
        repair_id=repair.id,
        location=repair.location,
    )
    return repair


def get_repair(session: Session, repair_id: int) -> RepairRequest:
    repair = session.get(RepairRequest, repair_id)
    if repair is None:
        raise NotFound(f"no repair request {repair_id}")
    return repair


def respond(session: Session, *, repair_id: int, by: str, now: datetime) -> RepairRequest:
    """Record the first answer (someone is on the way); a second answer is refused."""
    repair = _checked(session, repair_id, now)
    changed = rowcount(
        session,
        update(RepairRequest)
        .where(RepairRequest.id == repair_id, RepairRequest.responded_at.is_(None))
        .values(responded_at=now)
        .execution_options(synchronize_session=False),
    )
    session.refresh(repair)
    if changed != 1:
        raise UserError(f"repair request {repair_id} was already answered at {repair.responded_at}")
    audit.record(
        session,
        actor=by,
        action="repair.respond",
        at=now,
        school_id=repair.school_id,
        repair_id=repair_id,
        minutes=_minutes(repair.reported_at, now),
    )
    return repair


def complete(session: Session, *, repair_id: int, by: str, now: datetime) -> RepairRequest:
    """Record the fix; a request fixed on the first visit is answered at the same moment."""
    repair = _checked(session, repair_id, now)
    changed = rowcount(
        session,
        update(RepairRequest)
        .where(RepairRequest.id == repair_id, RepairRequest.completed_at.is_(None))
        .values(completed_at=now, responded_at=func.coalesce(RepairRequest.responded_at, _at(now)))
        .execution_options(synchronize_session=False),
    )
    session.refresh(repair)
    if changed != 1:
        raise UserError(f"repair request {repair_id} was already closed at {repair.completed_at}")
    audit.record(
        session,
        actor=by,
        action="repair.complete",
        at=now,
        school_id=repair.school_id,
        repair_id=repair_id,
        minutes=_minutes(repair.reported_at, now),
    )
    return repair


def _checked(session: Session, repair_id: int, now: datetime) -> RepairRequest:
    repair = get_repair(session, repair_id)
    if now < repair.reported_at:
        raise UserError(
            f"repair request {repair_id} was reported at {repair.reported_at:%Y-%m-%d %H:%M} UTC; "
            "it cannot be answered or closed before that"
        )
    return repair


def _at(now: datetime):  # type: ignore[no-untyped-def]
    """``now`` bound with the ledger's UTC type: inside a SQL function it would be bound raw."""
    return literal(now, RepairRequest.__table__.c.responded_at.type)


def _minutes(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 60, 1)
