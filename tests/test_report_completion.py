"""The completion report of a plan run: figures in the data, the HTML, the xlsx and the PDF."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pendulum
import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import event, insert
from sqlalchemy.engine import Result, ScalarResult
from sqlalchemy.orm import Session

from houqin import items
from houqin.errors import NotFound
from houqin.models import Item, PlanRun
from houqin.reports import completion, output
from tests.factories import make_item, make_run, staff_school

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2026, 11, 23, 9, 0, tz=TZ)


def at(day: int, hour: int = 18) -> datetime:
    return pendulum.datetime(2026, 11, day, hour, 0, tz=TZ)


@pytest.fixture
def run(session: Session, tmp_path: Path) -> PlanRun:
    """Six items with known outcomes as of NOW (2026-11-23 09:00), in two phases.

    准备阶段: A on time (zhang), B 40 h late (li), C open 63 h past due (zhang → li)
    实施阶段: D open, not yet due (zhang), E waived (zhang), F done 10 d 15 h late (li)
    """
    p = staff_school(session)
    zhang, li = p["zhang"], p["li"]
    r = make_run(session, p["school"])
    photo = tmp_path / "fire-check.png"
    Image.new("RGB", (640, 480), "red").save(photo)

    def item(key: str, phase: str, owner, due: datetime, pos: int) -> Item:  # type: ignore[no-untyped-def]
        it = make_item(session, r, owner, due=due, key=key, position=pos, title_zh=f"事项{key}")
        it.phase_zh = phase
        session.flush()
        return it

    a = item("A", "准备阶段", zhang, at(10), 1)
    b = item("B", "准备阶段", li, at(12), 2)
    c = item("C", "准备阶段", zhang, at(20), 3)
    item("D", "实施阶段", zhang, at(30), 4)
    e = item("E", "实施阶段", zhang, at(15), 5)
    f = item("F", "实施阶段", li, at(1), 6)
    items.tick(
        session,
        item=a,
        by=zhang,
        now=at(10, 10),
        note="已检查 <b>全部</b> 灭火器",
        photos=[str(photo)],
    )
    items.tick(session, item=b, by=li, now=at(14, 10), number=19)
    items.tick(session, item=f, by=li, now=at(12, 9), photos=["missing-photo.jpg"])
    items.reassign(session, item=c, to=li, by="zhang", now=at(18, 9), reason="李师傅负责水电")
    items.waive(session, item=e, by="zhang", now=at(16, 9), reason="天气原因取消")
    return r


def test_completion_report_counts_each_outcome_by_phase_and_owner(session, run) -> None:
    report = completion.build(session, run_id=run.id, now=NOW)

    assert report.totals.counts == {
        "done_on_time": 1,
        "done_late": 2,
        "open_overdue": 1,
        "open": 1,
        "waived": 1,
    }
    assert report.totals.on_time_rate == 20.0  # 1 on time of 6 - 1 waived
    assert list(report.by_phase) == ["准备阶段", "实施阶段"]
    assert report.by_phase["准备阶段"].on_time_rate == 33.3  # A of A, B, C
    assert report.by_phase["实施阶段"].on_time_rate == 0.0  # F late; D not due; E waived
    # C was reassigned to li: it counts for its current owner
    assert report.by_owner["李师傅"].counts["open_overdue"] == 1
    assert report.by_owner["张主任"].on_time_rate == 50.0  # A on time, D open, E waived


def test_lateness_is_counted_in_started_days(session, run) -> None:
    report = completion.build(session, run_id=run.id, now=NOW)

    # B: 40 h late = 2 days; F: 10 d 15 h = 11 days; C: open 63 h past due = 3 days
    assert report.lateness == {"on_time": 1, "le1": 0, "d2_3": 1, "d4_7": 0, "d8_30": 1, "gt30": 0}
    assert report.overdue_age == {"le1": 0, "d2_3": 1, "d4_7": 0, "d8_30": 0, "gt30": 0}
    assert {r.title: r.days_late for r in report.rows} == {
        "事项A": 0,
        "事项B": 2,
        "事项C": 3,
        "事项D": 0,
        "事项E": 0,
        "事项F": 11,
    }


def test_evidence_lists_notes_numbers_and_photo_thumbnails(session, run) -> None:
    report = completion.build(session, run_id=run.id, now=NOW)

    shown = {(e.item_title, e.kind): e for e in report.evidence}
    assert shown[("事项A", "note")].text == "已检查 <b>全部</b> 灭火器"
    assert shown[("事项B", "number")].text == "19"
    assert shown[("事项A", "photo")].thumbnail.startswith("data:image/jpeg;base64,")
    missing = shown[("事项F", "photo")]
    assert (missing.text, missing.thumbnail) == ("missing-photo.jpg", None)


def test_audit_lists_waivers_and_reassignments_in_order(session, run) -> None:
    report = completion.build(session, run_id=run.id, now=NOW)

    assert [(a.action, a.item_title) for a in report.audit] == [
        ("item.waive", "事项E"),
        ("item.reassign", "事项C"),
    ]
    assert report.audit[1].details == {"from": "zhang", "to": "li", "reason": "李师傅负责水电"}


def test_html_shows_the_figures_escapes_user_text_and_inlines_the_chart(session, run) -> None:
    page = output.html(completion.build(session, run_id=run.id, now=NOW))

    assert '<html lang="zh-CN">' in page
    assert "计划完成情况报告：测试计划" in page
    assert "20.0%" in page and "天气原因取消" in page and "李师傅负责水电" in page
    assert "已检查 &lt;b&gt;全部&lt;/b&gt; 灭火器" in page  # the note is escaped
    assert 'src="data:image/jpeg;base64,' in page and "missing-photo.jpg" in page
    assert '<svg font-family="Noto Sans CJK SC"' in page and "按时完成" in page


def test_html_in_english_uses_english_labels(session, run) -> None:
    page = output.html(completion.build(session, run_id=run.id, now=NOW), "en")

    assert '<html lang="en">' in page and "Plan completion report" in page
    assert "done late" in page and "On-time rate" in page


def test_xlsx_reads_back_with_chinese_headers_dates_filters_and_overdue_fill(
    session, run, tmp_path: Path
) -> None:
    report = completion.build(session, run_id=run.id, now=NOW)
    path = output.write(report, "xlsx", tmp_path / "c.xlsx")

    wb = load_workbook(path)
    assert wb.sheetnames == [
        "总体情况",
        "事项清单",
        "按阶段",
        "按负责人",
        "逾期分布",
        "完成凭证",
        "免除与转派记录",
    ]
    ws = wb["事项清单"]
    assert [c.value for c in ws[1]][:8] == [
        "#",
        "阶段",
        "事项",
        "负责人",
        "截止日期",
        "完成日期",
        "状态",
        "逾期天数",
    ]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:I7"
    rows = {r[2].value: r for r in ws.iter_rows(min_row=2)}
    c = rows["事项C"]
    assert c[4].value == datetime(2026, 11, 20) and c[4].number_format == "yyyy-mm-dd"
    assert (c[6].value, c[7].value) == ("逾期未完成", 3)
    # Only the open, overdue item is filled, computed from the report's date.
    filled = [t for t, r in rows.items() if r[0].fill.fgColor.rgb == "00FDE2E1"]
    assert filled == ["事项C"]
    assert rows["事项B"][5].value == datetime(2026, 11, 14)
    assert wb["按阶段"]["H2"].value == 33.3
    summary = {a.value: b.value for a, b in wb["总体情况"].iter_rows()}
    assert (summary["合计"], summary["按时完成率"], summary["逾期完成"]) == (6, 20.0, 2)


def test_pdf_text_has_the_chinese_figures_in_noto_sans_cjk(session, run, tmp_path: Path) -> None:
    report = completion.build(session, run_id=run.id, now=NOW)
    path = output.write(report, "pdf", tmp_path / "c.pdf")

    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "计划完成情况报告：测试计划" in text
    assert "逾期未完成" in text and "天气原因取消" in text and "20.0%" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "Noto-Sans-CJK-SC" in fonts


def test_report_streams_items_with_yield_per_and_never_loads_all(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = staff_school(session)
    run = make_run(session, p["school"])
    due = pendulum.datetime(2026, 11, 1, 18, tz=TZ)
    session.execute(
        insert(Item),
        [
            {
                "run_id": run.id,
                "school_id": run.school_id,
                "key": f"k{n}",
                "position": n,
                "phase_key": "p",
                "phase_zh": f"阶段{n % 3}",
                "title_zh": f"事项{n}",
                "role_key": "x",
                "owner_id": p["li"].id,
                "due_at": due,
                "status": "done" if n % 4 else "open",
                "late": n % 8 == 1 if n % 4 else None,
                "completed_at": due.subtract(hours=1) if n % 4 else None,
            }
            for n in range(1200)
        ],
    )
    options: list[dict] = []
    event.listen(session, "do_orm_execute", lambda st: options.append(st.execution_options))

    def refuse(self, *a, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError(".all() on a report query")

    monkeypatch.setattr(Result, "all", refuse)
    monkeypatch.setattr(ScalarResult, "all", refuse)
    report = completion.build(session, run_id=run.id, now=NOW)

    assert report.totals.total == 1200
    assert report.totals.counts["open_overdue"] == 300  # n % 4 == 0
    assert report.totals.counts["done_late"] == 150  # n % 8 == 1
    assert sum(o.get("yield_per") == completion.YIELD_PER for o in options) >= 3


def test_unknown_run_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="no plan run 999999"):
        completion.build(session, run_id=999999, now=NOW)


def test_completion_flow_writes_html_pdf_and_xlsx(database_url: str, tmp_path: Path) -> None:
    from flows.completion_report import completion_report
    from houqin.db import make_engine, unit_of_work

    engine = make_engine(database_url)
    with unit_of_work(engine) as s:
        p = staff_school(s)
        run_id = make_run(s, p["school"]).id
        make_item(s, s.get(PlanRun, run_id), p["li"], due=at(20), key="a")
    engine.dispose()
    paths = completion_report.fn(run_id=run_id, out_dir=str(tmp_path), today=NOW.date())

    assert sorted(paths) == ["html", "pdf", "xlsx"]
    assert all(Path(v).stat().st_size > 1000 for v in paths.values())
    assert "逾期未完成" in Path(paths["html"]).read_text(encoding="utf-8")
