"""`houqin replan`, `houqin calendar check` and `houqin calendar notice` against a launched plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calendars import DEFAULT_DIR, load_book
from houqin.cli import main
from houqin.db import make_engine
from houqin.launch import launch
from houqin.models import AuditEvent, Item
from houqin.plan_templates import load_builtin_templates
from tests.factories import NOW, staff_school
from tests.test_calendar_entry import NOTICE_2027


@pytest.fixture
def launched(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """gaokao_security launched for the demo school, 2026-2027, from a copy of the calendars."""
    from houqin.settings import get_settings

    directory = tmp_path / "calendars"
    directory.mkdir()
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    monkeypatch.setenv("HOUQIN_CALENDAR_DIR", str(directory))
    get_settings.cache_clear()
    engine = make_engine(database_url)
    with Session(engine) as s, s.begin():
        people = staff_school(s, extra_roles=("exam_patrol",))
        launch(
            s,
            template=load_builtin_templates()["gaokao_security"],
            school=people["school"],
            period="2026-2027",
            book=load_book(directory),
            by="zhang",
            now=NOW,
        )
    engine.dispose()
    return directory


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def counts(database_url: str) -> tuple[int, int]:
    engine = make_engine(database_url)
    with Session(engine) as s:
        provisional = s.scalar(select(func.count()).where(Item.due_provisional.is_(True))) or 0
        events = s.scalar(select(func.count()).where(AuditEvent.action == "item.replanned")) or 0
    engine.dispose()
    return provisional, events


def test_check_counts_notice_lists_and_replan_applies_once(
    launched: Path, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "calendar", "check")
    assert "launched items: 0 of 44 open items would move" in out

    notice = tmp_path / "2027.txt"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    out = run(capsys, "calendar", "notice", str(notice))
    assert "written:" in out
    # then what houqin replan would move: every item, its 暂定 cleared by the official 2027
    assert "launched items: 44 of 44 open items would move" in out
    assert "2027-06-02(周三)18:00（暂定） → 2027-06-02(周三)18:00" in out
    assert "holiday_arrangements.2027.status: provisional → official" in out
    assert counts(database_url) == (44, 0)  # shown, not applied

    out = run(capsys, "calendar", "check")
    assert "launched items: 44 of 44 open items would move, 0 would be added (houqin replan" in out

    out = run(capsys, "replan", "--preview", "--school", "demo")
    assert "preview: 44 of 44 open items would change, 0 would be added; nothing was changed" in out
    assert counts(database_url) == (44, 0)

    out = run(capsys, "--lang", "en", "replan", "--today", "2026-11-30", "--by", "zhang")
    assert "44 of 44 open items re-planned" in out
    assert "(provisional) → Wed 2027-06-02 18:00" in out
    assert counts(database_url) == (0, 44)

    out = run(capsys, "replan")
    assert "0 of 44 open items re-planned" in out
    assert main(["replan", "--school", "dmeo"]) == 2
    assert "no school 'dmeo'" in capsys.readouterr().err
    for period, problem in (("2027", "expected a school year"), ("2026-2027/3", "/1 or /2")):
        assert main(["replan", "--period", period]) == 2
        assert problem in capsys.readouterr().err
    assert counts(database_url) == (0, 44)
    assert "0 of 44 open items would move" in run(capsys, "calendar", "check")


def test_the_sweeps_reminder_task_replans_an_edited_calendar_first(
    launched: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tasks.sweep import plan_reminders

    june1 = pendulum.datetime(2027, 6, 1, 7, 30, tz="Asia/Shanghai")
    plan_reminders.fn(june1, None)  # T-1 of the 06-02 items, T-3 of the 06-04 ones, ...
    assert counts(database_url) == (44, 0)  # files unchanged since the launch: nothing moves
    path = launched / "2026-2027.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    status: provisional\n", "    status: official\n", 1)
    moved = "gaokao: {start: 2027-06-08, end: 2027-06-10}"  # 高考 a day later, every exam day
    path.write_text(
        text.replace("gaokao: {start: 2027-06-07, end: 2027-06-09}", moved), encoding="utf-8"
    )
    planned = plan_reminders.fn(june1, None)
    assert counts(database_url) == (0, 44)
    assert planned.written > 0  # the new deadlines' reminders, planned in the same sweep
    out = run(capsys, "outbox")
    assert "reminders withdrawn: their deadline moved with the calendar" in out
    plan_reminders.fn(june1, None)
    assert counts(database_url) == (0, 44)  # once


def test_an_exam_a_day_longer_is_checked_previewed_and_added_from_the_terminal(
    launched: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = launched / "2026-2027.yaml"
    text = path.read_text(encoding="utf-8")
    longer = text.replace(
        "gaokao: {start: 2027-06-07, end: 2027-06-09}",
        "gaokao: {start: 2027-06-07, end: 2027-06-10}",
    )
    assert longer != text
    path.write_text(longer, encoding="utf-8")

    assert "9 would be added (houqin replan --preview lists them)" in run(
        capsys, "calendar", "check"
    )
    preview = run(capsys, "replan", "--preview")
    assert (
        "demo gaokao_security 2026-2027 · 考试日前一晚夜间考场巡查（第4天 6月10日） · 张主任: "
        "+ 2027-06-10(周四)07:00（暂定） · 原因: 2026-2027.yaml exams.gaokao.end: "
        "2027-06-09 → 2027-06-10" in preview
    )
    assert "将新增 9 项" in preview

    applied = run(capsys, "replan", "--by", "zhang")
    assert "新增 9 项" in applied and "9 added" in applied
    engine = make_engine(database_url)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).where(Item.key.like("%@day4"))) == 9
        assert s.scalar(select(func.count()).where(AuditEvent.action == "item.added")) == 9
    engine.dispose()
    assert "0 would be added" in run(capsys, "replan", "--preview")  # done once
