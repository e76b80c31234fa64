"""Shared tasks: one seed task that several plans reach (签订用工合同, 资产清点, …) is one item.

An item spec with ``shared: KEY`` becomes an item carrying that key. When another plan of the
same school reaches the same key for the same occasion (deadlines within ``OCCASION``: plans of
different periods reach one summer's contracts), no second item is made: the later run gets
an ``ItemShare`` row (so the item shows on its board too), and the item keeps the earlier of
the two deadlines. Which plan came first does not matter: the earlier deadline always wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from houqin import audit
from houqin.models import Item, ItemShare, PlanRun, School

if TYPE_CHECKING:
    from houqin.launch import PlannedItem

# Two plans reach the same occasion of a shared task when their deadlines for it are this close:
# 签订用工合同 before the autumn term is due 08-17, 08-18 or 08-31 by three plans, and the same
# task a year later, or the lamp check of the spring term against the autumn one, is months away.
OCCASION = timedelta(days=60)


def held(session: Session, school: School, planned: Sequence[PlannedItem]) -> dict[str, Item]:
    """planned key -> the school's item already holding its shared key for the same occasion."""
    keys = {p.shared for p in planned if p.shared}
    if not keys:
        return {}
    existing = list(
        session.scalars(
            select(Item)
            .where(Item.school_id == school.id, Item.shared.in_(sorted(keys)))
            .order_by(Item.id)
        )
    )
    found: dict[str, Item] = {}
    for p in planned:
        for item in existing:
            if item.shared == p.shared and abs(_aware(item.due_at) - p.due_at) <= OCCASION:
                found[p.key] = item
                break
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        audit.record_item(
            session,
            item,
            actor=by,
            action="item.shared_deadline",
            at=now,
            before=before.isoformat(),
            after=planned.due_at.isoformat(),
            plan_run=run.id,
        )


def reaching(run_id: int) -> Select[tuple[int]]:
    """The ids of other runs' shared items that ``run_id`` reaches (its board shows them)."""
    return select(ItemShare.item_id).where(ItemShare.run_id == run_id)


def claims(session: Session, run_id: int) -> dict[str, ItemShare]:
    """A run's claims on other runs' items, by the key its template gives them.

    For re-planning: a key of ``plan_items`` with no item in the run is one of these; its new
    deadline goes to ``ItemShare.due_at``, and the item keeps the earliest of its own run's
    deadline and every claim's (``earliest``)."""
    rows = session.scalars(select(ItemShare).where(ItemShare.run_id == run_id))
    return {share.key: share for share in rows}


def earliest(session: Session, item: Item, own: datetime) -> datetime:
    """The deadline a shared item should have: its own run's ``own`` or an earlier claim's."""
    others = session.scalars(select(ItemShare.due_at).where(ItemShare.item_id == item.id))
    return min([_aware(own), *(_aware(d) for d in others)])
