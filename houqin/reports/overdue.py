"""The overdue digest for leadership: open items past their deadline, across plans and schools.

Items are streamed and counted as they arrive; only bounded lists are kept (the ``limit``
oldest items, newly overdue and resolved ones), so a district's digest does not hold the ledger
in memory. What changed is measured against the last digest *sent* for the same scope, whose
item ids a ``DigestRun`` row keeps; building a digest with ``sent=True`` records a new one.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.errors import NotFound, UserError
from houqin.models import DigestRun, Item, Person, PlanRun, PlanTemplateVersion, School
from houqin.reports.lateness import bucket, days_late, empty_buckets

YIELD_PER = 500
TOP_PLANS = 3
CHUNK = 500  # ids per IN (...) when looking up resolved items


@dataclass(frozen=True, order=True)
class Line:
    days_overdue: int
    item_id: int
    school: str
    plan_title: str
    period: str
    title: str
    owner: str
    due_at: datetime


@dataclass
class OwnerTally:
    owner: str
    school: str
    count: int = 0
    total_days: int = 0
    oldest_days: int = 0


@dataclass
class PlanTally:
    """A plan run's overdue items; plans rank by total days overdue, then by count."""

    run_id: int
    plan_title: str
    period: str
    school: str
    count: int = 0
    total_days: int = 0
    oldest_days: int = 0


@dataclass(frozen=True)
class Resolved:
    item_id: int
    school: str
    title: str
    owner: str
    status: str  # done | waived | open (no longer overdue: moved deadline)
    completed_at: datetime | None


@dataclass
class OverdueDigest:
    scope: str  # school:<code> | district:<name>
    scope_name: str
    timezone: str
    now: datetime
    limit: int
    total: int = 0
    schools: int = 0
    by_owner: list[OwnerTally] = field(default_factory=list)
    by_age: dict[str, int] = field(default_factory=lambda: empty_buckets(False))
    plans: list[PlanTally] = field(default_factory=list)  # all overdue plans, worst first
    lines: list[Line] = field(default_factory=list)  # the ``limit`` most overdue, worst first
    previous_at: datetime | None = None
    newly: list[Line] = field(default_factory=list)
    newly_count: int = 0
    resolved: list[Resolved] = field(default_factory=list)
    resolved_count: int = 0
    still_count: int = 0
    item_ids: list[int] = field(default_factory=list)

    @property
    def worst_plans(self) -> list[PlanTally]:
        return self.plans[:TOP_PLANS]


def scope_of(*, school: str | None = None, district: str | None = None) -> str:
    if bool(school) == bool(district):
        raise UserError("give either a school (--school) or a district (--district)")
    return f"school:{school}" if school else f"district:{district}"


def build(
    session: Session, *, scope: str, now: datetime, sent: bool = False, limit: int = 200
) -> OverdueDigest:
    """The digest of ``scope`` as of ``now``; ``sent`` records it as the new baseline."""
    kind, _, name = scope.partition(":")
    if kind not in ("school", "district") or not name:
        raise UserError(f"scope {scope!r}: expected school:<code> or district:<name>")
    column = School.code if kind == "school" else School.district
    found = session.execute(select(School.timezone, School.name).where(column == name).limit(1))
    head = found.first()
    if head is None:
        raise NotFound(f"no {kind} {name!r}")
    shown = f"{head.name}（{name}）" if kind == "school" else name
    digest = OverdueDigest(scope, shown, head.timezone, now, limit)
    previous = session.scalars(
        select(DigestRun)
        .where(DigestRun.scope == scope, DigestRun.at <= now)
        .order_by(DigestRun.at.desc(), DigestRun.id.desc())
        .limit(1)
    ).first()
    before: set[int] = set(previous.item_ids) if previous else set()
    digest.previous_at = previous.at if previous else None
    _count(session, digest, column == name, before)
    gone = sorted(before.difference(digest.item_ids))
    digest.resolved_count = len(gone)
    digest.resolved = _resolved(session, gone[:limit])
    if sent:
        session.add(DigestRun(scope=scope, at=now, item_ids=digest.item_ids))
    return digest


def _count(session: Session, digest: OverdueDigest, where: object, before: set[int]) -> None:
    stmt = (
        select(
            Item.id,
            Item.run_id,
            Item.title_zh,
            Item.due_at,
            Person.code,
            Person.name,
            School.code,
            School.name,
            PlanTemplateVersion.title_zh,
            PlanRun.period,
        )
        .join(Person, Person.id == Item.owner_id)
        .join(School, School.id == Item.school_id)
        .join(PlanRun, PlanRun.id == Item.run_id)
        .join(PlanTemplateVersion, PlanTemplateVersion.id == PlanRun.template_id)
        .where(where, Item.status == "open", Item.due_at < digest.now)  # type: ignore[arg-type]
        .order_by(Item.due_at, Item.id)
        .execution_options(yield_per=YIELD_PER)
    )
    owners: dict[tuple[str, str], OwnerTally] = {}
    plans: dict[int, PlanTally] = {}
    schools: set[str] = set()
    oldest: list[Line] = []  # min-heap of the ``limit`` most overdue
    for (
        item_id,
        run_id,
        title,
        due_at,
        p_code,
        p_name,
        s_code,
        s_name,
        plan,
        period,
    ) in session.execute(stmt):
        days = days_late(due_at, digest.now)
        line = Line(days, item_id, s_name, plan, period, title, p_name, due_at)
        digest.total += 1
        digest.item_ids.append(item_id)
        digest.by_age[bucket(days)] += 1
        schools.add(s_code)
        for tally in (
            owners.setdefault((s_code, p_code), OwnerTally(p_name, s_name)),
            plans.setdefault(run_id, PlanTally(run_id, plan, period, s_name)),
        ):
            tally.count += 1
            tally.total_days += days
            tally.oldest_days = max(tally.oldest_days, days)
        if item_id in before:
            digest.still_count += 1
        else:
            digest.newly_count += 1
            if len(digest.newly) < digest.limit:
                digest.newly.append(line)
        if len(oldest) < digest.limit:
            heapq.heappush(oldest, line)
        else:
            heapq.heappushpop(oldest, line)
    digest.schools = len(schools)
    digest.lines = sorted(oldest, key=lambda ln: (-ln.days_overdue, ln.item_id))
    digest.newly.sort(key=lambda ln: (-ln.days_overdue, ln.item_id))
    digest.by_owner = sorted(owners.values(), key=lambda t: (-t.count, -t.oldest_days, t.owner))
    digest.plans = sorted(plans.values(), key=lambda t: (-t.total_days, -t.count, t.run_id))
    digest.item_ids.sort()


def _resolved(session: Session, ids: list[int]) -> list[Resolved]:
    found: list[Resolved] = []
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Item.id, School.name, Item.title_zh, Person.name, Item.status, Item.completed_at)
            .join(Person, Person.id == Item.owner_id)
            .join(School, School.id == Item.school_id)
            .where(Item.id.in_(ids[start : start + CHUNK]))
            .order_by(Item.id)
        )
        found += [Resolved(*row) for row in rows]
    return found
