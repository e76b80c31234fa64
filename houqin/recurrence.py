"""Recurring duties: an item's ``repeat:`` rule and the occurrences it makes in a period.

A rule is one of ``each day of EVENT``, ``weekly on WEEKDAY [during term|EVENT]``,
``monthly on N|last workday [during term|EVENT]`` or ``each term`` (docs/plan-templates.md).
Each occurrence becomes its own item at launch, keyed ``<item>@<label>`` with a label that
stays put when the calendar moves (``day2``, ``2027-03``, ``2027-W10``, ``term1``), so a
re-plan matches an occurrence to its item by key. The item's due rule is resolved per
occurrence: the anchor ``occurrence`` is the occurrence's date, ``term.*`` its term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy import ColumnElement, or_

from houqin.due_rules import EVENTS
from houqin.models import Item
from houqin.yaml_reader import suggest

if TYPE_CHECKING:
    from calendars import CalendarBook, SchoolYear

Kind = Literal["each_day", "weekly", "monthly", "each_term"]

FORMS = (
    "each day of EVENT, weekly on WEEKDAY, monthly on N (1-28), monthly on last workday or "
    "each term; weekly and monthly may end in 'during term' or 'during EVENT'"
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# how far ahead an occurrence shows in lists; reminders follow each item's own remind days
HORIZON_DAYS = 14
_EACH_DAY = re.compile(r"each\s+day\s+of\s+(\S+)")
_WEEKLY = re.compile(r"weekly\s+on\s+(\S+)(?:\s+during\s+(\S+))?")
_MONTHLY = re.compile(r"monthly\s+on\s+(last\s+workday|\S+)(?:\s+during\s+(\S+))?")
_EACH_TERM = re.compile(r"each\s+term")
_ZH_MONTH = "{}年{}月"


class RepeatError(ValueError):
    """A repeat rule that cannot be read; the message says why and shows the accepted forms."""


@dataclass(frozen=True)
class Repeat:
    kind: Kind
    event: str | None = None  # each_day: the event; weekly/monthly: the 'during' span
    weekday: int | None = None  # 0 = Monday
    day: int | None = None  # monthly: day of month; None = the last working day

    def __str__(self) -> str:
        """The canonical spelling (what a template's version hash is computed over)."""
        during = f" during {self.event}" if self.event else ""
        if self.kind == "each_day":
            return f"each day of {self.event}"
        if self.kind == "weekly":
            assert self.weekday is not None
            return f"weekly on {WEEKDAYS[self.weekday]}{during}"
        if self.kind == "monthly":
            return f"monthly on {self.day or 'last workday'}{during}"
        return "each term"


@dataclass(frozen=True)
class Occurrence:
    label: str  # the stable part of the item key after '@'
    date: date  # what the anchor ``occurrence`` names
    term: int | None  # the term ``term.*`` anchors resolve to
    zh: str  # appended to the title: （6月8日）
    en: str


def parse_repeat(text: str) -> Repeat:
    """Read a repeat rule; raises RepeatError naming what is wrong."""
    body = " ".join(str(text).lower().split())
    if m := _EACH_DAY.fullmatch(body):
        return Repeat("each_day", event=_event(m[1], text, during=False))
    if m := _WEEKLY.fullmatch(body):
        if m[1] not in WEEKDAYS:
            raise RepeatError(f"in {text!r}: unknown weekday {m[1]!r}{suggest(m[1], WEEKDAYS)}")
        return Repeat("weekly", event=_during(m[2], text), weekday=WEEKDAYS.index(m[1]))
    if m := _MONTHLY.fullmatch(body):
        day = None if m[1].startswith("last") else _day(m[1], text)
        return Repeat("monthly", event=_during(m[2], text), day=day)
    if _EACH_TERM.fullmatch(body):
        return Repeat("each_term")
    first = body.split(" ")[0] if body else ""
    hint = suggest(first, ("each", "weekly", "monthly"))
    raise RepeatError(f"cannot read repeat rule {text!r}{hint}; expected {FORMS}")


def _event(name: str, text: str, *, during: bool) -> str:
    known = ("term", *EVENTS) if during else EVENTS
    if name not in known:
        raise RepeatError(f"in {text!r}: unknown event {name!r}{suggest(name, known)}")
    return name


def _during(name: str | None, text: str) -> str | None:
    return None if name is None else _event(name, text, during=True)


def _day(value: str, text: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 28:
        raise RepeatError(
            f"in {text!r}: day must be 1-28 (every month has it) or 'last workday', "
            "as in 'monthly on 25'"
        )
    return int(value)


def occurrences(
    repeat: Repeat, *, school_year: SchoolYear, book: CalendarBook, term: int | None
) -> list[Occurrence]:
    """Every occurrence in the period (a school year, or term 1 or 2 of it), in date order.

    Raises houqin.errors.NotFound (from the calendar) when an event is not in the year's file.
    """
    if repeat.kind == "each_term":
        return [
            Occurrence(
                f"term{t}", school_year.term_range(t)[0], t, f"（第{t}学期）", f" (term {t})"
            )
            for t in ((term,) if term else (1, 2))
        ]
    if repeat.kind == "each_day":
        start, end = _span(school_year, f"{repeat.event}", term)
        return [
            Occurrence(
                f"day{n}", d, term, f"（第{n}天 {d.month}月{d.day}日）", f" (day {n}, {d:%d %b})"
            )
            for n, d in enumerate(_days(start, end), 1)
        ]
    spans = _spans(repeat, school_year, term)
    found: list[Occurrence] = []
    if repeat.kind == "weekly":
        for start, end in spans:
            for d in _days(start, end):
                if d.weekday() == repeat.weekday:
                    year, week, _ = d.isocalendar()
                    zh, en = f"（{d.month}月{d.day}日）", f" ({d:%d %b})"
                    found.append(
                        Occurrence(f"{year}-W{week:02d}", d, _term_of(school_year, d), zh, en)
                    )
        return found
    for start, end in spans:
        month = date(start.year, start.month, 1)
        while month <= end:
            if repeat.day is None:
                d = book.last_workday_of_month(month.year, month.month)
                if d > end:  # the span ends first (term ends 01-22): its last working day
                    d = end if book.is_workday(end) else book.add_workdays(end, -1)
                    d = d if d.month == month.month else start - timedelta(days=1)
            else:
                d = month.replace(day=repeat.day)
            if start <= d <= end:
                zh, en = f"（{_ZH_MONTH.format(d.year, d.month)}）", f" ({d:%b %Y})"
                label = f"{d.year}-{d.month:02d}"
                found.append(Occurrence(label, d, _term_of(school_year, d), zh, en))
            month = (month + timedelta(days=32)).replace(day=1)
    return found


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _span(school_year: SchoolYear, event: str, term: int | None) -> tuple[date, date]:
    if event == "term":
        assert term is not None
        return school_year.term_range(term)
    return school_year.anchor(f"{event}.start"), school_year.anchor(f"{event}.end")


def _spans(repeat: Repeat, school_year: SchoolYear, term: int | None) -> list[tuple[date, date]]:
    """Where weekly and monthly occurrences fall: the period, narrowed by 'during'."""
    if repeat.event == "term" or (repeat.event is None and term is not None):
        return [school_year.term_range(t) for t in ((term,) if term else (1, 2))]
    if repeat.event is not None:
        return [_span(school_year, repeat.event, term)]
    # a whole school year: September to August (the year's first day, Aug 1, is last summer's)
    return [(date(school_year.start_year, 9, 1), school_year.last_day)]


def _term_of(school_year: SchoolYear, d: date) -> int | None:
    for t in (1, 2):
        start, end = school_year.term_range(t)
        if start <= d <= end:
            return t
    return None


def shown_by(now: datetime) -> ColumnElement[bool]:
    """Items a person's list shows at ``now``: every one-off item; an occurrence of a recurring
    one only from HORIZON_DAYS before its deadline, so a year of monthly items is no flood."""
    return or_(~Item.key.contains("@"), Item.due_at <= now + timedelta(days=HORIZON_DAYS))


def series_key(item_key: str) -> str:
    """The template item an occurrence item came from: ``gaokao_open_rooms@day2`` → its series."""
    return item_key.partition("@")[0]
