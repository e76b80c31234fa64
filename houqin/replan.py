"""Re-planning: open items' deadlines follow the calendar after it changes.

Each open item of an active run gets the deadline launching would give it now: the run's
template as launched, through ``houqin.launch.plan_items`` (the one source of deadlines), matched
by item key. A change is shown old → new with the calendar field that caused it, found by
comparing the calendar the ledger last planned from (``houqin.calendar_state``) with today's.
Applying it updates the item, writes one ``item.replanned`` audit event, withdraws the reminders
still waiting for the old deadline (the sweep plans them again for the new one) and queues one
``moved`` line for the owner, told in their next message. Done and waived items are never
touched; a second run finds nothing to move.

An occurrence the calendar now has and the run lacks (高考 a day longer: that day's duties; a
term a week longer: that week's) is added as launching would add it, with an ``item.added``
audit event naming the calendar field; its owner is reminded by the sweep as for any item. An
occurrence the calendar no longer has is listed, not removed: a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calendars import CalendarBook
from houqin import calendar_state, school_settings
from houqin.due_rules import DueRule
from houqin.errors import UserError
from houqin.launch import PlannedItem, add_items, plan_items
from houqin.models import AuditEvent, Item, ItemShare, Outbox, Person, PlanRun, School
from houqin.periods import parse_period
from houqin.plan_specs import ItemSpec, PlanTemplate
from houqin.plan_templates import template_from_dict
from houqin.recurrence import series_key
from houqin.school_settings import SchoolSettingsError

ACTION = "item.replanned"
ADDED = "item.added"
MOVED = "moved"  # outbox kind prefix: "moved:YYYY-MM-DD", the deadline the owner last knew

# anchor event -> where a school-year file holds it
_FIELDS = {
    "autumn_term": "terms.autumn",
    "spring_term": "terms.spring",
    "winter_break": "breaks.winter",
    "summer_break": "breaks.summer",
    "autumn_finals": "exams.autumn_finals",
    "spring_finals": "exams.spring_finals",
    "gaokao": "exams.gaokao",
    "zhongkao": "exams.zhongkao",
    "safety_month": "campaigns.safety_month",
    "quality_month": "campaigns.quality_month",
}
_TERM = {1: ("autumn_term", "autumn_finals"), 2: ("spring_term", "spring_finals")}


@dataclass(frozen=True)
class Move:
    """One open item whose deadline (or 暂定 mark) the calendar now changes."""

    item_id: int
    run_id: int
    school_id: int
    school: str
    plan: str
    period: str
    key: str
    title_zh: str
    title_en: str | None
    owner_id: int
    owner: str
    old_at: datetime
    new_at: datetime
    old_provisional: bool
    new_provisional: bool
    causes: tuple[str, ...]
    revision: int
    # an occurrence's title names its date (（第1天 6月7日）): the new one when it moved, else None
    new_title: tuple[str, str | None] | None = None

    @property
    def moved(self) -> bool:
        return self.old_at != self.new_at


@dataclass(frozen=True)
class Addition:
    """An occurrence the calendar now has and the run lacks, as launching would plan it."""

    run_id: int
    school_id: int
    school: str
    plan: str
    period: str
    planned: PlannedItem
    causes: tuple[str, ...]


@dataclass
class ReplanReport:
    moves: list[Move] = field(default_factory=list)
    added: list[Addition] = field(default_factory=list)  # occurrences to add (added, applied)
    checked: int = 0  # open items compared
    applied: bool = False
    withdrawn: int = 0  # reminders waiting for an old deadline, withdrawn
    told: int = 0  # "deadline moved" lines queued for owners
    skipped: list[str] = field(default_factory=list)  # runs or items left as they were, and why


def replan(
    session: Session,
    *,
    book: CalendarBook,
    now: datetime,
    school: str | None = None,
    period: str | None = None,
    apply: bool = False,
    by: str = "replan",
) -> ReplanReport:
    """Compare (and with ``apply``, set) every open item's deadline with the calendar's."""
    before = calendar_state.book_of(calendar_state.latest(session))
    report = ReplanReport(applied=apply)
    runs = select(PlanRun).join(School, School.id == PlanRun.school_id)
    runs = runs.where(PlanRun.status == "active").order_by(PlanRun.id)
    if school is not None:
        runs = runs.where(School.code == school)
    if period is not None:
        runs = runs.where(PlanRun.period == period)
    templates: dict[int, PlanTemplate] = {}
    for run in session.scalars(runs).all():
        try:
            report.moves += _run_moves(session, run, book, before, templates, report)
        except (UserError, ValueError) as exc:  # one run that cannot be planned blocks no other
            report.skipped.append(
                f"{run.school.code} {run.template_key} {run.period}: not re-planned: {exc}"
            )
    if apply:
        _apply(session, report.moves, now=now, by=by, report=report)
        _add(session, report.added, templates, now=now, by=by, report=report)
        if school is None and period is None:  # every run follows these files now
            calendar_state.remember(session, book, now)
    return report


def follow_calendar(session: Session, *, book: CalendarBook, now: datetime) -> ReplanReport | None:
    """The sweep's first step: re-plan everything when the calendar files changed since deadlines
    were last planned. A ledger with no snapshot yet (launched before snapshots) takes one as its
    baseline; ``houqin replan`` by hand covers an edit made before that."""
    if calendar_state.latest(session) is None:
        calendar_state.baseline(session, book, now)
        return None
    if not calendar_state.changed(session, book):
        return None
    return replan(session, book=book, now=now, apply=True, by="sweep")


def _run_moves(
    session: Session,
    run: PlanRun,
    book: CalendarBook,
    before: CalendarBook | None,
    templates: dict[int, PlanTemplate],
    report: ReplanReport,
) -> list[Move]:
    items = session.scalars(
        select(Item).where(Item.run_id == run.id, Item.status == "open").order_by(Item.position)
    ).all()
    if not items:
        return []
    if run.template_id not in templates:
        templates[run.template_id] = template_from_dict(run.template.body)
    template = templates[run.template_id]
    parsed = parse_period(run.period, template.period)
    planned = _planned(session, run, book, templates)
    wanted = select(Person.id, Person.name).where(Person.id.in_({i.owner_id for i in items}))
    owners: dict[int, str] = dict(session.execute(wanted).tuples().all())
    zone = school_settings.zone(run.school)
    moves = []
    for item in items:
        report.checked += 1
        p = planned.get(item.key)
        if p is None:
            report.skipped.append(
                f"{run.school.code} {run.template_key} {run.period}: item {item.id} ({item.key}) "
                "is not in the plan as launched; left as it is"
            )
            continue
        if item.shared is not None:  # one item for several plans: the earliest deadline wins
            p = min(
                [p, *_claims(session, item, book, templates)],
                key=lambda c: c.due_at.astimezone(UTC),
            )
        new_at = p.due_at.astimezone(UTC)
        old_at = item.due_at.astimezone(UTC)
        if new_at == old_at and p.due_provisional == item.due_provisional:
            continue
        causes = explain(
            _rule(template, item.key),
            before=before,
            after=book,
            year=parsed.school_year,
            term=parsed.term,
            old_day=old_at.astimezone(zone).date(),
            new_day=new_at.astimezone(zone).date(),
        )
        moves.append(
            Move(
                item_id=item.id,
                run_id=run.id,
                school_id=run.school_id,
                school=run.school.code,
                plan=run.template_key,
                period=run.period,
                key=item.key,
                title_zh=item.title_zh,
                title_en=item.title_en,
                owner_id=item.owner_id,
                owner=owners.get(item.owner_id, ""),
                old_at=old_at,
                new_at=new_at,
                old_provisional=item.due_provisional,
                new_provisional=p.due_provisional,
                causes=tuple(causes),
                revision=item.revision,
                new_title=_new_title(item, p),
            )
        )
    report.added += _additions(session, run, template, planned, book, before)
    return moves


def _new_title(item: Item, p: PlannedItem) -> tuple[str, str | None] | None:
    """An occurrence's title as planned now, when its date in it changed (its own item only:
    a shared one keeps the title it was made with)."""
    title = (p.title_zh, p.title_en)
    mine = "@" in item.key and item.shared is None and p.key == item.key
    return title if mine and title != (item.title_zh, item.title_en) else None


def _additions(
    session: Session,
    run: PlanRun,
    template: PlanTemplate,
    planned: dict[str, PlannedItem],
    book: CalendarBook,
    before: CalendarBook | None,
) -> list[Addition]:
    """Occurrences of the run's recurring tasks that the calendar now plans and the run has no
    item (nor a shared claim) for. Only occurrences of a series the run already has: a task the
    run never had is not the calendar's doing."""
    if not any(spec.repeat is not None for spec in template.items):
        return []  # no recurring task: nothing the calendar can add (and no query)
    have = set(session.scalars(select(Item.key).where(Item.run_id == run.id)))
    have |= set(session.scalars(select(ItemShare.key).where(ItemShare.run_id == run.id)))
    series = {series_key(k) for k in have if "@" in k}
    specs = {s.key: s for s in template.items}
    parsed = parse_period(run.period, template.period)
    return [
        Addition(
            run_id=run.id,
            school_id=run.school_id,
            school=run.school.code,
            plan=run.template_key,
            period=run.period,
            planned=p,
            causes=tuple(
                _span_causes(specs[p.spec_key], before, book, parsed.school_year, parsed.term)
            ),
        )
        for key, p in planned.items()
        if "@" in key and key not in have and series_key(key) in series
    ]


