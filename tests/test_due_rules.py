"""Due rules: the grammar of docs/plan-templates.md and its resolution on the real calendars."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calendars import CalendarBook, SchoolYear, load_book
from houqin.due_rules import (
    KNOWN_ANCHORS,
    TERM_ANCHORS,
    DueRule,
    DueRuleError,
    ResolvedDue,
    parse_due,
    parse_time,
    resolve_due,
)
from houqin.errors import NotFound

DOC = Path(__file__).parent.parent / "docs" / "plan-templates.md"
SIX_PM = time(18, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03-11", DueRule("date", month=3, day=11)),
        ("3-1", DueRule("date", month=3, day=1)),
        ("02-28", DueRule("date", month=2, day=28)),
        ("gaokao.start", DueRule("anchor", anchor="gaokao.start")),
        (
            "gaokao.start - 3 workdays",
            DueRule("anchor", anchor="gaokao.start", offset=-3, unit="workdays"),
        ),
        (
            "safety_month.start + 1 days",
            DueRule("anchor", anchor="safety_month.start", offset=1, unit="days"),
        ),
        ("term.start - 2 weeks", DueRule("anchor", anchor="term.start", offset=-2, unit="weeks")),
        ("term.end+1 day", DueRule("anchor", anchor="term.end", offset=1, unit="days")),
        ("term.end - 1 week", DueRule("anchor", anchor="term.end", offset=-1, unit="weeks")),
        (
            "  zhongkao.end   +  1   workday  ",
            DueRule("anchor", anchor="zhongkao.end", offset=1, unit="workdays"),
        ),
        (  # a typographic minus, as pasted from a word processor
            "gaokao.start − 3 workdays",
            DueRule("anchor", anchor="gaokao.start", offset=-3, unit="workdays"),
        ),
        ("month 4", DueRule("month", month=4)),
        ("month 12", DueRule("month", month=12)),
        ("03-11 @ 12:00", DueRule("date", month=3, day=11, at=time(12, 0))),
        ("gaokao.start@7:30", DueRule("anchor", anchor="gaokao.start", at=time(7, 30))),
        ("month 4 @ 23:59", DueRule("month", month=4, at=time(23, 59))),
    ],
)
def test_parse_due_reads_every_documented_form(text: str, expected: DueRule) -> None:
    rule = parse_due(text)

    assert rule == replace(expected, text=text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "due rule is empty; expected MM-DD, ANCHOR"),
        ("   ", "due rule is empty"),
        ("02-30", "month 2 has no day 30"),
        ("04-31", "month 4 has no day 31"),
        ("02-29", "02-29 does not exist every year; use 02-28 or 'month 2'"),
        ("13-01", "month 13 does not exist"),
        ("00-10", "month 0 does not exist"),
        ("03-00", "month 3 has no day 0"),
        ("2027-06-04", "give the date without the year, as MM-DD"),
        ("3.11", "cannot read due rule '3.11'; expected MM-DD, ANCHOR, ANCHOR ± N"),
        ("gaokoa.start", "unknown anchor 'gaokoa.start'; did you mean gaokao.start?"),
        ("gaokao", "(did you mean gaokao."),
        ("gaokao.start - 3 hours", "unknown unit 'hours'; use days, weeks or workdays"),
        ("gaokao.start - 3", "missing unit; use days, weeks or workdays"),
        ("gaokao.start 3 days", "expected '+ N' or '- N' and a unit"),
        ("gaokao.start - three days", "expected '+ N' or '- N' and a unit"),
        ("month 13", "month must be a number 1-12"),
        ("month", "month must be a number 1-12"),
        ("03-11 @ 25:00", "time '25:00' does not exist: hours 0-23, minutes 0-59"),
        ("03-11 @ 12:60", "time '12:60' does not exist"),
        ("03-11 @ noon", "time 'noon' is not HH:MM"),
        ("03-11 @ 9:00 @ 10:00", "ends in one '@ HH:MM' at most"),
        ("@ 09:00", "has a time but no date"),
    ],
)
def test_parse_due_rejects_a_bad_rule_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DueRuleError) as caught:
        parse_due(text)

    assert message in str(caught.value)


def test_due_rule_error_is_a_value_error() -> None:
    assert issubclass(DueRuleError, ValueError)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("3-1", "03-01"),
        ("gaokao.start-3 workday", "gaokao.start - 3 workdays"),
        ("term.start +  2 week @ 8:05", "term.start + 2 weeks @ 08:05"),
        ("month  4", "month 4"),
        ("gaokao.end", "gaokao.end"),
    ],
)
def test_a_rule_prints_in_one_canonical_spelling(text: str, canonical: str) -> None:
    assert str(parse_due(text)) == canonical
    assert parse_due(canonical) == replace(parse_due(text), text=canonical)


_times = st.none() | st.builds(time, st.integers(0, 23), st.integers(0, 59))
_rules = st.one_of(
    st.builds(
        lambda d, at: DueRule("date", month=d.month, day=d.day, at=at),
        st.dates(date(2026, 1, 1), date(2026, 12, 31)),  # 2026 is not a leap year: no 02-29
        _times,
    ),
    st.builds(lambda m, at: DueRule("month", month=m, at=at), st.integers(1, 12), _times),
    st.builds(
        lambda a, n, unit, at: DueRule("anchor", anchor=a, offset=n, unit=unit, at=at),
        st.sampled_from(sorted(KNOWN_ANCHORS)),
        st.integers(-60, 60),
        st.sampled_from(["days", "weeks", "workdays"]),
        _times,
    ),
    st.builds(
        lambda a, at: DueRule("anchor", anchor=a, at=at),
        st.sampled_from(sorted(KNOWN_ANCHORS)),
        _times,
    ),
)


@given(_rules)
def test_every_rule_reads_back_from_its_canonical_spelling(rule: DueRule) -> None:
    text = str(rule)

    assert parse_due(text) == replace(rule, text=text)


def test_parse_time_reads_hours_and_minutes() -> None:
    assert parse_time(" 7:05 ") == time(7, 5)
    with pytest.raises(DueRuleError, match="24-hour clock"):
        parse_time("7pm")


def test_known_anchors_are_exactly_the_anchors_the_schema_doc_lists() -> None:
    section = DOC.read_text(encoding="utf-8").split("## Anchors", 1)[1].split("\n## ", 1)[0]

    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", section))

    assert documented == KNOWN_ANCHORS
    assert {"term.start", "term.end", "term.finals"} == TERM_ANCHORS


# -- resolution on the real calendars (calendars/2026-2027.yaml) ------------------------------


@pytest.fixture(scope="module")
def book() -> CalendarBook:
    return load_book()


@pytest.fixture(scope="module")
def year_2026(book: CalendarBook) -> SchoolYear:
    return book.school_year("2026-2027")


def resolve(
    text: str, book: CalendarBook, school_year: SchoolYear, term: int | None = None
) -> ResolvedDue:
    rule = parse_due(text)
    return resolve_due(rule, school_year=school_year, book=book, term=term, default_time=SIX_PM)


def test_gaokao_minus_three_workdays_is_the_wednesday_before_and_provisional(
    book: CalendarBook, year_2026: SchoolYear
) -> None:
    # gaokao.start is Monday 2027-06-07; 2027's 调休 is not announced yet, hence provisional.
    due = resolve("gaokao.start - 3 workdays", book, year_2026)

    assert due == ResolvedDue(date(2027, 6, 2), SIX_PM, provisional=True)


def test_an_autumn_date_falls_in_the_first_calendar_year_and_is_settled(
    book: CalendarBook, year_2026: SchoolYear
) -> None:
    due = resolve("10-08", book, year_2026)

    assert due == ResolvedDue(date(2026, 10, 8), SIX_PM, provisional=False)


def test_a_spring_date_falls_in_the_second_calendar_year_at_its_own_time(
    book: CalendarBook, year_2026: SchoolYear
) -> None:
    due = resolve("03-11 @ 12:00", book, year_2026)

    assert due == ResolvedDue(date(2027, 3, 11), time(12, 0), provisional=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("autumn_term.start", date(2026, 9, 1)),
        ("autumn_term.start + 3 days", date(2026, 9, 4)),
        ("autumn_term.start + 1 weeks", date(2026, 9, 8)),
        ("autumn_term.start - 2 weeks", date(2026, 8, 18)),
        # Tuesday 2026-09-01: one working day before is Monday 08-31, two is Friday 08-28.
        ("autumn_term.start - 2 workdays", date(2026, 8, 28)),
        ("autumn_term.start + 4 workdays", date(2026, 9, 7)),
    ],
)
def test_anchor_offsets_count_calendar_days_weeks_or_working_days(
    book: CalendarBook, year_2026: SchoolYear, text: str, expected: date
) -> None:
    due = resolve(text, book, year_2026)

    assert (due.date, due.provisional) == (expected, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 2026 国庆: Oct 1-7 off, Saturday 10-10 worked (调休). The anchor is Monday 10-12.
        ("safety_month.start - 1 workdays", date(2026, 10, 10)),
        ("safety_month.start - 3 workdays", date(2026, 10, 8)),
        ("safety_month.start - 4 workdays", date(2026, 9, 30)),
    ],
)
def test_workdays_skip_national_day_and_count_its_make_up_saturday(
    book: CalendarBook, text: str, expected: date
) -> None:
    autumn_campaign = SchoolYear(
        "2026-2027", 2026, "test", "Asia/Shanghai", {"safety_month.start": date(2026, 10, 12)}
    )

    assert resolve(text, book, autumn_campaign).date == expected


def test_zero_workdays_is_the_anchor_or_the_next_working_day(
    book: CalendarBook, year_2026: SchoolYear
) -> None:
    # gaokao.end 2027-06-09 is 端午 (a day off); gaokao.start 2027-06-07 is a Monday.
    assert resolve("gaokao.end + 0 workdays", book, year_2026).date == date(2027, 6, 10)
    assert resolve("gaokao.start + 0 workdays", book, year_2026).date == date(2027, 6, 7)


def test_month_rule_is_the_last_working_day_of_that_month_in_the_period(
    book: CalendarBook, year_2026: SchoolYear
) -> None:
    april = resolve("month 4", book, year_2026)
    november = resolve("month 11 @ 09:00", book, year_2026)

    assert april == ResolvedDue(date(2027, 4, 30), SIX_PM, provisional=True)  # a Friday
    assert november == ResolvedDue(date(2026, 11, 30), time(9, 0), provisional=False)  # Monday


def test_term_anchors_resolve_to_the_launched_term(
    book: CalendarBook, year_2026: SchoolYear
) -> None:
    autumn = resolve("term.start - 1 weeks", book, year_2026, term=1)
    spring = resolve("term.start - 1 weeks", book, year_2026, term=2)
    finals = resolve("term.finals", book, year_2026, term=2)

    assert autumn.date == date(2026, 8, 25)
    assert spring.date == date(2027, 2, 15)
    assert finals.date == date(2027, 7, 5)


def test_a_result_in_a_settled_year_is_provisional_when_its_anchor_is_not(
    book: CalendarBook, year_2026: SchoolYear
) -> None:
    # autumn_finals.start is 2027-01-18, a provisional year; 20 working days back is in 2026.
    due = resolve("autumn_finals.start - 20 workdays", book, year_2026)

    assert due.date == date(2026, 12, 18)
    assert due.provisional is True


def test_an_anchor_missing_from_the_calendar_is_not_found(book: CalendarBook) -> None:
    bare = SchoolYear("2026-2027", 2026, "calendars/2026-2027.yaml", "Asia/Shanghai", {})

    with pytest.raises(NotFound, match="gaokao.start"):
        resolve("gaokao.start", book, bare)


def test_resolved_due_combines_into_an_aware_instant() -> None:
    due = ResolvedDue(date(2027, 6, 2), time(18, 0), provisional=True)
    shanghai = ZoneInfo("Asia/Shanghai")

    assert due.at(shanghai) == datetime(2027, 6, 2, 18, 0, tzinfo=shanghai)
