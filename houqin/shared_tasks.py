"""Shared tasks: one seed task that several plans reach (签订用工合同, 资产清点, …) is one item.

An item spec with ``shared: KEY`` becomes an item carrying that key. When another plan of the
same school and school year reaches the same key, no second item is made: the later run gets
an ``ItemShare`` row (so the item shows on its board too), and the item keeps the earlier of
the two deadlines. Which plan came first does not matter: the earlier deadline always wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from houqin import audit
from houqin.models import Item, ItemShare, PlanRun, School
from houqin.periods import Period

if TYPE_CHECKING:
    from houqin.launch import PlannedItem


def held(session: Session, school: School, period: Period, keys: Sequence[str]) -> dict[str, Item]:
    """The school's items of this school year already holding any of ``keys``."""
    if not keys:
        return {}
    rows = session.scalars(
        select(Item)
        .join(PlanRun, PlanRun.id == Item.run_id)
        .where(
            Item.school_id == school.id,
            Item.shared.in_(list(keys)),
            or_(
                PlanRun.period == period.school_year,
                PlanRun.period.like(f"{period.school_year}/%"),
            ),
        )
        .order_by(Item.id)
    )
    found: dict[str, Item] = {}
    for item in rows:
        assert item.shared is not None
        found.setdefault(item.shared, item)
    return found


def join(
    session: Session, item: Item, planned: PlannedItem, *, run: PlanRun, by: str, now: datetime
) -> None:
    """Record that ``run`` reaches ``item``; an earlier deadline of an open item wins."""
    session.add(ItemShare(item_id=item.id, run_id=run.id, key=planned.key, due_at=planned.due_at))
    if item.status == "open" and planned.due_at < item.due_at:
        before = item.due_at
        item.due_at = planned.due_at
        item.due_provisional = planned.due_provisional
        item.revision += 1
        audit.record(
            session,
            actor=by,
            action="item.shared_deadline",
            at=now,
            school_id=item.school_id,
            run_id=item.run_id,
            item_id=item.id,
            before=before.isoformat(),
            after=planned.due_at.isoformat(),
            plan_run=run.id,
        )


def reaching(run_id: int) -> Select[tuple[int]]:
    """The ids of other runs' shared items that ``run_id`` reaches (its board shows them)."""
    return select(ItemShare.item_id).where(ItemShare.run_id == run_id)
