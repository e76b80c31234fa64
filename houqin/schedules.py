"""When each plan launches: a template's ``launch:`` rule resolved in every school-year calendar.

prefect.yaml is generated from this (``houqin deployments --write``): one schedule per plan and
school year, a single run at the launch instant. The rule is a due rule (houqin/due_rules.py)
read in the period the plan runs for; the time of day is 08:00 unless the rule says ``@ HH:MM``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars import CalendarBook, SchoolYear
from houqin.due_rules import resolve_due
from houqin.errors import NotFound
from houqin.models import PlanRun, School
from houqin.periods import TERM_OF
from houqin.plan_specs import PlanTemplate
from houqin.school_profiles import applies_to

# After the 07:30 sweep and as the working day starts, so the launch message is read that morning.
LAUNCH_TIME = time(8, 0)


@dataclass(frozen=True)
class LaunchSchedule:
    template: str
    period: str  # "2026-2027", or a term of it: "2026-2027/1" (autumn), "2026-2027/2" (spring)
    at: datetime  # aware, in the school year's time zone (Asia/Shanghai)

    @property
    def timezone(self) -> str:
        return str(self.at.tzinfo)


def period_of(template: PlanTemplate, school_year: SchoolYear) -> str:
    """The period a template is launched for in a school year, as ``launch_plan`` takes it."""
    term = TERM_OF.get(template.period)
    return school_year.key if term is None else f"{school_year.key}/{term}"


def launch_at(template: PlanTemplate, school_year: SchoolYear, book: CalendarBook) -> datetime:
    """The instant ``template`` launches in ``school_year``.

    Raises ValueError when the template has no ``launch:`` rule, and NotFound when the year's
    calendar file lacks the anchor the rule names (a calendar without 高考, say).
    """
    if template.launch is None:
        raise ValueError(f"plan {template.key} has no launch: rule")
    resolved = resolve_due(
        template.launch,
        school_year=school_year,
        book=book,
        term=TERM_OF.get(template.period),
        default_time=LAUNCH_TIME,
    )
    return resolved.at(ZoneInfo(school_year.timezone))


def launch_schedules(templates: Iterable[PlanTemplate], book: CalendarBook) -> list[LaunchSchedule]:
    """Every template with a ``launch:`` rule × every school year of the book, in key order.

    A year whose calendar lacks the rule's anchor is left out: that school year has no such
    event (a primary school's calendar has no 高考), so there is nothing to launch.
    """
    schedules: list[LaunchSchedule] = []
    for template in sorted(templates, key=lambda t: t.key):
        if template.launch is None:
            continue
        for key in sorted(book.school_years):
            school_year = book.school_years[key]
            try:
                at = launch_at(template, school_year, book)
            except NotFound:
                continue
            schedules.append(LaunchSchedule(template.key, period_of(template, school_year), at))
    return schedules


@dataclass(frozen=True)
class DueLaunch:
    """A launch whose instant has passed and that the ledger does not have yet."""

    template: str
    school: str
    period: str
    at: datetime


def due_launches(
    session: Session, templates: Iterable[PlanTemplate], book: CalendarBook, now: datetime
) -> list[DueLaunch]:
    """Every (plan, school, period) whose launch instant is at or before ``now``, whose period
    has not ended, that applies to the school and is not launched: level-triggered, so a launch
    missed while the system was down happens at the next check instead of never."""
    plans = {t.key: t for t in templates}
    schools = list(session.scalars(select(School).order_by(School.code)))
    launched = set(session.execute(select(PlanRun.template_key, PlanRun.school_id, PlanRun.period)))
    due = []
    for s in launch_schedules(plans.values(), book):
        if s.at > now or _period_end(plans[s.template], s.period, book) < now.date():
            continue
        for school in schools:
            key = (s.template, school.id, s.period)
            if key not in launched and applies_to(plans[s.template], school):
                due.append(DueLaunch(s.template, school.code, s.period, s.at))
    return sorted(due, key=lambda d: (d.school, d.at, d.template))


def _period_end(template: PlanTemplate, period: str, book: CalendarBook) -> date:
    """The last day of ``period``: a plan whose period is over is not launched late."""
    school_year = book.school_years[period.split("/")[0]]
    term = TERM_OF.get(template.period)
    return school_year.last_day if term is None else school_year.term_range(term)[1]


SWEEP_TIMES = (time(7, 30), time(16, 30))


@dataclass(frozen=True)
class WorkdaySchedule:
    """The sweep's schedule for one school year: Monday to Friday at each time, plus the
    调休 working weekend days (RDATE), minus the weekday holidays (EXDATE)."""

    school_year: str
    first: date
    last: date
    extra: tuple[date, ...]  # weekend days that are working days
    off: tuple[date, ...]  # weekdays that are not

    def rrule(self, times: tuple[time, ...] = SWEEP_TIMES) -> str:
        hours = ",".join(str(t.hour) for t in times)
        minute = times[0].minute
        assert all(t.minute == minute for t in times), "one minute for every time of day"
        first = datetime.combine(self.first, time(0, 0))
        until = datetime.combine(self.last, time(23, 59, 59))

        def stamps(days: tuple[date, ...]) -> str:
            return ",".join(f"{datetime.combine(d, t):%Y%m%dT%H%M%S}" for d in days for t in times)

        lines = [
            f"DTSTART:{first:%Y%m%dT%H%M%S}",
            f"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR={hours};BYMINUTE={minute};"
            f"BYSECOND=0;UNTIL={until:%Y%m%dT%H%M%S}",
        ]
        if self.extra:
            lines.append(f"RDATE:{stamps(self.extra)}")
        if self.off:
            lines.append(f"EXDATE:{stamps(self.off)}")
        return "\n".join(lines)


def workday_schedules(book: CalendarBook) -> list[WorkdaySchedule]:
    """One schedule per school year of the book, the years' spans not overlapping (a year
    runs from Aug 1, or the day after the previous year's file ends, to Aug 31)."""
    schedules = []
    previous_last: date | None = None
    for key in sorted(book.school_years):
        year = book.school_years[key]
        first = year.first_day
        if previous_last is not None and first <= previous_last:
            first = previous_last + timedelta(days=1)
        extra: list[date] = []
        off: list[date] = []
        day = first
        while day <= year.last_day:
            weekday = day.weekday() < 5
            if book.is_workday(day) != weekday:
                (off if weekday else extra).append(day)
            day += timedelta(days=1)
        schedules.append(WorkdaySchedule(key, first, year.last_day, tuple(extra), tuple(off)))
        previous_last = year.last_day
    return schedules
