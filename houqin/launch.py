"""Launching a plan: one plan run and its items, with absolute deadlines, in one batch.

Launching is idempotent per (template, school, period): a second launch finds the run and
changes nothing. Every role the template names must be bound to a person of the school
before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calendars import CalendarBook, SchoolYear
from houqin import audit, calendar_state, shared_tasks
from houqin.due_rules import ResolvedDue, resolve_due
from houqin.errors import NotFound, Problem, ValidationFailed
from houqin.models import Item, Person, PlanRun, PlanTemplateVersion, School
from houqin.people import role_bindings
from houqin.periods import Period, parse_period
from houqin.plan_specs import ItemSpec, PlanTemplate
from houqin.recurrence import Occurrence, occurrences
from houqin.roles import role_label
from houqin.school_profiles import check_applies, item_applies


@dataclass(frozen=True)
class PlannedItem:
    """An item as it will be created: used by the preview and by the launch itself."""

    position: int
    key: str
    phase_key: str
    title_zh: str
    title_en: str | None
    role_key: str
    owner: Person
    due_at: pendulum.DateTime
    due_provisional: bool
    spec_key: str  # the template item; an occurrence's key is "<spec_key>@<label>"
    shared: str | None = None  # the shared task key (with the occurrence's label)


@dataclass(frozen=True)
class LaunchResult:
    run: PlanRun
    created: bool
    items: int
    message: str


class UnboundRoles(ValidationFailed):
    """Roles the template names that nobody holds at the school: one problem per role, at the
    first item that needs it."""


def plan_items(
    session: Session,
    *,
    template: PlanTemplate,
    school: School,
    period: Period,
    book: CalendarBook,
) -> list[PlannedItem]:
    """Resolve every item's owner and deadline; nothing is written."""
    bindings = role_bindings(session, school)
    needed = {spec.role for spec in template.items if item_applies(spec, school)}
    missing = needed - bindings.keys()
    if missing:
        raise UnboundRoles(_unbound(template, school, missing))
    try:
        school_year = book.school_year(period.school_year)
    except NotFound as exc:  # a period without its calendar file is a missing file, as a plan's
        wanted = f"{book.directory}/{period.school_year}.yaml"
        raise ValidationFailed([Problem(wanted, None, "--period", str(exc))]) from None
    planned: list[PlannedItem] = []
    for spec, occurrence, due in deadlines(template, school_year, book, period.term):
        if not item_applies(spec, school):  # a canteen's item, and the school has none
            continue
        due_at = pendulum.datetime(
            due.date.year,
            due.date.month,
            due.date.day,
            due.time.hour,
            due.time.minute,
            tz=school.timezone,
        )
        title_en = spec.title_en
        if occurrence and title_en:
            title_en += occurrence.en
        planned.append(
            PlannedItem(
                position=len(planned),
                key=f"{spec.key}@{occurrence.label}" if occurrence else spec.key,
                phase_key=spec.phase,
                title_zh=spec.title_zh + (occurrence.zh if occurrence else ""),
                title_en=title_en,
                role_key=spec.role,
                owner=bindings[spec.role],
                due_at=due_at,
                due_provisional=due.provisional,
                spec_key=spec.key,
                shared=_with_label(spec.shared, occurrence),
            )
        )
    return planned


def deadlines(
    template: PlanTemplate, school_year: SchoolYear, book: CalendarBook, term: int | None
) -> Iterator[tuple[ItemSpec, Occurrence | None, ResolvedDue]]:
    """Every item's deadline in a period, one per occurrence of a recurring item, in order."""
    for spec in template.items:
        each: list[Occurrence | None] = [None]
        if spec.repeat is not None:
            each = list(occurrences(spec.repeat, school_year=school_year, book=book, term=term))
        for occurrence in each:
            due = resolve_due(
                spec.due,
                school_year=school_year,
                book=book,
                term=occurrence.term if occurrence else term,
                default_time=template.due_time,
                occurrence=occurrence.date if occurrence else None,
            )
            yield spec, occurrence, due


