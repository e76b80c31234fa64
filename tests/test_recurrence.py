"""Recurring items: one item per occurrence, each with its own deadline by the calendar's rules."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin import recurrence
from houqin.cli import main
from houqin.errors import ValidationFailed
from houqin.launch import launch, plan_items
from houqin.models import Item
from houqin.periods import parse_period
from houqin.plan_templates import load_template_file
from houqin.recurrence import RepeatError, parse_repeat
from tests.factories import NOW, staff_school

ROOT = Path(__file__).resolve().parent.parent

PLAN = """\
key: routines
title: {zh-CN: 例行工作, en: Routines}
period: school_year
anchors: [gaokao.start, gaokao.end]
phases:
  - key: all
    title: {zh-CN: 例行}
    items:
"""


def plan_file(tmp_path: Path, items: str) -> Path:
    path = tmp_path / "routines.yaml"
    path.write_text(PLAN + textwrap.indent(textwrap.dedent(items), "      "), encoding="utf-8")
    return path


def due_dates(session: Session, book, path: Path, period: str = "2026-2027") -> dict[str, str]:
    people = staff_school(session)
    template = load_template_file(path)
    planned = plan_items(
        session,
        template=template,
        school=people["school"],
        period=parse_period(period, template.period),
        book=book,
    )
    return {p.key: p.due_at.in_tz("Asia/Shanghai").format("YYYY-MM-DD HH:mm") for p in planned}


def test_each_exam_day_of_gaokao_is_its_own_item_at_seven(
    session: Session, book, tmp_path: Path
) -> None:
    path = plan_file(
        tmp_path,
        """\
        - key: open_rooms
          title: {zh-CN: 开启试室, en: Open the exam rooms}
          role: property_manager
          repeat: each day of gaokao
          due: occurrence @ 07:00
        - key: report_eve
          title: {zh-CN: 前一工作日报告}
          role: logistics_head
          repeat: each day of gaokao
          due: occurrence - 1 workdays
        """,
    )
    due = due_dates(session, book, path)
    # 高考 2027-06-07..09 (calendars/2026-2027.yaml); 06-09 is 端午 (a day off): the exam, and
    # the rooms, still open that day, and a working-day rule counts back past it
    assert {k: v for k, v in due.items() if k.startswith("open_rooms")} == {
        "open_rooms@day1": "2027-06-07 07:00",
        "open_rooms@day2": "2027-06-08 07:00",
        "open_rooms@day3": "2027-06-09 07:00",
    }
    assert due["report_eve@day1"] == "2027-06-04 18:00"  # Monday's eve is Friday
    assert due["report_eve@day3"] == "2027-06-08 18:00"


def test_occurrences_follow_the_working_day_rules_with_tiaoxiu(
    session: Session, book, tmp_path: Path
) -> None:
    path = plan_file(
        tmp_path,
        """\
        - key: assets
          title: {zh-CN: 新增固定资产登记入账}
          role: asset_keeper
          repeat: monthly on 25
          due: occurrence + 0 workdays
        - key: fire_check
          title: {zh-CN: 消防设施月检}
          role: maintenance_lead
          repeat: monthly on last workday
          due: occurrence
        - key: desk_check
          title: {zh-CN: 课桌椅检查}
          role: logistics_supervisor
          repeat: monthly on last workday during term
          due: occurrence
        - key: canteen
          title: {zh-CN: 食堂周六开放}
          role: canteen_manager
          repeat: weekly on saturday during term
          due: occurrence + 0 workdays @ 12:00
        """,
    )
    due = due_dates(session, book, path)
    assets = {k: v for k, v in due.items() if k.startswith("assets@")}
    assert len(assets) == 12 and "assets@2026-09" in assets and "assets@2027-08" in assets
    assert assets["assets@2026-10"] == "2026-10-26 18:00"  # Sunday the 25th → Monday
    assert assets["assets@2027-04"] == "2027-04-26 18:00"  # Sunday the 25th → Monday
    assert assets["assets@2027-03"] == "2027-03-25 18:00"  # a Thursday: the day itself
    # 2027-01-31 is a Sunday and a 春节 make-up working day (调休上班): January's last working day
    assert due["fire_check@2027-01"] == "2027-01-31 18:00"
    # in term only, a month the term ends in is checked on the term's last working day
    assert due["desk_check@2027-01"] == "2027-01-22 18:00"
    assert due["desk_check@2027-07"] == "2027-07-09 18:00"
    assert "desk_check@2027-08" not in due and "desk_check@2027-02" in due
    # Saturdays in term: the 调休 Saturday 2026-10-10 is a working day and keeps its date;
    # 10-03 (国庆) moves to the first working day after the holiday, others to the Monday
    assert due["canteen@2026-W41"] == "2026-10-10 12:00"
    assert due["canteen@2026-W40"] == "2026-10-08 12:00"
    assert due["canteen@2026-W42"] == "2026-10-19 12:00"
    saturdays = [k for k in due if k.startswith("canteen@")]
    # autumn term 2026-09-01..2027-01-22 and spring term 2027-02-22..07-09: none in the breaks
    assert len(saturdays) == 20 + 19
    assert len(set(due)) == len(due)  # every occurrence its own key


def test_each_term_resolves_term_anchors_per_term(session: Session, book, tmp_path: Path) -> None:
    path = plan_file(
        tmp_path,
        """\
        - key: staff_review
          title: {zh-CN: 后勤员工综合考核, en: Staff assessment}
          role: logistics_head
          repeat: each term
          due: term.end - 5 workdays
        """,
    )
    due = due_dates(session, book, path)
    assert due == {
        "staff_review@term1": "2027-01-15 18:00",
        "staff_review@term2": "2027-07-02 18:00",
    }


def test_launch_makes_every_occurrence_an_item_with_its_own_title_and_reminders(
    session: Session, book, templates
) -> None:
    people = staff_school(session, extra_roles=("exam_patrol",))
    result = launch(
        session,
        template=templates["gaokao_security"],
        school=people["school"],
        period="2026-2027",
        book=book,
        by="zhang",
        now=NOW,
    )
    items = {
        i.key: i for i in session.scalars(select(Item).where(Item.run_id == result.run.id)).all()
    }
    patrols = sorted(k for k in items if k.startswith("night_patrol@"))
    assert patrols == ["night_patrol@day1", "night_patrol@day2", "night_patrol@day3"]
    day2 = items["night_patrol@day2"]
    assert day2.title_zh == "考试日前一晚夜间考场巡查（第2天 6月8日）"
    assert day2.title_en == "Night exam-room patrol before the exam day (day 2, 08 Jun)"
    assert (
        pendulum.instance(day2.due_at).in_tz("Asia/Shanghai").format("YYYY-MM-DD HH:mm")
        == "2027-06-08 07:00"
    )
    assert day2.remind == [1, 0] and day2.evidence_kind == "note" and len(day2.steps) == 2
    # an occurrence waits for a one-off item it depends on
    assert items["fire_lift_on_duty@day3"].depends_on == ["fire_lift_check"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekly on saturdy", "unknown weekday 'saturdy' (did you mean 'saturday'?)"),
        ("each day of gaokoa", "unknown event 'gaokoa' (did you mean 'gaokao'?)"),
        ("monthly on 31", "day must be 1-28"),
        ("montly on 25", "did you mean 'monthly'?"),
        ("weekly on monday during trem", "(did you mean 'term'?)"),
    ],
)
def test_a_repeat_rule_that_cannot_be_read_says_why(text: str, expected: str) -> None:
    with pytest.raises(RepeatError) as caught:
        parse_repeat(text)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("repeat", "due", "field", "expected"),
    [
        ("weekly on saturdy", "occurrence", "repeat", "did you mean 'saturday'?"),
        ("each day of zhongkao", "occurrence", "repeat", "list zhongkao.start and zhongkao.end"),
        (None, "occurrence @ 07:00", "due", "the anchor occurrence needs a repeat: rule"),
    ],
)
def test_a_bad_repeat_is_refused_with_file_line_and_field(
    tmp_path: Path, repeat: str | None, due: str, field: str, expected: str
) -> None:
    path = plan_file(
        tmp_path,
        f"""\
        - key: open_rooms
          title: {{zh-CN: 开启试室}}
          role: property_manager
          {f"repeat: {repeat}" if repeat else "evidence: none"}
          due: {due}
        """,
    )
    with pytest.raises(ValidationFailed) as caught:
        load_template_file(path)
    [problem] = caught.value.problems
    text = path.read_text(encoding="utf-8").splitlines()
    assert problem.file == str(path)
    assert problem.field == f"phases.all.items.open_rooms.{field}"
    assert text[problem.line - 1].strip().startswith(f"{field}:")  # type: ignore[operator]
    assert expected in problem.message


def test_launch_preview_lists_every_occurrence_with_its_deadline(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["people", "import", str(ROOT / "examples" / "demo-school.yaml")]) == 0
    capsys.readouterr()
    args = ["launch", "gaokao_security", "--school", "demo", "--period", "2026-2027"]
    assert main([*args, "--preview"]) == 0
    lines = capsys.readouterr().out.splitlines()
    opening = [line for line in lines if line.startswith("open_rooms@")]
    assert opening == [
        "open_rooms@day1: 2027-06-07(周一)07:00 (暂定) → 钱经理",
        "open_rooms@day2: 2027-06-08(周二)07:00 (暂定) → 钱经理",
        "open_rooms@day3: 2027-06-09(周三)07:00 (暂定) → 钱经理",
    ]
    assert sum(line.startswith("night_patrol@") for line in lines) == 3
    assert date(2027, 6, 9).isoformat() in "\n".join(lines)


def test_a_year_of_occurrences_is_made_at_launch_but_a_list_shows_the_next_two_weeks(
    session: Session, book, templates
) -> None:
    people = staff_school(session)
    result = launch(
        session,
        template=templates["routine_duties"],
        school=people["school"],
        period="2026-2027",
        book=book,
        by="zhang",
        now=NOW,
    )
    everything = session.scalars(select(Item.key).where(Item.run_id == result.run.id)).all()
    assert result.items == len(everything) == 83  # a year of seven monthly duties, terms, year
    assert sum(k.startswith("fixed_asset_register@") for k in everything) == 12
    # on Monday 2026-11-23 09:00 a list shows what is due by 12-07 09:00: the past months'
    # (overdue) and November's occurrences, not December's (the utility report of the 5th, a
    # Saturday, is due Monday 12-07 18:00), and every one-off item
    shown = session.scalars(
        select(Item.key).where(Item.run_id == result.run.id, recurrence.shown_by(NOW))
    ).all()
    assert "fixed_asset_register@2026-11" in shown and "utility_report@2026-09" in shown
    assert "utility_report@2026-12" not in shown and "fixed_asset_register@2026-12" not in shown
    assert "staff_assessment" in shown
    assert (
        len(shown) == 7 * 3 + 2
    )  # Sep-Nov of the 7 monthly duties, print_midterm@term1, the yearly one
