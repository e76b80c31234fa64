"""Entering a notice into the school-year files: a preview that writes nothing, an apply that keeps
the file's comments and layout, and nothing written when anything is wrong."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from calendars import load_book
from calendars.entry import apply_notice, preview_notice
from calendars.notice import parse_notice
from calendars.prediction import predict
from houqin.errors import UserError, ValidationFailed
from tests.test_notice import notice_text

SHIPPED = Path(__file__).resolve().parent.parent / "calendars"
NOTICES = Path(__file__).resolve().parent / "data" / "notices"
D = date.fromisoformat

# An invented 2027 notice (the real one is not out yet): the prediction, except that 春节's
# second make-up day is Saturday 02-20 instead of Saturday 02-13.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
国办发明电〔2026〕9号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至12日（农历正月初八、周五）放假调休，共8天。1月31日（周日）、2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。5月8日（周六）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
国务院办公厅
2026年11月3日
"""


@pytest.fixture
def calendars(tmp_path: Path) -> Path:
    for path in SHIPPED.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_the_preview_shows_the_days_that_change_and_writes_nothing(calendars: Path) -> None:
    before = (calendars / "2026-2027.yaml").read_bytes()
    entry = preview_notice(load_book(calendars), parse_notice(NOTICE_2027))
    assert [(c.day, c.before, c.after) for c in entry.changes] == [
        (D("2027-02-13"), True, False),  # the predicted make-up Saturday is a day off after all
        (D("2027-02-20"), False, True),
    ]
    assert str(entry.changes[1]) == "2027-02-20 周六：放假 → 上班（春节调休上班）"
    assert entry.path == str(calendars / "2026-2027.yaml") and not entry.written
    assert entry.as_json()["year"] == 2027
    assert "2027-02-20" in entry.as_json()["workdays"]
    assert entry.as_json()["days_off"][:3] == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert (calendars / "2026-2027.yaml").read_bytes() == before


def test_apply_writes_the_year_as_official_with_its_source_and_keeps_every_other_line(
    calendars: Path,
) -> None:
    path = calendars / "2026-2027.yaml"
    before = path.read_text(encoding="utf-8").splitlines()
    entry = apply_notice(load_book(calendars), parse_notice(NOTICE_2027))
    assert entry.written and [c.day for c in entry.changes] == [D("2027-02-13"), D("2027-02-20")]
    after = path.read_text(encoding="utf-8").splitlines()
    # every line before holiday_arrangements.2027 and from overrides: on is as it was
    start, end = before.index("  2027:"), before.index("overrides:")
    assert after[: start + 1] == before[: start + 1]
    assert after[after.index("overrides:") :] == before[end:]
    assert after[after.index("overrides:") - 1] == ""  # the blank line between sections
    block = "\n".join(after[start : after.index("overrides:")])
    assert "    status: official" in block
    title = "国务院办公厅关于2027年部分节假日安排的通知"
    assert f"    source: {title}（国办发明电〔2026〕9号，2026-11-03）" in block
    assert "{date: 2027-02-20, name: 春节调休上班}" in block
    book = load_book(calendars)
    assert not book.is_provisional(D("2027-02-20"))
    assert book.is_workday(D("2027-02-20")) and not book.is_workday(D("2027-02-13"))
    assert book.basis(D("2027-02-20")).startswith("正式：国务院办公厅关于2027年")
    assert {i.year for i in book.check() if i.level == "warning"} == {2028}


def test_applying_the_same_notice_twice_changes_nothing_more(calendars: Path) -> None:
    apply_notice(load_book(calendars), parse_notice(NOTICE_2027))
    text = (calendars / "2026-2027.yaml").read_text(encoding="utf-8")
    again = apply_notice(load_book(calendars), parse_notice(NOTICE_2027))
    assert again.changes == ()
    assert (calendars / "2026-2027.yaml").read_text(encoding="utf-8") == text


