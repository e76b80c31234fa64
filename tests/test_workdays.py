"""Working-day arithmetic over the shipped calendars: 节假日, 调休 and provisional years."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import CalendarBook, load_book
from calendars.workdays import OutsideCalendars, library_years
from houqin.errors import UserError

D = date.fromisoformat


@pytest.fixture(scope="module")
def book() -> CalendarBook:
    return load_book()


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 国庆 2026: 10-01..10-07 off
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-10-01", 1, "2026-10-08"),  # chinese_calendar.find_workday says 10-09 here
        ("2026-10-08", 1, "2026-10-09"),
        ("2026-10-08", 2, "2026-10-10"),  # Saturday 10-10 is a 调休 make-up workday
        ("2026-10-10", -1, "2026-10-09"),
        ("2026-10-08", -1, "2026-09-30"),
        ("2026-09-19", 1, "2026-09-20"),  # Sunday 09-20 is a 调休 make-up workday
        ("2026-10-04", 0, "2026-10-08"),  # 0 on a day off: the next working day
        ("2026-10-09", 0, "2026-10-09"),
        # 春节 2026: 02-15..02-23 off, Saturdays 02-14 and 02-28 worked
        ("2026-02-13", 1, "2026-02-14"),  # Saturday 02-14 is a 调休 make-up workday
        ("2026-02-13", 2, "2026-02-24"),  # the whole of 02-15..02-23 is skipped
        ("2026-02-24", -1, "2026-02-14"),
        ("2026-02-27", 1, "2026-02-28"),  # Saturday 02-28 is a 调休 make-up workday
        # 2027 is provisional (暂定): predicted from the 2025 principles
        ("2027-06-07", -3, "2027-06-02"),  # 高考 week: Mon 06-07 back over the weekend
        ("2027-06-08", 1, "2027-06-10"),  # 端午 06-09 is a Wednesday: that day alone
        ("2026-12-31", 1, "2027-01-04"),  # 元旦 2027-01-01 (Fri) then the weekend
        ("2027-02-04", 1, "2027-02-13"),  # 春节 2027: 除夕 02-05 for 8 days, Sat 02-13 worked
        ("2027-09-30", 1, "2027-10-08"),  # 国庆 2027: 10-01..10-07, Sat 10-09 worked
        ("2027-04-30", 1, "2027-05-06"),  # 劳动节 2027: 05-01..05-05
    ],
)
def test_add_workdays_table(book: CalendarBook, start: str, n: int, expected: str) -> None:
    assert book.add_workdays(D(start), n) == D(expected)


def test_first_working_day_after_national_day_2026_is_october_8(book: CalendarBook) -> None:
    assert book.add_workdays(D("2026-09-30"), 1) == D("2026-10-08")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-09-20", True),  # Sunday, 调休 for 国庆
        ("2026-10-10", True),  # Saturday, 调休 for 国庆
        ("2026-10-07", False),
        ("2026-02-14", True),  # Saturday, 调休 for 春节
        ("2026-02-21", False),  # Saturday inside the 春节 break
        ("2026-02-23", False),  # Monday, last day of the 春节 break
        ("2026-01-04", True),  # Sunday, 调休 for 元旦
        ("2027-06-09", False),  # 端午 (provisional)
        ("2027-06-07", True),
        ("2027-05-01", False),
        ("2028-01-26", False),  # 春节 2028 (provisional)
        ("2028-10-03", False),
    ],
)
def test_is_workday_table(book: CalendarBook, day: str, working: bool) -> None:
    assert book.is_workday(D(day)) is working


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 9, "2026-09-30"),
        (2026, 10, "2026-10-30"),  # 10-31 is a Saturday, not a make-up day
        (2026, 2, "2026-02-28"),  # Saturday 02-28 is a 调休 make-up workday
        (2026, 12, "2026-12-31"),
        (2027, 1, "2027-01-31"),  # Sunday 01-31: a 春节 make-up day (暂定)
        (2027, 4, "2027-04-30"),
        (2028, 4, "2028-04-28"),  # 04-29/30 are a weekend
        (2026, 5, "2026-05-29"),
    ],
)
def test_last_workday_of_month(book: CalendarBook, year: int, month: int, expected: str) -> None:
    assert book.last_workday_of_month(year, month) == D(expected)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2026-10-01", "国庆节"),
        ("2026-10-07", "国庆节"),
        ("2026-02-21", "春节"),  # a weekend day inside the break still carries its name
        ("2026-01-01", "元旦"),
        ("2026-09-25", "中秋节"),
        ("2026-10-10", None),  # 调休 make-up workday
        ("2026-10-17", None),  # a plain Saturday
        ("2026-10-12", None),
        ("2027-02-05", "春节"),
        ("2027-06-09", "端午节"),
        ("2028-10-03", "国庆节、中秋节"),  # 中秋 falls on 国庆 in 2028
    ],
)
def test_holiday_name(book: CalendarBook, day: str, name: str | None) -> None:
    assert book.holiday_name(D(day)) == name


def test_gaokao_2027_minus_three_workdays_is_june_2_and_provisional(book: CalendarBook) -> None:
    due = book.add_workdays(book.school_year("2026-2027").anchor("gaokao.start"), -3)
    assert due == D("2027-06-02")
    assert book.is_provisional(due)


def test_years_the_library_covers_are_not_provisional(book: CalendarBook) -> None:
    assert not book.is_provisional(D("2026-12-31"))
    assert book.is_provisional(D("2027-01-01"))
    assert book.is_provisional(D("2029-03-01"))  # no file at all: nothing official
    assert book.provisional_years() == [2027, 2028]


@pytest.mark.parametrize("day", ["2029-01-01", "2029-03-01", "2028-08-31"])
def test_a_date_outside_every_calendar_file_is_an_error_naming_the_file_to_add(
    tmp_path: Path, day: str
) -> None:
    # 2026-2027.yaml alone: its school year and the years it touches (2026 from the library,
    # 2027 from its arrangement) are covered; nothing after 2027 is
    shutil.copy(Path(__file__).parents[1] / "calendars" / "2026-2027.yaml", tmp_path)
    book = load_book(tmp_path)
    if day == "2028-08-31":
        with pytest.raises(OutsideCalendars, match="add 2027-2028.yaml"):
            book.is_workday(D(day))
        return
    with pytest.raises(OutsideCalendars, match="add 2028-2029.yaml") as raised:
        book.is_workday(D(day))
    assert isinstance(raised.value, UserError)  # the CLI prints it on one line
    assert str(tmp_path) in str(raised.value) and "\n" not in str(raised.value)


def test_new_years_day_2029_is_no_longer_a_guessed_working_day(book: CalendarBook) -> None:
    with pytest.raises(OutsideCalendars, match="2028-2029.yaml"):
        book.is_workday(D("2029-01-01"))
    with pytest.raises(OutsideCalendars):
        book.add_workdays(D("2028-12-29"), 1)  # stepping off the end of the last file
    assert book.add_workdays(D("2028-12-28"), 1) == D("2028-12-29")  # 2028 is still covered


def test_a_school_year_file_without_holidays_gets_its_years_predicted(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "calendars" / "2027-2028.yaml").read_text(encoding="utf-8")
    head, rest = text.split("\nholiday_arrangements:")
    year = (
        head.replace("2028", "2029").replace("2027", "2028")
        + "\n"
        + rest[rest.index("overrides:") :]
    )
    (tmp_path / "2028-2029.yaml").write_text(year, encoding="utf-8")
    book = load_book(tmp_path)
    assert sorted(book.predictions) == [2028, 2029]
    assert not book.is_workday(D("2029-01-01"))  # 元旦 (暂定)
    assert book.holiday_name(D("2029-02-13")) == "春节"
    assert book.is_workday(D("2029-02-24"))  # a predicted make-up Saturday
    assert "predicted from the 2025 principles" in book.basis(D("2029-02-13"))
    assert {i.year for i in book.check() if i.level == "warning"} == {2028, 2029}
    with pytest.raises(OutsideCalendars, match="2029-2030.yaml"):
        book.is_workday(D("2030-01-02"))


def test_a_count_crossing_new_year_into_a_provisional_year_is_provisional(
    book: CalendarBook,
) -> None:
    assert book.is_provisional_span(D("2026-12-20"), D("2027-01-05"))
    assert not book.is_provisional_span(D("2026-01-05"), D("2026-12-20"))


def test_library_data_stops_at_2026(book: CalendarBook) -> None:
    # pinned: chinese-calendar 1.11.0; a newer release with 2027 makes the 2027 arrangement an error
    assert max(library_years()) == 2026


def test_pendulum_dates_are_accepted(book: CalendarBook) -> None:
    assert book.add_workdays(pendulum.date(2026, 9, 30), 1) == D("2026-10-08")
    assert book.is_workday(pendulum.date(2026, 10, 10))


def test_an_instant_is_refused_because_its_day_depends_on_the_time_zone(book: CalendarBook) -> None:
    with pytest.raises(TypeError):
        book.is_workday(datetime(2026, 9, 30, 17, 0))


def test_workdays_between_counts_the_half_open_interval(book: CalendarBook) -> None:
    assert book.workdays_between(D("2026-09-30"), D("2026-10-10")) == 3  # 10-08, 10-09, 10-10
    assert book.workdays_between(D("2026-10-10"), D("2026-09-30")) == -3
    assert book.workdays_between(D("2026-10-08"), D("2026-10-08")) == 0


def _book_with_overrides(tmp_path: Path, overrides: str) -> CalendarBook:
    text = (Path(__file__).parents[1] / "calendars" / "2026-2027.yaml").read_text(encoding="utf-8")
    head, _ = text.split("\noverrides:")
    (tmp_path / "2026-2027.yaml").write_text(f"{head}\noverrides:\n{overrides}", encoding="utf-8")
    return load_book(tmp_path)


def test_school_overrides_win_over_the_library(tmp_path: Path) -> None:
    book = _book_with_overrides(
        tmp_path,
        "  days_off:\n"
        "    - {date: 2026-10-23, name: 校运动会}\n"
        "    - {start: 2026-10-08, end: 2026-10-09, name: 校庆}\n"
        "  workdays:\n"
        "    - {date: 2026-10-05, name: 国庆值班}\n"
        "    - {date: 2026-10-17, name: 周六加班}\n",
    )
    assert not book.is_workday(D("2026-10-23"))
    assert book.holiday_name(D("2026-10-23")) == "校运动会"
    assert book.is_workday(D("2026-10-05"))  # a 国庆 day the school works
    assert book.holiday_name(D("2026-10-05")) is None
    assert book.is_workday(D("2026-10-17"))  # an extra working Saturday
    # 10-05 is the school's, 10-08/09 are its days off, so 10-10 (调休) comes next
    assert book.add_workdays(D("2026-10-05"), 1) == D("2026-10-10")
    assert book.add_workdays(D("2026-10-16"), 1) == D("2026-10-17")


def test_school_overrides_win_over_a_provisional_arrangement(tmp_path: Path) -> None:
    book = _book_with_overrides(tmp_path, "  workdays:\n    - {date: 2027-06-09, name: 高考保障}\n")
    assert book.is_workday(D("2027-06-09"))
    assert book.add_workdays(D("2027-06-08"), 1) == D("2027-06-09")


def test_an_official_arrangement_ends_the_provisional_state(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "calendars" / "2026-2027.yaml").read_text(encoding="utf-8")
    text = text.replace("status: provisional", "status: official").replace(
        "workdays: []   # 调休", "workdays: [{date: 2027-09-26, name: 国庆调休}]   # 调休"
    )
    (tmp_path / "2026-2027.yaml").write_text(text, encoding="utf-8")
    book = load_book(tmp_path)
    assert not book.is_provisional(D("2027-06-02"))
    assert book.is_workday(D("2027-09-26"))  # a Sunday made a working day by the notice
    assert book.provisional_years() == []
    assert [i.level for i in book.check()] == ["info", "info"]


def test_a_long_run_of_days_off_stops_the_stepping(tmp_path: Path) -> None:
    book = _book_with_overrides(
        tmp_path, "  days_off:\n    - {start: 2026-09-01, end: 2026-12-31, name: 停课}\n"
    )
    with pytest.raises(ValueError, match="no working day within 60 days"):
        book.add_workdays(D("2026-09-01"), 1)


# -- properties ---------------------------------------------------------------------------------

DATES = st.dates(min_value=D("2026-01-01"), max_value=D("2028-08-31"))
STEPS = st.integers(min_value=-40, max_value=40)
SHIPPED = load_book()


@settings(max_examples=300, deadline=None)
@given(DATES, STEPS)
def test_stepping_lands_on_a_working_day_strictly_after_or_before(d: date, n: int) -> None:
    result = SHIPPED.add_workdays(d, n)
    if n != 0:
        assert SHIPPED.is_workday(result)
    if n > 0:
        assert result > d
    elif n < 0:
        assert result < d
    else:
        assert result >= d and SHIPPED.is_workday(result)


@settings(max_examples=300, deadline=None)
@given(DATES, STEPS)
def test_workdays_between_undoes_add_workdays(d: date, n: int) -> None:
    result = SHIPPED.add_workdays(d, n)
    if n > 0:
        assert SHIPPED.workdays_between(d, result) == n
    elif n < 0:
        # (result, d] holds the |n|-1 working days in between, plus d itself if it is one
        assert SHIPPED.workdays_between(result, d) == -n - 1 + SHIPPED.is_workday(d)
    assert SHIPPED.workdays_between(result, d) == -SHIPPED.workdays_between(d, result)


@settings(max_examples=200, deadline=None)
@given(DATES, st.integers(min_value=-40, max_value=39))
def test_stepping_is_monotonic_in_n(d: date, n: int) -> None:
    here, there = SHIPPED.add_workdays(d, n), SHIPPED.add_workdays(d, n + 1)
    assert here <= there
    if n != 0 or SHIPPED.is_workday(d):
        assert here < there  # only 0 and 1 meet, on a day off: both are the next working day


@settings(max_examples=200, deadline=None)
@given(DATES)
def test_no_working_day_is_skipped(d: date) -> None:
    after = SHIPPED.add_workdays(d, 1)
    between = (d + timedelta(days=i) for i in range(1, (after - d).days))
    assert not any(SHIPPED.is_workday(x) for x in between)
