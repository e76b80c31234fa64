"""Assessment scoring by plans/standards/primary_school.yaml: a case computed by hand."""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from pathlib import Path

import pendulum
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin import repairs, scores
from houqin.errors import UserError
from houqin.models import AuditEvent, InspectionScore, Person, PlanRun, School
from houqin.reports import output
from houqin.reports.assessment import assess
from houqin.reports.windows import parse_window
from houqin.standards import get_standard
from tests.factories import make_item, make_run, staff_school

TZ = "Asia/Shanghai"
AFTER_Q1 = pendulum.datetime(2027, 4, 1, 10, 0, tz=TZ)
STANDARD = get_standard("primary_school")


def jan(day: int, hour: int = 18, minute: int = 0) -> datetime:
    return pendulum.datetime(2027, 1, day, hour, minute, tz=TZ)


def test_periods_are_quarters_terms_and_school_years() -> None:
    q1 = parse_window("2027Q1")
    assert (q1.kind, q1.start, q1.end) == ("quarter", date(2027, 1, 1), date(2027, 4, 1))
    assert parse_window("2026Q4").end == date(2027, 1, 1)
    autumn, spring = parse_window("2026-2027/1"), parse_window("2026-2027/2")
    assert (autumn.start, autumn.end) == (date(2026, 8, 1), date(2027, 2, 1))
    assert (spring.start, spring.last_day) == (date(2027, 2, 1), date(2027, 7, 31))
    assert parse_window("2026-2027").end == date(2027, 8, 1)
    for bad in ("2027Q5", "2026-2028/1", "2026-2027/3", "Q1"):
        with pytest.raises(UserError, match="expected a quarter"):
            parse_window(bad)


def enter(
    session: Session, school: School, kpi: str, source: str, score: float, note: str | None = None
) -> None:
    scores.enter(
        session,
        standard=STANDARD,
        school=school,
        period="2027Q1",
        kpi=kpi,
        source=source,
        score=score,
        by="督导组",
        now=AFTER_Q1,
        note=note,
    )


@pytest.fixture
def school(session: Session) -> School:
    """A quarter (2027Q1) whose every KPI input is known; see the arithmetic below."""
    p = staff_school(session)
    sch, li, zhang = p["school"], p["li"], p["zhang"]
    run = make_run(session, sch)
    done = {"status": "done", "completed_at": jan(5, 9)}
    # facility_maintenance_on_time (roles maintenance_lead, ...): 19 of 20 on time
    for n in range(20):
        make_item(
            session,
            run,
            li,
            due=jan(10),
            key=f"m{n}",
            role_key="maintenance_lead",
            late=n == 0,
            **done,
        )
    # not counted: waived, or due after the quarter
    make_item(
        session, run, li, due=jan(10), key="m-waived", role_key="maintenance_lead", status="waived"
    )
    make_item(
        session,
        run,
        li,
        due=pendulum.datetime(2027, 4, 2, tz=TZ),
        key="m-april",
        role_key="maintenance_lead",
    )
    # safety_work_on_time: 4 of 4 on time
    for n in range(4):
        make_item(
            session,
            run,
            zhang,
            due=jan(12),
            key=f"s{n}",
            role_key="safety_officer",
            late=False,
            **done,
        )
    # supply_timeliness (storekeeper ...): 2 items, none late
    for n in range(2):
        make_item(
            session,
            run,
            zhang,
            due=jan(12),
            key=f"k{n}",
            role_key="storekeeper",
            late=False,
            **done,
        )
    # repairs: answered after 10, 20, 25 and 30 minutes; fixed after 1, 1.5, 2 and 5 hours
    for n, (answer, fix) in enumerate([(10, 60), (20, 90), (25, 120), (30, 300)]):
        reported = jan(4 + n, 9)
        r = repairs.report(
            session,
            school=sch,
            location=f"教室{n}",
            description="灯不亮",
            by="王老师",
            now=reported,
        )
        repairs.respond(session, repair_id=r.id, by="li", now=reported.add(minutes=answer))
        repairs.complete(session, repair_id=r.id, by="li", now=reported.add(minutes=fix))
    enter(session, sch, "facility_intact", "daily", 99.0)
    enter(session, sch, "facility_intact", "daily", 98.0)
    enter(session, sch, "facility_intact", "special", 99.0)
    enter(session, sch, "facility_intact", "third_party", 97.0)
    enter(session, sch, "hygiene_safety_checks", "daily", 92.0)
    enter(session, sch, "hygiene_safety_checks", "third_party", 86.0)
    enter(session, sch, "hazard_rectification", "daily", 100.0)
    enter(session, sch, "cost_control", "third_party", 0.8)
    enter(session, sch, "energy_saving", "daily", 85.0)
    enter(session, sch, "satisfaction", "special", 96.0)
    enter(session, sch, "satisfaction", "third_party", 92.0)
    enter(session, sch, "unrectified_findings", "special", 1, "消防通道堆放杂物")
    # food_freshness: nothing entered (数据不足)
    return sch