def _with_label(key: str | None, occurrence: Occurrence | None) -> str | None:
    return f"{key}@{occurrence.label}" if key and occurrence else key


def _dependencies(spec: ItemSpec, planned: list[PlannedItem], key: str) -> list[str]:
    """The item keys an item waits for: a recurring dependency's same occurrence, else all."""
    label = key.partition("@")[2]
    keys: list[str] = []
    for dep in spec.depends_on:
        series = [p.key for p in planned if p.spec_key == dep]
        same = f"{dep}@{label}"
        keys += [same] if label and same in series else series
    return keys


def _unbound(template: PlanTemplate, school: School, missing: set[str]) -> list[Problem]:
    first: dict[str, ItemSpec] = {}
    for spec in template.items:
        first.setdefault(spec.role, spec)
    return [
        Problem(
            template.path,
            first[key].line,
            f"items.{first[key].key}.role",
            f"school {school.code!r} has no one bound to {key} ({_label(template, key)}); "
            "add it to the roster and run `houqin people import` (nothing was launched)",
        )
        for key in sorted(missing)
    ]


def _label(template: PlanTemplate, key: str) -> str:
    role = template.roles.get(key)
    return role.zh if role else role_label(key)


def check_launch(
    session: Session,
    *,
    template: PlanTemplate,
    school: School,
    period: str,
    book: CalendarBook,
) -> LaunchResult | None:
    """What ``launch`` would answer for a plan already launched, else None, having checked
    everything a launch needs (the period, its calendar, every role, every deadline) and
    raised as ``launch`` would. Nothing is written."""
    parsed = parse_period(period, template.period)
    existing = _find_run(session, template.key, school.id, str(parsed))
    if existing is not None:
        return _already(session, existing, template)
    check_applies(template, school)
    plan_items(session, template=template, school=school, period=parsed, book=book)
    return None


def launch(
    session: Session,
    *,
    template: PlanTemplate,
    school: School,
    period: str,
    book: CalendarBook,
    by: str,
    now: datetime,
    flow_run_id: str | None = None,
) -> LaunchResult:
    parsed = parse_period(period, template.period)
    existing = _find_run(session, template.key, school.id, str(parsed))
    if existing is not None:
        return _already(session, existing, template)

    check_applies(template, school)
    planned = plan_items(session, template=template, school=school, period=parsed, book=book)
    version = _template_version(session, template, now)
    run = PlanRun(
        template_id=version.id,
        template_key=template.key,
        school_id=school.id,
        period=str(parsed),
        launched_by=by,
        launched_at=now,
        flow_run_id=flow_run_id,
    )
    try:
        # a concurrent launch of the same plan loses here, on the unique constraint
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        winner = _find_run(session, template.key, school.id, str(parsed))
        if winner is None:  # not the concurrent launch: the database refused for its own reason
            raise
        return _already(session, winner, template)

    written, held = add_items(
        session, run=run, template=template, school=school, planned=planned, by=by, now=now
    )
    audit.record(
        session,
        actor=by,
        action="plan.launch",
        at=now,
        school_id=school.id,
        run_id=run.id,
        template=template.key,
        version=template.version,
        period=str(parsed),
        items=written,
        shared={key: item.id for key, item in held.items()},
        flow_run_id=flow_run_id,
    )
    calendar_state.baseline(session, book, now)  # what a later re-plan compares with
    provisional = sum(p.due_provisional for p in planned)
    note = f"; {provisional} deadlines provisional (日期暂定)" if provisional else ""
    if held:
        note += f"; {len(held)} shared with plans launched before (共用已有事项)"
    return LaunchResult(
        run,
        True,
        written,
        f"launched {template.key} for {school.code} {parsed}: {written} items{note}",
    )


