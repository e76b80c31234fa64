"""Open items past their deadline, across plans and schools: the digest leadership is sent, and
the queries behind the web's overdue review (counts by owner, plan, phase, school and age, the
oldest items, completion over time).

The digest's items are streamed and counted as they arrive; only bounded lists are kept (the
``limit`` oldest items, newly overdue and resolved ones), so a district's digest does not hold the
ledger in memory. What changed is measured against the last digest *sent* for the same scope, whose
item ids a ``DigestRun`` row keeps; building a digest with ``sent=True`` records a new one.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, joinedload

from houqin.bilingual import pick
from houqin.errors import NotFound, UserError
from houqin.models import DigestRun, Item, Person, PlanRun, PlanTemplateVersion, School
from houqin.reports.lateness import (
    BUCKET_LABELS,
    BUCKETS,
    LIMITS,
    bucket,
    days_late,
    empty_buckets,
)

YIELD_PER = 500
TOP_PLANS = 3
CHUNK = 500  # ids per IN (...) when looking up resolved items
AGES = BUCKETS[1:]  # the review's tally by age: the digest's buckets, past the deadline only


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


def _joined(*columns: Any) -> Select[Any]:
    """``columns`` of items joined to their owner, school, plan run and template version."""
    return (
        select(*columns)
        .select_from(Item)
        .join(Person, Person.id == Item.owner_id)
        .join(School, School.id == Item.school_id)
        .join(PlanRun, PlanRun.id == Item.run_id)
        .join(PlanTemplateVersion, PlanTemplateVersion.id == PlanRun.template_id)
    )


def _count(session: Session, digest: OverdueDigest, where: object, before: set[int]) -> None:
    stmt = (
        _joined(
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


# -- the web's overdue review --------------------------------------------------------------------


def age_label(n: int, lang: str) -> str:
    """The label of the review's ``n``-th age, as the digest labels the same bucket."""
    return BUCKET_LABELS[AGES[n]].label(lang)


def _late_by_at_most(days: int, now: datetime) -> ColumnElement[bool]:
    """``days_late(due_at, now) <= days``, in SQL: started days, so exactly 24 hours is 1."""
    return Item.due_at >= now - timedelta(days=days)


@dataclass(frozen=True)
class ReviewFilter:
    """The review's list narrowed to one tally's row: an owner (person id), a plan (template
    key), a phase (its Chinese name), an age (index into ``AGES``) or a school (code)."""

    owner: int | None = None
    plan: str | None = None
    phase: str | None = None
    age: int | None = None
    school: str | None = None

    def clauses(self, now: datetime) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.owner is not None:
            out.append(Item.owner_id == self.owner)
        if self.plan:
            runs = select(PlanRun.id).where(PlanRun.template_key == self.plan)
            out.append(Item.run_id.in_(runs))
        if self.phase:
            out.append(Item.phase_zh == self.phase)
        if self.age is not None and 0 <= self.age < len(AGES):
            if self.age < len(LIMITS):
                out.append(_late_by_at_most(LIMITS[self.age][1], now))
            if self.age > 0:
                out.append(~_late_by_at_most(LIMITS[self.age - 1][1], now))
        if self.school:
            out.append(Item.school_id.in_(select(School.id).where(School.code == self.school)))
        return out


def overdue_in(
    school_ids: list[int], now: datetime, only: ReviewFilter | None = None
) -> tuple[ColumnElement[bool], ...]:
    """Open items of these schools past their deadline at ``now`` (narrowed by ``only``)."""
    extra = only.clauses(now) if only is not None else []
    return (Item.school_id.in_(school_ids), Item.status == "open", Item.due_at < now, *extra)


def count_overdue(
    session: Session, school_ids: list[int], now: datetime, only: ReviewFilter | None = None
) -> int:
    stmt = select(func.count()).select_from(Item).where(*overdue_in(school_ids, now, only))
    return session.scalar(stmt) or 0


def oldest_overdue(
    session: Session,
    school_ids: list[int],
    now: datetime,
    limit: int,
    only: ReviewFilter | None = None,
) -> list[Item]:
    """The ``limit`` overdue items with the oldest deadlines, with owner, plan and school."""
    return list(
        session.scalars(
            select(Item)
            .where(*overdue_in(school_ids, now, only))
            .options(
                joinedload(Item.owner),
                joinedload(Item.run).joinedload(PlanRun.template),
                joinedload(Item.run).joinedload(PlanRun.school),
            )
            .order_by(Item.due_at, Item.id)
            .limit(limit)
        ).unique()
    )


def overdue_groups(
    session: Session,
    school_ids: list[int],
    now: datetime,
    lang: str,
    *,
    several_schools: bool,
) -> tuple[dict[str, Counter[str]], dict[str, dict[str, str]]]:
    """Overdue items counted by owner, plan, phase, school and age, in the database; and for
    each row's label, the ``ReviewFilter`` field value that lists just those items."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    values: dict[str, dict[str, str]] = defaultdict(dict)
    where = overdue_in(school_ids, now)

    def count(key: str, label: Callable[..., str], *columns: Any) -> None:
        # the last column is the filter's value; the others make the label
        for *shown, value, n in session.execute(
            _joined(*columns, func.count()).where(*where).group_by(*columns)
        ):
            name = label(*shown)
            groups[key][name] += n
            values[key][name] = str(value)

    def owner(name: str, school: str) -> str:
        return f"{name}（{school}）" if several_schools else name

    count("owner", owner, Person.name, School.name, Person.id)
    titles = (PlanTemplateVersion.title_zh, PlanTemplateVersion.title_en)
    count("plan", lambda zh, en: pick(zh, en, lang), *titles, PlanRun.template_key)
    count("phase", lambda zh, en: pick(zh, en, lang), Item.phase_zh, Item.phase_en, Item.phase_zh)
    count("school", lambda name: name, School.name, School.code)
    bucket = case(
        *[(_late_by_at_most(most, now), n) for n, (_, most) in enumerate(LIMITS)],
        else_=len(LIMITS),  # later than every limit: the last age
    )
    count("age", lambda n: age_label(n, lang), bucket, bucket)
    return groups, values


def completion_series(
    session: Session, school_ids: list[int], now: datetime, tz: str, days: int
) -> tuple[list[date], list[int], list[int]]:
    """For each of the last ``days`` days: items due by then, and items done by then.

    Counts before the window come from two COUNTs; only the window's rows are read, so a
    district's year of items is not walked row by row.
    """
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    span: list[date] = [today - timedelta(days=days - 1 - i) for i in range(days)]
    start = datetime.combine(span[0], time(), zone)
    end = datetime.combine(span[-1] + timedelta(days=1), time(), zone)
    counted = (Item.school_id.in_(school_ids), Item.status != "waived")
    done = (*counted, Item.status == "done", Item.completed_at.is_not(None))
    d_total = session.scalar(select(func.count()).where(*counted, Item.due_at < start)) or 0
    c_total = session.scalar(select(func.count()).where(*done, Item.completed_at < start)) or 0
    due_on: Counter[date] = Counter(
        at.astimezone(zone).date()
        for at in session.scalars(
            select(Item.due_at).where(*counted, Item.due_at >= start, Item.due_at < end)
        )
    )
    done_on: Counter[date] = Counter(
        at.astimezone(zone).date()
        for at in session.scalars(
            select(Item.completed_at).where(
                *done, Item.completed_at >= start, Item.completed_at < end
            )
        )
        if at is not None
    )
    due, finished = [], []
    for day in span:
        d_total += due_on[day]
        c_total += done_on[day]
        due.append(d_total)
        finished.append(c_total)
    return span, due, finished