def test_constructed_quarter_total_matches_the_hand_computation(session, school) -> None:
    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    # KPI (weight)                  value                                       level  score
    # facility_maintenance (10)     19/20 = 95%             (≥95)                 4    10×4/5 = 8
    # repair_response (8)           4/4 within 30 min = 100% (30 min counts)      5     8×5/5 = 8
    # repair_response_2h (6)        4/4 answered within 2 h = 100% (≥100)         5     6×5/5 = 6
    # facility_intact (6)           .5×98.5 + .3×99 + .2×97 = 98.35 (≥98)         3     6×3/5 = 3.6
    # hygiene_safety_checks (8)     (.5×92 + .2×86) / .7 = 90.29 (≥90)            4     8×4/5 = 6.4
    # safety_work_on_time (7)       4/4 = 100%                                    5     7
    # hazard_rectification (5)      100                     (≥100)                5     5
    # food_freshness (5)            no data: 数据不足, no level, no score         —     —
    # supply_timeliness (10)        0 delays                (≤0)                  5    10
    # cost_control (8)              0.8                     (≤1)                  5     8
    # energy_saving (7)             85                      (≥80)                 4     7×4/5 = 5.6
    # satisfaction (20)             .5×96 + .5×92 = 94      (≥90)                 4    20×4/5 = 16
    # points = 8+8+6+3.6+6.4+7+5+10+8+5.6+16 = 83.6; 1 finding × 1 point: 82.6 so far. With
    # food_freshness at level 1 (+1) or 5 (+5) the total is 83.6–87.6: 合格 (≥80) either way.
    got = {k.kpi.key: (k.value, k.level, k.score) for k in result.kpis}
    assert got == {
        "facility_maintenance_on_time": (95.0, 4, 8.0),
        "repair_response": (100.0, 5, 8.0),
        "repair_response_2h": (100.0, 5, 6.0),
        "facility_intact": (98.35, 3, 3.6),
        "hygiene_safety_checks": (90.29, 4, 6.4),
        "safety_work_on_time": (100.0, 5, 7.0),
        "hazard_rectification": (100.0, 5, 5.0),
        "food_freshness": (None, None, None),
        "supply_timeliness": (0.0, 5, 10.0),
        "cost_control": (0.8, 5, 8.0),
        "energy_saving": (85.0, 4, 5.6),
        "satisfaction": (94.0, 4, 16.0),
    }
    assert (result.points, result.deducted, result.total_range) == (83.6, 1.0, (83.6, 87.6))
    assert result.total is None and [k.kpi.key for k in result.missing] == ["food_freshness"]
    assert result.band.key == "qualified" and result.band.title.zh == "合格单位"
    assert result.fired == []


def test_with_every_kpi_measured_the_total_is_one_number(session, school) -> None:
    enter(session, school, "food_freshness", "third_party", 99.3)  # ≥99.2: level 4, 5×4/5 = 4

    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert result.complete and (result.points, result.total) == (87.6, 86.6)
    assert result.total_range == (86.6, 86.6) and result.band.key == "qualified"


