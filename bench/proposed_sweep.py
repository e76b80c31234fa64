"""A proposed change to ``houqin.reminders.plan_reminders``, measured beside the current one.

The benchmark may not edit the core, so the change lives here until the lead applies it; the
run reports both and checks that both write exactly the SQL baseline's rows. Same selection,
same rules, same rows; what changes is where the time went (pyinstrument, see RESULTS.md):

1. Per-school work done once per school, not once per item: the local date, the quiet-hours
   send time (``pendulum.instance(now).in_tz(...)`` and ``quiet_until`` were per item).
2. Steps computed once per (due day, reminders, escalations, today), not once per item: many
   items share a deadline, and ``steps_for`` walks the calendar day by day for each step.
3. Plain ``datetime`` values for the outbox (``now`` arrives as a pendulum ``DateTime``):
   psycopg's dumper subtracts datetimes, and pendulum's ``__sub__`` builds an ``Interval`` each
   time — a third of the insert's client time.
4. On PostgreSQL, each chunk is one ``INSERT ... SELECT FROM unnest(arrays)`` instead of
   SQLAlchemy's insertmanyvalues: the latter renders a new multi-row VALUES statement per
   1,000 rows, which psycopg then re-parses in Python (too long for its statement cache).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from calendars import CalendarBook
from houqin.models import Item, Person, School
from houqin.reminders import (
    HORIZON_WORKDAYS,
    INSERT_CHUNK,
    PlanReport,
    Step,
    _insert,
    _leadership,
    current_step,
    quiet_until,
    steps_for,
)

UNNEST_INSERT = text(
    "INSERT INTO outbox (dedup_key, school_id, recipient_id, item_id, kind, status, attempts, "
    "created_at, next_attempt_at) "
    "SELECT k, s, r, i, kind, 'pending', 0, :created, n FROM unnest("
    "CAST(:keys AS text[]), CAST(:schools AS int[]), CAST(:recipients AS int[]), "
    "CAST(:items AS int[]), CAST(:kinds AS text[]), CAST(:sends AS timestamptz[])) "
    "AS t(k, s, r, i, kind, n) "
    "ON CONFLICT (dedup_key) DO NOTHING RETURNING item_id, kind"
)


def _plain(instant: datetime) -> datetime:
    return datetime.fromtimestamp(instant.timestamp(), UTC)


def plan_reminders(
    session: Session, *, now: datetime, book: CalendarBook, school: str | None = None
) -> PlanReport:
    report = PlanReport()
    leaders = _leadership(session, school)
    now_utc = _plain(now)
    # per school, once: its zone, today there, and when a message may go (quiet hours)
    local: dict[int, tuple[ZoneInfo, date, datetime]] = {}
    for sch in session.scalars(select(School)):
        zone = ZoneInfo(sch.timezone)
        local[sch.id] = (zone, now_utc.astimezone(zone).date(), _plain(quiet_until(now, sch)))
    stmt = (
        select(
            Item.id,
            Item.school_id,
            Item.owner_id,
            Item.due_at,
            Item.remind,
            Item.escalate,
            Person.supervisor_id,
        )
        .join(Person, Person.id == Item.owner_id)
        .where(Item.status == "open")
        .order_by(Item.id)
    )
    if school is not None:
        stmt = stmt.join(School, School.id == Item.school_id).where(School.code == school)
    today_anywhere = pendulum.instance(now).in_tz("Asia/Shanghai").date()
    horizon = book.add_workdays(today_anywhere, HORIZON_WORKDAYS) + timedelta(days=2)
    stmt = stmt.where(Item.due_at < pendulum.datetime(horizon.year, horizon.month, horizon.day))

    postgres = session.get_bind().dialect.name == "postgresql"
    overdue: set[int] = set()  # beside report.newly_overdue: a list's `in` is O(n) per row
    steps: dict[tuple[date, tuple[int, ...], tuple[int, ...], date], Step | None] = {}
    rows: list[dict[str, object]] = []
    for item_id, school_id, owner_id, due_at, remind, escalate, supervisor_id in session.execute(
        stmt.execution_options(yield_per=2000)
    ):
        report.candidates += 1
        zone, today, send_at = local[school_id]
        key = (due_at.astimezone(zone).date(), tuple(remind), tuple(escalate), today)
        if key not in steps:
            steps[key] = current_step(steps_for(key[0], remind, escalate, book), today)
        step = steps[key]
        if step is None or (step.kind.startswith("remind") and due_at <= now_utc):
            continue
        if step.kind.startswith("remind"):
            recipients = [owner_id]
        elif step.kind == "escalate:L1" and supervisor_id is not None:
            recipients = [supervisor_id]
        else:
            recipients = [p for p in leaders.get(school_id, []) if p != owner_id] or [owner_id]
        for person_id in recipients:
            rows.append(
                {
                    "dedup_key": f"{item_id}:{step.kind}:{person_id}",
                    "school_id": school_id,
                    "recipient_id": person_id,
                    "item_id": item_id,
                    "kind": step.kind,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now_utc,
                    "next_attempt_at": send_at,
                }
            )
        if len(rows) >= INSERT_CHUNK:
            _write(session, rows, report, overdue, postgres)
            rows = []
    if rows:
        _write(session, rows, report, overdue, postgres)
    return report


def _write(
    session: Session,
    rows: list[dict[str, object]],
    report: PlanReport,
    overdue: set[int],
    postgres: bool,
) -> None:
    if not postgres:
        _insert(session, rows, report)
        return
    params = {
        "created": rows[0]["created_at"],
        "keys": [r["dedup_key"] for r in rows],
        "schools": [r["school_id"] for r in rows],
        "recipients": [r["recipient_id"] for r in rows],
        "items": [r["item_id"] for r in rows],
        "kinds": [r["kind"] for r in rows],
        "sends": [r["next_attempt_at"] for r in rows],
    }
    for item_id, kind in session.execute(UNNEST_INSERT, params):
        report.written += 1
        if kind == "escalate:L1" and item_id not in overdue:
            overdue.add(item_id)
            report.newly_overdue.append(item_id)
