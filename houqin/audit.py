"""The audit trail: every write in Houqin records who did what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.models import AuditEvent, Item


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    at: datetime,
    school_id: int | None = None,
    run_id: int | None = None,
    item_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        school_id=school_id,
        run_id=run_id,
        item_id=item_id,
        details=details,
    )
    session.add(event)
    return event


def record_item(
    session: Session, item: Item, *, actor: str, action: str, at: datetime, **details: Any
) -> AuditEvent:
    """An event about ``item``, filed under its school and plan run as well."""
    return record(
        session,
        actor=actor,
        action=action,
        at=at,
        school_id=item.school_id,
        run_id=item.run_id,
        item_id=item.id,
        **details,
    )


def history(session: Session, *, item_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.id)
    return list(session.scalars(stmt))