def test_one_vote_veto_puts_the_result_in_the_lowest_band_whatever_the_points(
    session, school
) -> None:
    # 000 篇2 五.1: a 食品卫生安全责任事故 bars both 先进 and 合格
    enter(session, school, "food_hygiene_accident", "special", 1, "1月15日午餐，12名学生就医")

    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert result.band_by_points.key == "qualified" and result.band.key == "rectify"
    assert [(v.veto.key, v.veto.source, v.notes) for v in result.fired] == [
        ("food_hygiene_accident", "000 篇2 ①", ("1月15日午餐，12名学生就医",)),
    ]
    page = output.html(result)
    assert "一票否决：不论得分，结果定为 限期整改单位（按分数：合格单位）" in page
    assert "发生负有责任的食品卫生事故" in page


def advanced(session: Session, school: School) -> None:
    """Lift the quarter to 先进: freshness 99.6 (level 5, +5), satisfaction 96 (level 5, +4)."""
    enter(session, school, "food_freshness", "third_party", 99.6)
    enter(session, school, "satisfaction", "third_party", 100.0)  # third-party mean 96


def test_a_complaint_bars_the_annual_award_but_does_not_make_the_school_rectify(
    session, school
) -> None:
    # 003 "年度后勤评先实行投诉一票否决": no 先进 this year; 合格 stays 合格
    advanced(session, school)
    before = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)
    enter(session, school, "complaint", "daily", 1, "家长投诉饭菜，经查属实")

    after = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert (before.total, before.band.key) == (91.6, "advanced")
    assert after.total == 91.6 and after.band_by_points.key == "advanced"
    assert after.band.key == "qualified"
    page = output.html(after)
    assert "一票否决：结果不高于 合格单位（按分数：先进单位）" in page
    en = output.html(after, "en")
    assert "One-vote veto: the result is at most Qualified unit (By points: Advanced unit)" in en


def test_a_complaint_leaves_a_qualified_school_qualified(session, school) -> None:
    enter(session, school, "complaint", "daily", 1, "家长投诉饭菜，经查属实")

    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert [v.veto.key for v in result.fired] == ["complaint"]
    assert result.band.key == "qualified"


def test_a_withdrawn_veto_no_longer_fires(session, school) -> None:
    enter(session, school, "complaint", "daily", 1, "家长投诉饭菜")
    enter(session, school, "complaint", "daily", -1, "经查不属实，撤回")

    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert result.fired == [] and result.band.key == "qualified"


def test_another_period_sees_none_of_the_quarters_scores(session, school) -> None:
    result = assess(
        session,
        standard=STANDARD,
        school=school,
        period="2026-2027/2",
        now=pendulum.datetime(2027, 8, 1, tz=TZ),
    )

    # Feb–Jul: no January items or repairs, no scores entered for this term; only the April
    # maintenance item, still open, is measured (0% on time: level 1, 10 × 1 ÷ 5 = 2)
    assert [k.kpi.key for k in result.kpis if not k.no_data] == ["facility_maintenance_on_time"]
    # the other 90 weight at level 1 … 5: 2 + 18 = 20 … 2 + 90 = 92, any band: no result
    assert (result.points, result.total, result.total_range) == (2.0, None, (20.0, 92.0))
    assert result.band is None and result.result_key == "insufficient_data"
    assert [b.key for b in result.possible_bands()] == ["advanced", "qualified", "rectify"]


