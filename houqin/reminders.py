"""Which reminders and escalations are due: one set-based pass over the open items.

For each open item the steps are its reminders (working days before the deadline; 0 = the due
morning) and its escalations (working days after: level 1 to the owner's supervisor, later
levels to leadership). A sweep on day T writes, per item, only the latest step whose day has
come, so a sweep that missed a day catches up with the message that matters now, not a backlog.
Rows go to the outbox with a unique (item, step, recipient) key: a second sweep, or two sweeps
at once, insert nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from calendars import CalendarBook
from houqin import leadership, school_settings
from houqin.models import Item, Outbox, Person, School
from houqin.school_settings import SchoolSettingsError

HORIZON_WORKDAYS = 10  # the longest reminder lead a template may set is checked against this
INSERT_CHUNK = 20_000


@dataclass
class PlanReport:
    candidates: int = 0
    written: int = 0
    # open items at an escalation step (any level) now: the sweep announces each one's overdue
    # event once, by a marker on the item (houqin/progress.py), whatever sweep wrote the rows
    escalated: list[int] = field(default_factory=list)
    # school code -> why its items were not planned (a stored setting is unusable)
    school_errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    kind: str  # remind:T-3 | remind:T0 | escalate:L1 | escalate:L2
    day: date


def steps_for(
    due_day: date, remind: list[int], escalate: list[int], book: CalendarBook
) -> list[Step]:
    steps = [
        Step(
            "remind:T0" if k == 0 else f"remind:T-{k}",
            due_day if k == 0 else book.add_workdays(due_day, -k),
        )
        for k in remind
    ]
    steps += [
        Step(f"escalate:L{level}", book.add_workdays(due_day, n))
        for level, n in enumerate(escalate, 1)
    ]
    return sorted(steps, key=lambda s: s.day)


def current_step(steps: list[Step], today: date) -> Step | None:
    """The latest step whose day has come."""
    due = [s for s in steps if s.day <= today]
    return due[-1] if due else None


def plan_reminders(
    session: Session, *, now: datetime, book: CalendarBook, school: str | None = None
) -> PlanReport:
    """Write the due reminder or escalation of every open item to the outbox (see module doc).

    Kept fast at district scale (bench/RESULTS.md): per-school values are computed once, a step
    once per (deadline, reminders, escalations), and rows carry plain UTC datetimes.
    """
    report = PlanReport()
    leaders = leadership.leaders(session, school=school)
    now_utc = _plain(now)
    # per school, once: its zone, today there, and when a message may go (quiet hours); a
    # school whose stored zone or quiet hours are unusable is left out and named, alone
    local: dict[int, tuple[ZoneInfo, date, datetime]] = {}
    schools = select(School) if school is None else select(School).where(School.code == school)
    for sch in session.scalars(schools):
        try:
            zone = school_settings.zone(sch)
            local[sch.id] = (
                zone,
                now_utc.astimezone(zone).date(),
                _plain(school_settings.quiet_until(now, sch)),
            )
        except SchoolSettingsError as exc:
            report.school_errors[sch.code] = str(exc)
    stmt = (
        select(
            Item.id,
            Item.school_id,
            Item.owner_id,
            Item.due_at,
            cast(Item.remind, Text),  # raw JSON: parsed once per distinct value below
            cast(Item.escalate, Text),
            Person.supervisor_id,
        )
        .join(Person, Person.id == Item.owner_id)
        .where(Item.status == "open")
        .order_by(Item.id)
    )
    if school is not None:
        stmt = stmt.join(School, School.id == Item.school_id).where(School.code == school)
    if not local:
        return report
    # items due beyond the longest reminder lead need nothing yet: one bound for all schools,
    # from the latest "today" among their zones, with a margin of two days
    latest_today = max(today for _, today, _ in local.values())
    horizon = book.add_workdays(latest_today, HORIZON_WORKDAYS) + timedelta(days=2)
    stmt = stmt.where(Item.due_at < datetime(horizon.year, horizon.month, horizon.day, tzinfo=UTC))

    steps: dict[tuple[date, str, str, date], Step | None] = {}
    rows: list[dict[str, Any]] = []
    for item_id, school_id, owner_id, due_at, remind, escalate, supervisor_id in session.execute(
        stmt.execution_options(yield_per=2000)
    ):
        if school_id not in local:
            continue  # its settings are unusable: named in report.school_errors
        report.candidates += 1
        zone, today, send_at = local[school_id]
        key = (due_at.astimezone(zone).date(), remind, escalate, today)
        if key not in steps:
            found = steps_for(key[0], json.loads(remind), json.loads(escalate), book)
            steps[key] = current_step(found, today)
        step = steps[key]
        if step is None or (step.kind.startswith("remind") and due_at <= now_utc):
            continue  # nothing yet, or past the deadline and waiting for its escalation day
        if step.kind.startswith("escalate"):
            report.escalated.append(item_id)
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
            _insert(session, rows, report)
            rows = []
    if rows:
        _insert(session, rows, report)
    return report


def _plain(instant: datetime) -> datetime:
    # psycopg subtracts datetimes while dumping them; pendulum's __sub__ builds an Interval
    # each time — a third of the insert's client time at district scale
    return datetime.fromtimestamp(instant.timestamp(), UTC)


# On PostgreSQL one statement over arrays: SQLAlchemy's insertmanyvalues renders a new
# multi-row VALUES text per 1,000 rows, which psycopg re-parses in Python every time.
_UNNEST_INSERT = text(
    "INSERT INTO outbox (dedup_key, school_id, recipient_id, item_id, kind, status, attempts, "
    "created_at, next_attempt_at) "
    "SELECT k, s, r, i, kind, 'pending', 0, :created, n FROM unnest("
    "CAST(:keys AS text[]), CAST(:schools AS int[]), CAST(:recipients AS int[]), "
    "CAST(:items AS int[]), CAST(:kinds AS text[]), CAST(:sends AS timestamptz[])) "
    "AS t(k, s, r, i, kind, n) "
    "ON CONFLICT (dedup_key) DO NOTHING RETURNING item_id, kind"
)


def _insert(session: Session, rows: list[dict[str, Any]], report: PlanReport) -> None:
    """Insert outbox rows, skipping any whose de-duplication key is already there."""
    if session.get_bind().dialect.name == "postgresql":
        params = {
            "created": rows[0]["created_at"],
            "keys": [r["dedup_key"] for r in rows],
            "schools": [r["school_id"] for r in rows],
            "recipients": [r["recipient_id"] for r in rows],
            "items": [r["item_id"] for r in rows],
            "kinds": [r["kind"] for r in rows],
            "sends": [r["next_attempt_at"] for r in rows],
        }
        inserted = session.execute(_UNNEST_INSERT, params)
    else:
        stmt = (
            sqlite.insert(Outbox)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(Outbox.item_id, Outbox.kind)
        )
        inserted = session.execute(stmt, rows)
    report.written += len(inserted.all())
