"""Due rules: when a plan item falls due, written relative to the school calendar.

A rule is one of ``MM-DD``, ``ANCHOR``, ``ANCHOR ± N days|weeks|workdays`` or ``month M``,
optionally followed by ``@ HH:MM`` (see docs/plan-templates.md). ``parse_due`` reads the text;
``resolve_due`` turns a rule into a date with a school year's calendar.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from calendars import CalendarBook, SchoolYear

Kind = Literal["date", "anchor", "month"]
Unit = Literal["days", "weeks", "workdays"]

TERM_ANCHORS: frozenset[str] = frozenset({"term.start", "term.end", "term.finals"})
OCCURRENCE = "occurrence"  # a recurring item's occurrence date (houqin/recurrence.py)
EVENTS = (
    "autumn_term",
    "winter_break",
    "spring_term",
    "summer_break",
    "autumn_finals",
    "spring_finals",
    "gaokao",
    "zhongkao",
    "safety_month",
    "quality_month",
)
KNOWN_ANCHORS: frozenset[str] = TERM_ANCHORS | {
    f"{e}.{edge}" for e in EVENTS for edge in ("start", "end")
}

FORMS = (
    "MM-DD, ANCHOR, ANCHOR ± N days|weeks|workdays, MM-DD ± N days|weeks|workdays or month M,"
    " optionally ending in @ HH:MM"
)

# Days per month in any year: 02-29 is refused because a yearly plan must resolve every year.
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_UNITS: dict[str, Unit] = {
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "workday": "workdays",
    "workdays": "workdays",
}
_DATE = re.compile(r"(\d{1,2})\s*-\s*(\d{1,2})")
_MONTH = re.compile(r"month\s*(.*)")
_ANCHOR = re.compile(r"([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*|occurrence\b)\s*(.*)")
_OFFSET = re.compile(r"([+-])\s*(\d+)\s*([a-z]*)")
_TIME = re.compile(r"(\d{1,2})\s*:\s*(\d{2})")


class DueRuleError(ValueError):
    """A due rule that cannot be read; the message says why and shows the accepted forms."""


@dataclass(frozen=True)
class DueRule:
    kind: Kind
    month: int | None = None
    day: int | None = None
    anchor: str | None = None
    offset: int = 0  # signed; 0 for plain dates, months and bare anchors
    unit: Unit | None = None
    at: time | None = None
    text: str = ""

    def __str__(self) -> str:
        """The canonical spelling (what a template's version hash is computed over)."""
        if self.kind == "month":
            body = f"month {self.month}"
        else:
            body = f"{self.month:02d}-{self.day:02d}" if self.kind == "date" else str(self.anchor)
            if self.unit is not None:
                sign = "-" if self.offset < 0 else "+"
                body = f"{body} {sign} {abs(self.offset)} {self.unit}"
        return f"{body} @ {self.at:%H:%M}" if self.at else body


@dataclass(frozen=True)
class ResolvedDue:
    date: date
    time: time
    provisional: bool  # the date rests on holiday data not yet announced (see calendars/)

    def at(self, tz: tzinfo) -> datetime:
        return datetime.combine(self.date, self.time, tzinfo=tz)


def parse_time(text: str) -> time:
    """Read ``HH:MM`` (24-hour clock); raises DueRuleError."""
    m = _TIME.fullmatch(text.strip())
    if not m:
        raise DueRuleError(f"time {text.strip()!r} is not HH:MM (24-hour clock, e.g. 18:00)")
    hour, minute = int(m[1]), int(m[2])
    if hour > 23 or minute > 59:
        raise DueRuleError(f"time {text.strip()!r} does not exist: hours 0-23, minutes 0-59")
    return time(hour, minute)


def parse_due(text: str) -> DueRule:
    """Read a due rule; raises DueRuleError naming what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise DueRuleError(f"due rule is empty; expected {FORMS}")
    # Typographic minus signs come in from word processors.
    body, at_sign, at_text = text.replace("−", "-").replace("－", "-").partition("@")
    body = body.strip()
    at = _parse_at(at_text, text) if at_sign else None
    if not body:
        raise DueRuleError(f"due rule {text!r} has a time but no date; expected {FORMS}")
    if m := _MONTH.fullmatch(body):
        return DueRule("month", month=_month(m[1].strip(), text), at=at, text=text)
    if body[0].isdigit():
        date_part, _, rest = body.partition(" ")  # "10-01 + 1 workdays": a date as the base
        month, day = _date(date_part if rest.strip()[:1] in ("+", "-") else body, text)
        if rest.strip()[:1] not in ("+", "-"):
            return DueRule("date", month=month, day=day, at=at, text=text)
        offset, unit = _offset(rest.strip(), text)
        return DueRule("date", month=month, day=day, offset=offset, unit=unit, at=at, text=text)
    if m := _ANCHOR.fullmatch(body):
        anchor = _anchor(m[1], text)
        if not m[2]:
            return DueRule("anchor", anchor=anchor, at=at, text=text)
        offset, unit = _offset(m[2], text)
        return DueRule("anchor", anchor=anchor, offset=offset, unit=unit, at=at, text=text)
    close = difflib.get_close_matches(body.split()[0], sorted(KNOWN_ANCHORS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise DueRuleError(f"cannot read due rule {text!r}{hint}; expected {FORMS}")


def _parse_at(at_text: str, text: str) -> time:
    if "@" in at_text:
        raise DueRuleError(f"in {text!r}: a due rule ends in one '@ HH:MM' at most")
    try:
        return parse_time(at_text)
    except DueRuleError as exc:
        raise DueRuleError(f"in {text!r}, after @: {exc}") from None


def _month(value: str, text: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 12:
        raise DueRuleError(f"in {text!r}: month must be a number 1-12, as in 'month 4'")
    return int(value)


def _date(body: str, text: str) -> tuple[int, int]:
    m = _DATE.fullmatch(body)
    if not m:
        hint = (
            "give the date without the year, as MM-DD"
            if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", body)
            else f"expected {FORMS}"
        )
        raise DueRuleError(f"cannot read due rule {text!r}; {hint}")
    month, day = int(m[1]), int(m[2])
    if not 1 <= month <= 12:
        raise DueRuleError(f"in {text!r}: month {month} does not exist (MM-DD, month 01-12)")
    if month == 2 and day == 29:
        raise DueRuleError(f"in {text!r}: 02-29 does not exist every year; use 02-28 or 'month 2'")
    if not 1 <= day <= _MONTH_DAYS[month - 1]:
        raise DueRuleError(f"in {text!r}: month {month} has no day {day}")
    return month, day


def _anchor(name: str, text: str) -> str:
    if name in KNOWN_ANCHORS or name == OCCURRENCE:
        return name
    close = difflib.get_close_matches(name, sorted(KNOWN_ANCHORS), n=1)
    hint = f"did you mean {close[0]}?" if close else "see the anchors in docs/plan-templates.md"
    raise DueRuleError(f"in {text!r}: unknown anchor {name!r}; {hint}")


def _offset(rest: str, text: str) -> tuple[int, Unit]:
    m = _OFFSET.fullmatch(rest)
    if not m:
        raise DueRuleError(
            f"in {text!r}: after the anchor expected '+ N' or '- N' and a unit "
            f"(days, weeks, workdays), as in 'gaokao.start - 3 workdays'"
        )
    unit = _UNITS.get(m[3])
    if unit is None:
        what = f"unknown unit {m[3]!r}" if m[3] else "missing unit"
        raise DueRuleError(f"in {text!r}: {what}; use days, weeks or workdays")
    n = int(m[2])
    return (-n if m[1] == "-" else n), unit


def resolve_due(
    rule: DueRule,
    *,
    school_year: SchoolYear,
    book: CalendarBook,
    term: int | None,
    default_time: time,
    occurrence: date | None = None,
) -> ResolvedDue:
    """The date and time a rule falls on in a school year (term 1 or 2 for term plans).

    Raises houqin.errors.NotFound (from the calendar) when an anchor is not in the year's file.
    """
    crossed: list[date] = []
    if rule.kind == "month":
        assert rule.month is not None
        year = school_year.date_in_period(rule.month, 1).year
        due = book.last_workday_of_month(year, rule.month)
    else:
        if rule.kind == "date":
            assert rule.month is not None and rule.day is not None
            base = school_year.date_in_period(rule.month, rule.day)
        else:
            assert rule.anchor is not None
            if rule.anchor == OCCURRENCE:
                if occurrence is None:
                    raise ValueError("the anchor 'occurrence' needs a repeat: rule")
                base = occurrence
            else:
                base = school_year.anchor(rule.anchor, term)
        crossed.append(base)
        if rule.unit == "workdays":  # + 0 workdays: the base, or the next working day
            due = book.add_workdays(base, rule.offset)
        elif rule.unit == "weeks":
            due = base + timedelta(weeks=rule.offset)
        else:
            due = base + timedelta(days=rule.offset)
    # Workday arithmetic between the anchor and the result rests on both years' holiday data:
    # if either end is provisional, so is the answer.
    provisional = any(book.is_provisional(d) for d in [due, *crossed])
    return ResolvedDue(due, rule.at or default_time, provisional)