def test_html_pdf_and_xlsx_show_each_kpi_so_the_arithmetic_can_be_checked(
    session, school, tmp_path: Path
) -> None:
    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    page = output.html(result)
    assert "10 × 4 ÷ 5 = 8" in page and "20 × 4 ÷ 5 = 16" in page
    assert "日常检查 98.5（2份，权重 0.5）" in page  # facility_intact: the daily mean
    assert "小计 25.6" in page and "小计 18.4" in page  # food_freshness adds nothing
    assert "12 项指标中 1 项无数据（权重合计 5）" in page and "缺失的数据不会改变结果" in page
    pdf = output.write(result, "pdf", tmp_path / "a.pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "后勤管理绩效考核：demo 中学" in text and "合格单位" in text
    assert "设施维护按时完成率" in text and "一票否决" in text
    wb = load_workbook(output.write(result, "xlsx", tmp_path / "a.xlsx"))
    ws = wb["指标"]
    row = {r[1].value: [c.value for c in r] for r in ws.iter_rows(min_row=2)}
    assert row["repair_response_2h"][4:9] == [100.0, 5, "卓越", 6.0, 6.0]
    assert row["repair_response_2h"][9].startswith("=H") and ws.freeze_panes == "A2"
    assert (
        "报修单 4" in row["repair_response_2h"][3]
        and "时限（分钟） 120" in row["repair_response_2h"][3]
    )
    assert row["food_freshness"][4:10] == [None, None, "数据不足", 5, None, "不计分"]
    summary = {a.value: b.value for a, b in wb["总体情况"].iter_rows()}
    assert (summary["总分"], summary["考核结果"]) == ("83.6–87.6", "合格单位")


def test_scores_are_checked_against_the_standard_and_audited(session, school) -> None:
    cases = {
        ("no_such_kpi", "daily", 90): "has no KPI, veto or deduction",
        ("repair_response", "daily", 90): "measured from the ledger",
        ("facility_intact", "daily", 980): "outside 0–100",
        ("satisfaction", "daily", 90): "scored by special, third_party",
        ("complaint", "daily", 1.5): "whole number",
        ("complaint", "daily", -1): "needs a --note",
    }
    for (kpi, source, value), message in cases.items():
        with pytest.raises(UserError, match=message):
            enter(session, school, kpi, source, value)
    with pytest.raises(UserError, match="expected a quarter"):
        scores.enter(
            session,
            standard=STANDARD,
            school=school,
            period="2027-Q1",
            kpi="facility_intact",
            source="daily",
            score=99,
            by="x",
            now=AFTER_Q1,
        )
    audited = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "score.enter").order_by(AuditEvent.id)
    ).all()
    assert len(audited) == 12 and audited[0].details["kpi"] == "facility_intact"


def test_three_late_supplies_score_one_point(session, school) -> None:
    # 004 "物资供应延迟3次以上" = 1 分, 以上 including 3 (was level 2 when read as "more than 3")
    run = session.scalars(select(PlanRun)).one()
    owner = session.scalars(select(Person).where(Person.code == "zhang")).one()
    for n in range(3):
        make_item(
            session,
            run,
            owner,
            due=jan(20),
            key=f"late{n}",
            role_key="storekeeper",
            status="done",
            completed_at=jan(25),
            late=True,
        )

    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    supply = next(k for k in result.kpis if k.kpi.key == "supply_timeliness")
    assert (supply.value, supply.level, supply.score) == (3.0, 1, 2.0)


def test_assessment_flow_writes_the_files(database_url: str, tmp_path: Path) -> None:
    from flows.assessment import assessment
    from houqin.db import make_engine, unit_of_work

    engine = make_engine(database_url)
    with unit_of_work(engine) as s:
        staff_school(s)
    engine.dispose()
    result = assessment.fn(
        school="demo",
        period="2027Q1",
        standard="primary_school",  # the demo is a 完全中学: no standard is for its kind
        formats=("html", "xlsx"),
        today=date(2027, 4, 1),
        out_dir=str(tmp_path),
    )

    # nothing entered: every KPI 数据不足, no band (it used to say 限期整改 with 20 points)
    assert (result["total"], result["band"], result["vetoes"]) == (None, "insufficient_data", [])
    assert result["total_range"] == [20.0, 100.0] and len(result["no_data"]) == 12
    assert Path(result["paths"]["xlsx"]).name == "assessment-demo-2027Q1.xlsx"


