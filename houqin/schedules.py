"""When each plan launches: a template's ``launch:`` rule resolved in every school-year calendar.

prefect.yaml is generated from this (``houqin deployments --write``): one schedule per plan and
school year, a single run at the launch instant. The rule is a due rule (houqin/due_rules.py)
read in the period the plan runs for; the time of day is 08:00 unless the rule says ``@ HH:MM``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from calendars import CalendarBook, SchoolYear
from houqin.due_rules import resolve_due
from houqin.errors import NotFound
from houqin.periods import TERM_OF
from houqin.plan_specs import PlanTemplate

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