def _span_causes(
    spec: ItemSpec, before: CalendarBook | None, after: CalendarBook, year: str, term: int | None
) -> list[str]:
    """The calendar fields whose change made a new occurrence, old → new (高考's end, a term's
    end); else the repeat rule itself, with the file."""
    name = after.school_year(year).path.replace("\\", "/").rsplit("/", 1)[-1]
    event = spec.repeat.event if spec.repeat is not None else None
    causes = []
    if event is not None and before is not None:
        for edge in ("start", "end"):
            anchor = f"{event}.{edge}"
            old, new = _anchor(before, year, anchor, term), _anchor(after, year, anchor, term)
            if old != new:
                causes.append(f"{name} {anchor_field(anchor, term)}: {old} → {new}")
    return causes or [f"{name}: {spec.repeat}"]


def _planned(
    session: Session, run: PlanRun, book: CalendarBook, templates: dict[int, PlanTemplate]
) -> dict[str, PlannedItem]:
    """A run's items as its template plans them with ``book`` (templates cached by version)."""
    if run.template_id not in templates:
        templates[run.template_id] = template_from_dict(run.template.body)
    template = templates[run.template_id]
    parsed = parse_period(run.period, template.period)
    found = plan_items(session, template=template, school=run.school, period=parsed, book=book)
    return {p.key: p for p in found}


