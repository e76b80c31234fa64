"""School-year calendar files: anchors, periods, validation errors and `check()`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from calendars import DEFAULT_DIR, CalendarBook, SchoolYear, load_book
from houqin.errors import NotFound, Problem, UserError, ValidationFailed

D = date.fromisoformat

MINIMAL = """\
school_year: 2026-2027
terms:
  autumn: {start: 2026-09-01, end: 2027-01-22}
  spring: {start: 2027-02-22, end: 2027-07-09}
breaks:
  winter: {start: 2027-01-23, end: 2027-02-21}
  summer: {start: 2027-07-10, end: 2027-08-31}
"""


@pytest.fixture(scope="module")
def book() -> CalendarBook:
    return load_book()


@pytest.fixture(scope="module")
def year(book: CalendarBook) -> SchoolYear:
    return book.school_year("2026-2027")


def problems_of(tmp_path: Path, files: dict[str, str]) -> list[Problem]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        load_book(tmp_path)
    return caught.value.problems


def located(problems: list[Problem]) -> set[tuple[str, int | None, str]]:
    return {(Path(p.file).name, p.line, p.field) for p in problems}


# -- anchors and periods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("autumn_term.start", "2026-09-01"),
        ("autumn_term.end", "2027-01-22"),
        ("winter_break.start", "2027-01-23"),
        ("spring_term.start", "2027-02-22"),
        ("summer_break.end", "2027-08-31"),
        ("autumn_finals.start", "2027-01-18"),
        ("spring_finals.end", "2027-07-07"),
        ("gaokao.start", "2027-06-07"),
        ("gaokao.end", "2027-06-09"),
        ("zhongkao.start", "2027-06-19"),
        ("safety_month.start", "2027-04-20"),
        ("safety_month.end", "2027-05-20"),
        ("quality_month.start", "2026-11-01"),
        ("quality_month.end", "2026-11-30"),
    ],
)
def test_shipped_2026_2027_anchors(year: SchoolYear, name: str, expected: str) -> None:
    assert year.anchor(name) == D(expected)


@pytest.mark.parametrize(
    ("name", "term", "expected"),
    [
        ("term.start", 1, "2026-09-01"),
        ("term.end", 1, "2027-01-22"),
        ("term.finals", 1, "2027-01-18"),  # the term's finals *start*
        ("term.start", 2, "2027-02-22"),
        ("term.end", 2, "2027-07-09"),
        ("term.finals", 2, "2027-07-05"),
    ],
)
def test_term_anchors_resolve_to_the_given_term(
    year: SchoolYear, name: str, term: int, expected: str
) -> None:
    assert year.anchor(name, term) == D(expected)


def test_shipped_2027_2028_anchors(book: CalendarBook) -> None:
    year = book.school_year("2027-2028")
    assert year.term_range(1) == (D("2027-09-01"), D("2028-01-14"))
    assert year.term_range(2) == (D("2028-02-14"), D("2028-07-07"))
    assert year.anchor("gaokao.start") == D("2028-06-07")
    assert year.anchor("zhongkao.end") == D("2028-06-19")
    assert year.anchor("term.finals", 1) == D("2028-01-10")
    assert year.anchor("quality_month.start") == D("2027-11-01")
    assert year.timezone == "Asia/Shanghai"


def test_term_anchor_without_a_term_is_a_user_error(year: SchoolYear) -> None:
    with pytest.raises(UserError, match="term 1"):
        year.anchor("term.start")
    with pytest.raises(UserError):
        year.anchor("term.start", 3)


def test_unknown_anchor_names_the_anchor_and_the_file(year: SchoolYear) -> None:
    with pytest.raises(NotFound, match=r"2026-2027\.yaml.*'exam.start'"):
        year.anchor("exam.start")


def test_missing_optional_anchor_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "2026-2027.yaml").write_text(MINIMAL, encoding="utf-8")
    year = load_book(tmp_path).school_year("2026-2027")
    with pytest.raises(NotFound, match="gaokao.start"):
        year.anchor("gaokao.start")
    assert year.timezone == "Asia/Shanghai"  # the default


@pytest.mark.parametrize(
    ("month", "day", "expected"),
    [
        (9, 1, "2026-09-01"),
        (12, 31, "2026-12-31"),
        (1, 1, "2027-01-01"),
        (3, 11, "2027-03-11"),
        (8, 31, "2027-08-31"),
    ],
)
def test_date_in_period_puts_autumn_months_in_the_first_year(
    year: SchoolYear, month: int, day: int, expected: str
) -> None:
    assert year.date_in_period(month, day) == D(expected)


def test_date_in_period_rejects_an_impossible_day(year: SchoolYear) -> None:
    with pytest.raises(ValueError):
        year.date_in_period(2, 29)  # 2027 is no leap year
    with pytest.raises(ValueError):
        year.date_in_period(13, 1)


def test_unknown_school_year_is_not_found(book: CalendarBook) -> None:
    with pytest.raises(NotFound, match="no school calendar for 2029-2030"):
        book.school_year("2029-2030")


@pytest.mark.parametrize(
    ("day", "key"),
    [
        ("2026-08-01", "2026-2027"),
        ("2026-09-01", "2026-2027"),
        ("2027-06-07", "2026-2027"),
        ("2027-08-20", "2026-2027"),  # August ends the school year its summer belongs to
        ("2027-09-01", "2027-2028"),
        ("2028-08-31", "2027-2028"),
    ],
)
def test_school_year_of(book: CalendarBook, day: str, key: str) -> None:
    assert book.school_year_of(D(day)).key == key


def test_school_year_of_a_date_without_a_file_is_not_found(book: CalendarBook) -> None:
    with pytest.raises(NotFound):
        book.school_year_of(D("2028-09-01"))


# -- check() ------------------------------------------------------------------------------------


def test_check_warns_for_2027_and_2028_naming_the_file_and_field(book: CalendarBook) -> None:
    warnings = {i.year: i.message for i in book.check() if i.level == "warning"}
    assert set(warnings) == {2027, 2028}
    assert str(DEFAULT_DIR / "2026-2027.yaml") in warnings[2027]
    assert "holiday_arrangements.2027" in warnings[2027]
    assert str(DEFAULT_DIR / "2027-2028.yaml") in warnings[2028]
    assert "国务院办公厅" in warnings[2028]
    assert warnings[2027].index("请在") < warnings[2027].index("enter its")  # Chinese first


def test_check_says_which_years_the_library_covers(book: CalendarBook) -> None:
    infos = [i for i in book.check() if i.level == "info"]
    assert any("2026" in i.message and "chinese-calendar" in i.message for i in infos)


def test_check_names_a_file_for_a_year_no_file_arranges(tmp_path: Path) -> None:
    (tmp_path / "2026-2027.yaml").write_text(MINIMAL, encoding="utf-8")
    book = load_book(tmp_path)
    (warning,) = [i for i in book.check() if i.level == "warning"]
    assert warning.year == 2027
    assert str(tmp_path / "2026-2027.yaml") in warning.message


# -- loader errors: file, line and field --------------------------------------------------------


def test_shipped_calendars_load() -> None:
    assert sorted(load_book().school_years) == ["2026-2027", "2027-2028"]


def test_impossible_date_is_reported_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + "exams:\n  gaokao: {start: 2027-02-30, end: 2027-06-09}\n"
    (problem,) = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert (Path(problem.file).name, problem.line, problem.field) == (
        "2026-2027.yaml",
        9,
        "exams.gaokao.start",
    )
    assert "2027-02-30" in problem.message


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + "exams:\n  gaokoa: {start: 2027-06-07, end: 2027-06-09}\nremark: x\n"
    problems = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert located(problems) == {
        ("2026-2027.yaml", 9, "exams.gaokoa"),
        ("2026-2027.yaml", 10, "remark"),
    }


def test_term_ending_before_it_starts_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace("end: 2027-01-22", "end: 2026-08-22")
    problems = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert located(problems) == {("2026-2027.yaml", 3, "terms.autumn.end")}


def test_anchor_outside_the_school_year_is_an_error(tmp_path: Path) -> None:
    # a typo'd year: 2026's gaokao in the 2026-2027 file
    text = MINIMAL + "exams:\n  gaokao:\n    start: 2026-06-07\n    end: 2027-06-09\n"
    problems = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert located(problems) == {("2026-2027.yaml", 10, "exams.gaokao.start")}
    assert "2026-08-01..2027-08-31" in problems[0].message


def test_term_overlapping_a_break_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace("winter: {start: 2027-01-23", "winter: {start: 2027-01-20")
    problems = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert located(problems) == {("2026-2027.yaml", 6, "breaks.winter")}


def test_missing_terms_and_wrong_school_year_are_errors(tmp_path: Path) -> None:
    text = "school_year: 2025-2026\nbreaks: {}\n"
    problems = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert located(problems) == {
        ("2026-2027.yaml", 1, "school_year"),
        ("2026-2027.yaml", 1, "terms"),
    }


def test_arrangement_for_a_year_the_library_covers_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + (
        "holiday_arrangements:\n"
        "  2026:\n"
        "    status: official\n"
        "    source: 国办发明电〔2025〕7号\n"
        "    days_off: [{date: 2026-10-01, name: 国庆节}]\n"
    )
    (problem,) = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert (problem.line, problem.field) == (9, "holiday_arrangements.2026")
    assert "overrides" in problem.message


def test_same_year_arranged_in_two_files_is_an_error(tmp_path: Path) -> None:
    arrangement = (
        "holiday_arrangements:\n"
        "  2027:\n"
        "    status: provisional\n"
        "    days_off: [{date: 2027-10-01, name: 国庆节}]\n"
    )
    second = MINIMAL.replace("2027", "2028").replace("2026", "2027")
    problems = problems_of(
        tmp_path, {"2026-2027.yaml": MINIMAL + arrangement, "2027-2028.yaml": second + arrangement}
    )
    assert located(problems) == {("2027-2028.yaml", 9, "holiday_arrangements.2027")}
    assert "2026-2027.yaml:9" in problems[0].message


def test_bad_arrangement_and_override_entries_are_errors(tmp_path: Path) -> None:
    text = MINIMAL + (
        "holiday_arrangements:\n"  # line 8
        "  2027:\n"
        "    status: guessed\n"
        "    days_off:\n"
        "      - {date: 2028-01-01, name: 元旦}\n"
        "      - {start: 2027-10-03, end: 2027-10-01, name: 国庆节}\n"
        "      - {date: 2027-06-09}\n"
        "overrides:\n"  # line 15
        "  days_off:\n"
        "    - {date: 2027-09-10, name: 教师节}\n"
        "  workdays:\n"
        "    - {date: 2026-10-10, name: 加班, note: x}\n"
    )
    problems = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert located(problems) == {
        ("2026-2027.yaml", 10, "holiday_arrangements.2027.status"),
        ("2026-2027.yaml", 12, "holiday_arrangements.2027.days_off[0].date"),  # not in 2027
        ("2026-2027.yaml", 13, "holiday_arrangements.2027.days_off[1].end"),
        ("2026-2027.yaml", 14, "holiday_arrangements.2027.days_off[2].name"),
        ("2026-2027.yaml", 17, "overrides.days_off[0].date"),  # outside the school year
        ("2026-2027.yaml", 19, "overrides.workdays[0].note"),
    }


def test_official_arrangement_needs_its_source(tmp_path: Path) -> None:
    text = MINIMAL + "holiday_arrangements:\n  2027:\n    status: official\n"
    (problem,) = problems_of(tmp_path, {"2026-2027.yaml": text})
    assert (problem.line, problem.field) == (9, "holiday_arrangements.2027.source")


def test_every_problem_of_every_file_is_reported_and_nothing_loads(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        {
            "2026-2027.yaml": MINIMAL.replace("2027-07-09", "2027-07-32"),
            "2027-2028.yaml": "school_year: 2027-2028\nterms: [1]\nbreaks: {}\n",
            "2025-2027.yaml": MINIMAL,
            "notes.yaml": "not: a calendar\n",  # ignored: not named YYYY-YYYY
        },
    )
    assert located(problems) == {
        ("2025-2027.yaml", None, ""),
        ("2026-2027.yaml", 4, "terms.spring.end"),
        ("2027-2028.yaml", 2, "terms"),
    }


def test_broken_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, {"2026-2027.yaml": MINIMAL + "exams: {gaokao: [\n"})
    assert problem.field == "" and problem.line is not None and "YAML" in problem.message


def test_unknown_time_zone_is_an_error(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, {"2026-2027.yaml": MINIMAL + "timezone: Asia/Peking\n"})
    assert (problem.line, problem.field) == (8, "timezone")