def add_items(
    session: Session,
    *,
    run: PlanRun,
    template: PlanTemplate,
    school: School,
    planned: list[PlannedItem],
    by: str,
    now: datetime,
) -> tuple[int, dict[str, Item]]:
    """``planned`` written as items of ``run``, in one batch; a shared task another plan already
    holds is joined instead (houqin/shared_tasks.py). Returns how many items were written and
    the items joined, by key. Launching uses it, and re-planning for an occurrence the calendar
    adds (houqin/replan.py)."""
    phases = {p.key: p for p in template.phases}
    specs = {s.key: s for s in template.items}
    rows = []
    held = shared_tasks.held(session, school, planned)
    for p in planned:
        spec = specs[p.spec_key]
        if p.key in held:  # another plan's item: one item per school, the earlier deadline
            shared_tasks.join(session, held[p.key], p, run=run, by=by, now=now)
            continue
        rows.append(
            {
                "run_id": run.id,
                "school_id": school.id,
                "key": p.key,
                "position": p.position,
                "phase_key": p.phase_key,
                "phase_zh": phases[p.phase_key].title_zh,
                "phase_en": phases[p.phase_key].title_en,
                "title_zh": p.title_zh,
                "title_en": p.title_en,
                "role_key": p.role_key,
                "owner_id": p.owner.id,
                "due_at": p.due_at,
                "due_provisional": p.due_provisional,
                "status": "open",
                "steps": [{"zh": s.zh, "en": s.en, "done": False} for s in spec.steps],
                "evidence_kind": spec.evidence,
                "headcount": spec.headcount,
                "depends_on": _dependencies(spec, planned, p.key),
                "shared": p.shared,
                "remind": list(spec.remind if spec.remind is not None else template.remind),
                "escalate": list(spec.escalate if spec.escalate is not None else template.escalate),
                "revision": 1,
            }
        )
    if rows:
        # one batched INSERT, not a statement per item (nulls rendered: rows without a shared
        # key must not split the batch)
        session.execute(insert(Item).execution_options(render_nulls=True), rows)
    return len(rows), held


def announcement(result: LaunchResult, template: PlanTemplate, school: str) -> dict[str, Any]:
    """The event announcing a new plan run in Prefect's feed, as ``emit_event`` takes it (the
    launch flow's task and the terminal's recorded run send the same one)."""
    return {
        "event": "houqin.plan.launched",
        "resource": {"prefect.resource.id": f"houqin.plan-run.{result.run.id}"},
        "related": [
            {"prefect.resource.id": f"houqin.school.{school}", "prefect.resource.role": "school"},
            {"prefect.resource.id": f"houqin.plan.{template.key}", "prefect.resource.role": "plan"},
        ],
        "payload": {
            "period": result.run.period,
            "items": result.items,
            "version": template.version,
        },
    }


def _find_run(session: Session, key: str, school_id: int, period: str) -> PlanRun | None:
    return session.scalar(
        select(PlanRun).where(
            PlanRun.template_key == key, PlanRun.school_id == school_id, PlanRun.period == period
        )
    )


def _already(session: Session, run: PlanRun, template: PlanTemplate) -> LaunchResult:
    count = session.scalar(select(func.count()).select_from(Item).where(Item.run_id == run.id))
    message = (
        f"already launched as plan run {run.id} on {run.launched_at:%Y-%m-%d}; nothing changed"
    )
    if run.template.version != template.version:
        message += (
            f" (it was launched from version {run.template.version}; "
            f"the template is now {template.version})"
        )
    return LaunchResult(run, False, count or 0, message)


def _template_version(
    session: Session, template: PlanTemplate, now: datetime
) -> PlanTemplateVersion:
    def find() -> PlanTemplateVersion | None:
        return session.scalar(
            select(PlanTemplateVersion).where(
                PlanTemplateVersion.key == template.key,
                PlanTemplateVersion.version == template.version,
            )
        )

    found = find()
    if found is not None:
        return found
    row = PlanTemplateVersion(
        key=template.key,
        version=template.version,
        title_zh=template.title_zh,
        title_en=template.title_en,
        source_path=template.path,
        body=template.to_dict(),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = find()
        assert found is not None
        return found
    return row