def _claims(
    session: Session, item: Item, book: CalendarBook, templates: dict[int, PlanTemplate]
) -> list[PlannedItem]:
    """What the other plans reaching a shared item (houqin/shared_tasks.py) now plan for it."""
    found = []
    for share in session.scalars(select(ItemShare).where(ItemShare.item_id == item.id)):
        other = session.get(PlanRun, share.run_id)
        if other is not None and other.status == "active":
            planned = _planned(session, other, book, templates).get(share.key)
            if planned is not None:
                found.append(planned)
    return found


def _rule(template: PlanTemplate, key: str) -> DueRule | None:
    """The due rule behind an item key: its task's, or for an occurrence (a key made from a
    task's key) the longest task key it starts with."""
    specs = {s.key: s for s in template.items}
    if key in specs:
        return specs[key].due
    prefixes = [k for k in specs if key.startswith(k)]
    return specs[max(prefixes, key=len)].due if prefixes else None


def anchor_field(anchor: str, term: int | None) -> str:
    """Where a school-year file holds an anchor: ``gaokao.start`` -> ``exams.gaokao.start``."""
    event, _, edge = anchor.partition(".")
    if event == "term" and term in _TERM:
        span, finals = _TERM[term]
        event, edge = (finals, "start") if edge == "finals" else (span, edge)
    return f"{_FIELDS.get(event, event)}.{edge}"


def explain(
    rule: DueRule | None,
    *,
    before: CalendarBook | None,
    after: CalendarBook,
    year: str,
    term: int | None,
    old_day: date,
    new_day: date,
) -> list[str]:
    """The calendar fields that moved a deadline, each with its old and new value; without an
    earlier calendar to compare, the fields the new deadline rests on."""
    school_year = after.school_year(year)
    name = school_year.path.replace("\\", "/").rsplit("/", 1)[-1]
    causes: list[str] = []
    bases: list[date] = []
    anchor = None
    new_base: date | None = None
    if rule is not None and rule.kind == "anchor" and rule.anchor is not None:
        anchor = anchor_field(rule.anchor, term)
        new_base = _anchor(after, year, rule.anchor, term)
        old_base = _anchor(before, year, rule.anchor, term) if before else None
        bases = [d for d in (new_base, old_base) if d is not None]
        if before is not None and old_base != new_base:
            causes.append(f"{name} {anchor}: {old_base} → {new_base}")
    days = [old_day, new_day, *bases]
    years = sorted({d.year for d in days})
    if before is not None:
        lo, hi = min(days) - timedelta(days=7), max(days) + timedelta(days=7)
        changed: dict[str, list[str]] = {}
        d = lo
        while d <= hi:
            was, now = _workday(before, d), _workday(after, d)
            if was is not None and now is not None and was != now:
                where = (
                    f"{name} overrides"
                    if after.overridden(d) or before.overridden(d)
                    else f"holiday_arrangements.{d.year}"
                )
                changed.setdefault(where, []).append(f"{d:%m-%d} {'上班' if now else '放假'}")
            d += timedelta(days=1)
        causes += [f"{where}: {', '.join(what)}" for where, what in changed.items()]
        for y in years:
            was_p, now_p = before.is_provisional(date(y, 1, 1)), after.is_provisional(date(y, 1, 1))
            if was_p != now_p:
                state = "provisional → official" if was_p else "official → provisional"
                causes.append(f"holiday_arrangements.{y}.status: {state}")
    if not causes:  # nothing to compare with: what the deadline rests on now
        if anchor is not None:
            causes.append(f"{name} {anchor} = {new_base}")
        for y in years:
            arrangement = after.arrangement(y)
            if arrangement is not None:
                causes.append(f"holiday_arrangements.{y}.status = {arrangement.status}")
        causes = causes or [f"{name} (the calendar)"]
    return causes


