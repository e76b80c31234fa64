"""Plan runs as the head and leadership follow them: a school's runs, and each run's items
counted by state (done, late, waived, open, overdue)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from houqin.models import Item, PlanRun


@dataclass
class Counts:
    total: int = 0
    done: int = 0
    late: int = 0
    waived: int = 0
    open: int = 0
    overdue: int = 0

    def add(self, item: Item, now: datetime) -> None:
        self.count(item.status, item.late, item.due_at, now)

    def count(self, status: str, late: bool | None, due_at: datetime, now: datetime) -> None:
        self.total += 1
        if status == "done":
            self.done += 1
            self.late += bool(late)
        elif status == "waived":
            self.waived += 1
        else:
            self.open += 1
            self.overdue += due_at < now

    @property
    def percent(self) -> int:
        """Share settled (done or waived), rounded down so 99.6% never shows as 100%."""
        return (self.done + self.waived) * 100 // self.total if self.total else 0


def counts_by_run(session: Session, run_ids: list[int], now: datetime) -> dict[int, Counts]:
    counts: dict[int, Counts] = defaultdict(Counts)
    if run_ids:
        rows = session.execute(
            select(Item.run_id, Item.status, Item.late, Item.due_at).where(Item.run_id.in_(run_ids))
        )
        for run_id, status, late, due_at in rows:
            counts[run_id].count(status, late, due_at, now)
    return counts


def runs_of(session: Session, school_ids: list[int], limit: int | None = None) -> list[PlanRun]:
    """The schools' plan runs, newest launch first."""
    return list(
        session.scalars(
            select(PlanRun)
            .where(PlanRun.school_id.in_(school_ids))
            .options(joinedload(PlanRun.template), joinedload(PlanRun.school))
            .order_by(PlanRun.launched_at.desc(), PlanRun.id.desc())
            .limit(limit)
        )
    )


def first_launch(session: Session, school_ids: list[int]) -> datetime | None:
    """When the first of the schools' plan runs was launched (None: none yet)."""
    return session.scalar(
        select(func.min(PlanRun.launched_at)).where(PlanRun.school_id.in_(school_ids))
    )
