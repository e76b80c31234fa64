"""Provisional years predicted from the 2025 principles, measured against 2025 and 2026.

The figures asserted here are the ones docs/calendars.md reports; a change of the rule that moves
them fails here and there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from calendars import load_book
from calendars.arrangement import Arrangement
from calendars.prediction import predict

D = date.fromisoformat
DOCS = Path(__file__).resolve().parent.parent / "docs" / "calendars.md"


@dataclass(frozen=True)
class Match:
    answers: int  # days of the year whose working-day answer equals the official one
    days: int
    days_off: int  # official days off (the library's holiday days) that were predicted
    official_days_off: int
    extra_days_off: int  # predicted days off that were not off
    makeups: int  # official make-up working days that were predicted
    official_makeups: int
    wrong_makeups: int  # predicted make-up days that were not make-up days
    differing: tuple[date, ...]


def measure(prediction: Arrangement) -> Match:
    year = prediction.year
    first = date(year, 1, 1)
    days = [first + timedelta(days=i) for i in range((date(year, 12, 31) - first).days + 1)]
    official_off = {d for d in days if chinese_calendar.get_holiday_detail(d)[1] is not None}
    official_off -= {d for d in days if chinese_calendar.is_workday(d)}
    official_work = {d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)}
    off = {d for d in prediction.days_off if d.year == year}
    work = {d for d in prediction.workdays if d.year == year}
    differing = tuple(d for d in days if prediction.is_workday(d) != chinese_calendar.is_workday(d))
    return Match(
        answers=len(days) - len(differing),
        days=len(days),
        days_off=len(off & official_off),
        official_days_off=len(official_off),
        extra_days_off=len(off - official_off),
        makeups=len(work & official_work),
        official_makeups=len(official_work),
        wrong_makeups=len(work - official_work),
        differing=differing,
    )


def test_the_2025_prediction_matches_the_2025_notice_day_by_day() -> None:
    match = measure(predict(2025))
    assert match.differing == ()
    assert (match.answers, match.days) == (365, 365)
    assert (match.days_off, match.official_days_off, match.extra_days_off) == (28, 28, 0)
    assert (match.makeups, match.official_makeups, match.wrong_makeups) == (5, 5, 0)


def test_the_2026_prediction_misses_only_the_spring_festival_make_up_day_it_moved() -> None:
    # The 2026 notice began 春节 on Sunday 02-15 (腊月二十八), a day before 除夕, and had Saturday
    # 02-14 worked: 9 days, the notice's own "special case". The rule works Sunday 02-15 instead.
    match = measure(predict(2026))
    assert match.differing == (D("2026-02-14"), D("2026-02-15"))
    assert (match.answers, match.days) == (363, 365)
    assert (match.days_off, match.official_days_off, match.extra_days_off) == (32, 33, 0)
    assert (match.makeups, match.official_makeups, match.wrong_makeups) == (5, 6, 1)


def test_the_docs_report_the_measured_match() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    assert "| 2025 | 365 / 365 | 28 / 28, none extra | 5 / 5, none wrong |" in docs
    assert "| 2026 | 363 / 365 | 32 / 33, none extra | 5 / 6, 1 wrong |" in docs


@pytest.mark.parametrize(
    ("holiday", "first", "last", "makeups"),
    [
        ("元旦", "2027-01-01", "2027-01-03", []),  # Friday: with the weekend
        ("春节", "2027-02-05", "2027-02-12", ["2027-01-31", "2027-02-13"]),  # from 除夕, 8 days
        ("清明节", "2027-04-03", "2027-04-05", []),  # 清明 on Monday: Sat-Mon
        ("劳动节", "2027-05-01", "2027-05-05", ["2027-05-08"]),
        ("端午节", "2027-06-09", "2027-06-09", []),  # a Wednesday: the day alone
        ("中秋节", "2027-09-15", "2027-09-15", []),  # a Wednesday too
        ("国庆节", "2027-10-01", "2027-10-07", ["2027-09-26", "2027-10-09"]),
    ],
)
def test_2027_is_predicted_from_the_principles(
    holiday: str, first: str, last: str, makeups: list[str]
) -> None:
    found = {h.name: h for h in predict(2027).holidays}[holiday]
    assert (found.days_off[0], found.days_off[-1]) == (D(first), D(last))
    assert [d.isoformat() for d in found.workdays] == makeups
    assert found.note.startswith("暂定：")


def test_mid_autumn_inside_national_day_makes_one_break_of_eight_days() -> None:
    holidays = {h.name: h for h in predict(2028).holidays}
    assert "中秋节" not in holidays  # 2028: 中秋 is 10-03
    combined = holidays["国庆节、中秋节"]
    assert (combined.days_off[0], combined.days_off[-1]) == (D("2028-10-01"), D("2028-10-08"))


def test_a_new_years_day_on_tuesday_reaches_back_into_december() -> None:
    new_year = {h.name: h for h in predict(2030).holidays}["元旦"]
    assert new_year.days_off == (D("2029-12-30"), D("2029-12-31"), D("2030-01-01"))
    assert new_year.workdays == (D("2029-12-29"),)  # as 2019's notice placed it


@pytest.mark.parametrize("year", range(2027, 2041))
def test_every_predicted_year_keeps_the_statutory_count_and_works_no_more_than_it_rests(
    year: int,
) -> None:
    prediction = predict(year)
    weekdays_off = [d for d in prediction.days_off if d.weekday() < 5]
    # 13 statutory days since 2025, plus 中秋 inside 国庆 counted on its own (as in 2020 and 2025)
    statutory = 13
    assert len(weekdays_off) - len(prediction.workdays) == statutory
    assert all(d.weekday() >= 5 for d in prediction.workdays)
    assert not set(prediction.days_off) & set(prediction.workdays)


def test_the_shipped_provisional_years_are_the_prediction() -> None:
    book = load_book()
    for year in (2027, 2028):
        held = book.arrangement(year)
        assert held is not None and held.status == "provisional"
        assert held.days_off == predict(year).days_off, year
        assert held.workdays == predict(year).workdays, year


def test_2027_may_and_october_days_off_are_provisional_days_off() -> None:
    book = load_book()
    for day in ("2027-05-03", "2027-05-04", "2027-05-05", "2027-10-04", "2027-10-07"):
        assert not book.is_workday(D(day)), day
        assert book.is_provisional(D(day))
        assert book.basis(D(day)).startswith("暂定")
    assert book.is_workday(D("2027-05-08"))  # the Saturday worked for 劳动节 (暂定)