def _anchor(book: CalendarBook | None, year: str, anchor: str, term: int | None) -> date | None:
    if book is None or year not in book.school_years:
        return None
    try:
        return book.school_years[year].anchor(anchor, term)
    except UserError:
        return None


def _workday(book: CalendarBook, d: date) -> bool | None:
    try:
        return book.is_workday(d)
    except UserError:
        return None


_I = cast(Table, Item.__table__)
_O = cast(Table, Outbox.__table__)
_CHUNK = 1000  # ids per IN (...) list


def _apply(
    session: Session, moves: list[Move], *, now: datetime, by: str, report: ReplanReport
) -> None:
    """Set every move, in batches: a conditional UPDATE per item (a race is named and left for
    the next run), then the audit events, the withdrawals and the owners' lines in bulk."""
    done: list[Move] = []
    for m in moves:  # one statement, compiled once; its row count says whether the row was
        # still as read (executemany would not say which rows)
        changed = session.execute(
            _MOVE,
            {
                "iid": m.item_id,
                "seen": m.revision,
                "due": m.new_at,
                "provisional": m.new_provisional,
                "next": m.revision + 1,
                "title_zh": m.new_title[0] if m.new_title else None,
                "title_en": m.new_title[1] if m.new_title else None,
            },
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            done.append(m)
        else:
            report.skipped.append(f"item {m.item_id} changed meanwhile; run houqin replan again")
    if not done:
        return
    session.execute(
        insert(AuditEvent),
        [
            {
                "at": now,
                "actor": by,
                "action": ACTION,
                "school_id": m.school_id,
                "run_id": m.run_id,
                "item_id": m.item_id,
                "details": {
                    "old": m.old_at.isoformat(),
                    "new": m.new_at.isoformat(),
                    "old_provisional": m.old_provisional,
                    "new_provisional": m.new_provisional,
                    "cause": list(m.causes),
                },
            }
            for m in done
        ],
    )
    _withdraw_and_tell(session, [m for m in done if m.moved], now=now, report=report)
    session.expire_all()  # items loaded before the UPDATEs read their new deadlines again


def _add(
    session: Session,
    added: list[Addition],
    templates: dict[int, PlanTemplate],
    *,
    now: datetime,
    by: str,
    report: ReplanReport,
) -> None:
    """Each run's new occurrences written as launching writes items, each with an
    ``item.added`` audit event; a run another re-plan added them to meanwhile is named and left."""
    by_run: dict[int, list[Addition]] = {}
    for a in added:
        by_run.setdefault(a.run_id, []).append(a)
    for run_id, adds in by_run.items():
        run = session.get_one(PlanRun, run_id)
        planned = [a.planned for a in adds]
        try:
            with session.begin_nested():
                _, held = add_items(
                    session,
                    run=run,
                    template=templates[run.template_id],
                    school=run.school,
                    planned=planned,
                    by=by,
                    now=now,
                )
        except IntegrityError:
            report.skipped.append(
                f"{run.school.code} {run.template_key} {run.period}: occurrences added "
                "meanwhile; run houqin replan again"
            )
            report.added = [a for a in report.added if a.run_id != run_id]  # not by this run
            continue
        found = select(Item.key, Item.id).where(
            Item.run_id == run_id, Item.key.in_([p.key for p in planned])
        )
        ids = dict(session.execute(found).tuples().all())
        session.execute(
            insert(AuditEvent),
            [
                {
                    "at": now,
                    "actor": by,
                    "action": ADDED,
                    "school_id": a.school_id,
                    "run_id": run_id,
                    "item_id": ids[a.planned.key]
                    if a.planned.key in ids
                    else held[a.planned.key].id,
                    "details": {
                        "key": a.planned.key,
                        "due": a.planned.due_at.isoformat(),
                        "provisional": a.planned.due_provisional,
                        "cause": list(a.causes),
                    },
                }
                for a in adds
            ],
        )


def _withdraw_and_tell(
    session: Session, moves: list[Move], *, now: datetime, report: ReplanReport
) -> None:
    """Reminders still waiting for an old deadline are withdrawn (kept, with why, counted by
    ``houqin outbox``; their de-duplication key freed so the sweep plans the step again), and
    each owner gets one "moved" line per item: a second move before it is sent replaces it,
    keeping the date the owner last knew."""
    if not moves:
        return
    schools = {
        s.id: s
        for s in session.scalars(select(School).where(School.id.in_({m.school_id for m in moves})))
    }
    zones = {i: school_settings.zone(s) for i, s in schools.items()}  # checked in _run_moves
    known = {m.item_id: m.old_at.astimezone(zones[m.school_id]).date() for m in moves}
    by_item = {m.item_id: m for m in moves}
    ids = sorted(by_item)
    withdrawn: list[dict[str, Any]] = []
    for lo in range(0, len(ids), _CHUNK):
        waiting = session.execute(
            select(_O.c.id, _O.c.item_id, _O.c.kind, _O.c.dedup_key).where(
                _O.c.item_id.in_(ids[lo : lo + _CHUNK]),
                _O.c.status == "pending",
                _O.c.delivery_id.is_(None),
            )
        ).all()
        for row_id, item_id, kind, key in waiting:
            move = by_item[item_id]
            zone = zones[move.school_id]
            was, new = move.old_at.astimezone(zone).date(), move.new_at.astimezone(zone).date()
            if kind.startswith(f"{MOVED}:"):  # not yet told: tell the date the owner knew
                known[item_id] = min(known[item_id], date.fromisoformat(kind.partition(":")[2]))
            else:
                report.withdrawn += 1
            withdrawn.append(
                {
                    "row": row_id,
                    "why": f"withdrawn: deadline moved {was} → {new} (houqin replan)",
                    "key": f"{key}:withdrawn:{row_id}"[:200],
                }
            )
    if withdrawn:
        session.execute(_WITHDRAW, withdrawn)
    send_at: dict[int, datetime] = {}
    for school_id, school in schools.items():
        try:
            send_at[school_id] = school_settings.quiet_until(now, school)
        except SchoolSettingsError:
            send_at[school_id] = now
    session.execute(
        insert(Outbox),
        [
            {
                "dedup_key": f"{m.item_id}:{MOVED}:{m.revision + 1}:{m.owner_id}",
                "school_id": m.school_id,
                "recipient_id": m.owner_id,
                "item_id": m.item_id,
                "kind": f"{MOVED}:{known[m.item_id].isoformat()}",
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": send_at[m.school_id],
            }
            for m in moves
        ],
    )
    report.told += len(moves)


# by primary key: compiled once, run per item (_MOVE) or as one executemany (_WITHDRAW)
_MOVE = (
    update(_I)
    .where(_I.c.id == bindparam("iid"), _I.c.revision == bindparam("seen"), _I.c.status == "open")
    .values(
        due_at=bindparam("due"),
        due_provisional=bindparam("provisional"),
        revision=bindparam("next"),
        title_zh=func.coalesce(bindparam("title_zh", type_=String), _I.c.title_zh),
        title_en=func.coalesce(bindparam("title_en", type_=String), _I.c.title_en),
    )
)
_WITHDRAW = (
    update(_O)
    .where(_O.c.id == bindparam("row"))
    .values(status="withdrawn", last_error=bindparam("why"), dedup_key=bindparam("key"))
)


def recent(session: Session, *, school_id: int | None = None, limit: int = 200) -> list[Any]:
    """The latest ``item.replanned`` events with their items (for the head's page)."""
    stmt = (
        select(
            Item.id,
            Item.title_zh,
            Item.title_en,
            Item.status,
            PlanRun.template_key,
            PlanRun.period,
            Person.name.label("owner"),
            Item.due_provisional,
        )
        .join(PlanRun, PlanRun.id == Item.run_id)
        .join(Person, Person.id == Item.owner_id)
    )
    events = select(AuditEvent).where(AuditEvent.action == ACTION)
    if school_id is not None:
        events = events.where(AuditEvent.school_id == school_id)
    found = session.scalars(events.order_by(AuditEvent.id.desc()).limit(limit)).all()
    items = {
        row.id: row for row in session.execute(stmt.where(Item.id.in_({e.item_id for e in found})))
    }
    return [(event, items.get(event.item_id)) for event in found]