def test_an_adjustment_notice_changes_only_its_holiday_and_adds_its_source(calendars: Path) -> None:
    apply_notice(load_book(calendars), parse_notice(NOTICE_2027))
    adjustment = parse_notice(
        "国务院办公厅关于调整2027年劳动节假期安排的通知\n"
        "一、2027年5月1日至5日放假调休，共5天。4月25日（星期日）上班。\n"
        "国务院办公厅\n2027年3月1日\n"
    )
    entry = apply_notice(load_book(calendars), adjustment)
    assert [(c.day, c.after) for c in entry.changes] == [
        (D("2027-04-25"), True),
        (D("2027-05-08"), False),
    ]
    held = load_book(calendars).arrangement(2027)
    assert held is not None and held.source.endswith(
        "；国务院办公厅关于调整2027年劳动节假期安排的通知（2027-03-01）"
    )
    assert held.days_off[D("2027-02-12")] == "春节"  # the other holidays stay


def test_an_adjustment_before_the_years_notice_is_refused(calendars: Path) -> None:
    adjustment = parse_notice(
        "国务院办公厅关于调整2027年劳动节假期安排的通知\n一、2027年5月1日至5日放假调休，共5天。\n"
    )
    with pytest.raises(UserError, match="enter that year's notice first"):
        apply_notice(load_book(calendars), adjustment)


def test_a_notice_for_a_year_the_library_has_is_compared_and_never_written(calendars: Path) -> None:
    notice = parse_notice((NOTICES / "2026.txt").read_text(encoding="utf-8"))
    entry = preview_notice(load_book(calendars), notice)
    assert entry.changes == () and entry.path is None  # the notice agrees with chinese-calendar
    with pytest.raises(UserError, match="already has 2026"):
        apply_notice(load_book(calendars), notice)


def test_a_year_without_a_school_year_file_names_the_file_to_add(calendars: Path) -> None:
    notice = parse_notice(notice_text(predict(2030)))
    with pytest.raises(UserError, match="add 2029-2030.yaml"):
        apply_notice(load_book(calendars), notice)


def test_nothing_is_written_when_the_calendar_directory_has_a_problem(calendars: Path) -> None:
    book = load_book(calendars)
    before = (calendars / "2026-2027.yaml").read_bytes()
    broken = calendars / "2027-2028.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("2028-01-14", "2028-01-44"))
    with pytest.raises(ValidationFailed, match="2028-01-44"):
        apply_notice(book, parse_notice(NOTICE_2027))
    assert (calendars / "2026-2027.yaml").read_bytes() == before


def test_a_new_school_year_file_without_holidays_gets_the_section_before_overrides(
    calendars: Path,
) -> None:
    text = (calendars / "2027-2028.yaml").read_text(encoding="utf-8")
    head, rest = text.split("\nholiday_arrangements:")
    new = (
        head.replace("2028", "2029").replace("2027", "2028")
        + "\n"
        + rest[rest.index("overrides:") :]
    )
    (calendars / "2028-2029.yaml").write_text(new, encoding="utf-8")
    book = load_book(calendars)
    assert not book.is_workday(D("2029-02-13"))  # 春节 2029 predicted: no arrangement in the file
    predicted = predict(2029)  # the notice: the prediction with 春节's make-up days moved
    spring = next(h for h in predicted.holidays if h.name == "春节")
    moved = replace(spring, workdays=(D("2029-02-10"), D("2029-02-24")))
    notice = parse_notice(
        notice_text(
            replace(predicted, holidays=(predicted.holidays[0], moved, *predicted.holidays[2:]))
        )
    )
    entry = apply_notice(book, notice)
    assert entry.path == str(calendars / "2028-2029.yaml")
    assert [(c.day, c.after) for c in entry.changes] == [
        (D("2029-02-10"), True),  # the notice's make-up Saturday
        (D("2029-02-11"), False),  # the predicted make-up Sunday, a plain Sunday again
    ]
    written = (calendars / "2028-2029.yaml").read_text(encoding="utf-8")
    assert written.index("holiday_arrangements:") < written.index("\noverrides:")
    assert load_book(calendars).is_workday(D("2029-02-10"))


def test_an_adjustment_for_a_library_year_is_compared_on_the_days_it_names(
    calendars: Path,
) -> None:
    notice = parse_notice((NOTICES / "2019-labour-day.txt").read_text(encoding="utf-8"))
    entry = preview_notice(load_book(calendars), notice)
    assert entry.changes == ()  # chinese-calendar holds the adjusted 劳动节 (05-01..04)
    assert entry.as_json()["workdays"] == ["2019-04-28", "2019-05-05"]