@pytest.fixture
def empty(session: Session) -> School:
    """A school with nothing entered and nothing measured: every KPI 数据不足."""
    return staff_school(session, "empty")["school"]


def test_a_school_with_no_data_gets_no_band_in_any_format_or_language(
    session, empty, tmp_path: Path
) -> None:
    # it used to be "限期整改单位" with 20 points: every KPI scored at level 1
    result = assess(session, standard=STANDARD, school=empty, period="2027Q1", now=AFTER_Q1)

    assert result.band is None and result.band_by_points is None and result.total is None
    assert len(result.missing) == 12 and result.total_range == (20.0, 100.0)
    zh, en = output.html(result), output.html(result, "en")
    assert '<div class="card nodata">考核结果<b>数据不足</b></div>' in zh
    assert "12 项指标中 12 项无数据（权重合计 100）" in zh and "20–100" in zh
    assert "可能为 先进单位或合格单位或限期整改单位" in zh
    assert zh.count('<td class="n muted">不计分</td>') == 12 and "× 1 ÷ 5" not in zh
    assert '<div class="card nodata">Result<b>Insufficient data</b></div>' in en
    assert "12 of 12 KPIs have no data (weight 100)" in en
    text = subprocess.run(
        ["pdftotext", str(output.write(result, "pdf", tmp_path / "a.pdf")), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "数据不足" in text and "得分不完整" in text
    for lang, sheet, key, result_label, no_data in (
        ("zh-CN", "总体情况", "考核结果", "数据不足", "数据不足"),
        ("en", "Overview", "Result", "Insufficient data", "Insufficient data"),
    ):
        wb = load_workbook(output.write(result, "xlsx", tmp_path / f"{lang}.xlsx", lang))
        summary = {a.value: b.value for a, b in wb[sheet].iter_rows()}
        assert summary[key] == result_label
        levels = [r[6].value for r in wb[wb.sheetnames[1]].iter_rows(min_row=2, max_row=13)]
        assert levels == [no_data] * 12


def test_a_veto_to_the_last_band_decides_the_result_even_without_data(session, empty) -> None:
    enter(session, empty, "food_hygiene_accident", "special", 1, "负有责任的食物中毒")

    result = assess(session, standard=STANDARD, school=empty, period="2027Q1", now=AFTER_Q1)

    assert result.band.key == "rectify" and result.band_by_points is None
    page = output.html(result)
    assert "缺失的数据不会改变结果" in page
    assert "一票否决：不论得分，结果定为 限期整改单位（按分数：数据不足）" in page


def test_the_cli_line_says_insufficient_data_in_each_language(session, empty, school) -> None:
    from houqin.reports import assessment_text

    none = assess(session, standard=STANDARD, school=empty, period="2027Q1", now=AFTER_Q1)
    some = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert assessment_text.line(none).startswith("数据不足：12 项指标中 12 项无数据")
    assert assessment_text.line(none, "en").startswith("Insufficient data: 12 of 12 KPIs")
    assert assessment_text.line(some) == (
        "合格单位：12 项指标中 1 项无数据（权重合计 5）；已有数据的指标得分 83.6，"
        "补齐数据后总分在 83.6–87.6 之间；缺失的数据不会改变结果"
    )


def test_an_entry_under_a_key_the_standard_dropped_is_shown_not_lost(session, school) -> None:
    # entered when mass food poisoning was (wrongly) a veto of this standard
    session.add(
        InspectionScore(
            school_id=school.id,
            period="2027Q1",
            kpi="mass_food_poisoning",
            source="special",
            score=1,
            note="1月15日午餐",
            entered_by="教育局",
            entered_at=AFTER_Q1,
        )
    )
    session.flush()

    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert result.other_entries == {"mass_food_poisoning": 1} and result.fired == []
    assert "本期录入但本标准不计的项目：mass_food_poisoning（1 条）" in output.html(result)
    assert "mass_food_poisoning (1)" in output.html(result, "en")
