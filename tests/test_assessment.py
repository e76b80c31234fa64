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
from houqin.models import AuditEvent, School
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
    # food_freshness: nothing entered
    return sch


def test_constructed_quarter_total_matches_the_hand_computation(session, school) -> None:
    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    # KPI (weight)                  value                                       level  score
    # facility_maintenance (10)     19/20 = 95%             (≥95)                 4    10×4/5 = 8
    # repair_response (8)           4/4 within 30 min = 100% (30 min counts)      5     8×5/5 = 8
    # repair_completion (6)         3/4 within 2 h = 75%    (≥70)                 2     6×2/5 = 2.4
    # facility_intact (6)           .5×98.5 + .3×99 + .2×97 = 98.35 (≥98)         3     6×3/5 = 3.6
    # hygiene_safety_checks (8)     (.5×92 + .2×86) / .7 = 90.29 (≥90)            4     8×4/5 = 6.4
    # safety_work_on_time (7)       4/4 = 100%                                    5     7
    # hazard_rectification (5)      100                     (≥100)                5     5
    # food_freshness (5)            no data → no_data_level                       1     5×1/5 = 1
    # supply_timeliness (10)        0 delays                (≤0)                  5    10
    # cost_control (8)              0.8                     (≤1)                  5     8
    # energy_saving (7)             85                      (≥80)                 4     7×4/5 = 5.6
    # satisfaction (20)             .5×96 + .5×92 = 94      (≥90)                 4    20×4/5 = 16
    # points = 8+8+2.4+3.6+6.4+7+5+1+10+8+5.6+16 = 81; 1 finding × 1 point: total 80 → 合格 (≥80)
    got = {k.kpi.key: (k.value, k.level, k.score) for k in result.kpis}
    assert got == {
        "facility_maintenance_on_time": (95.0, 4, 8.0),
        "repair_response": (100.0, 5, 8.0),
        "repair_completion": (75.0, 2, 2.4),
        "facility_intact": (98.35, 3, 3.6),
        "hygiene_safety_checks": (90.29, 4, 6.4),
        "safety_work_on_time": (100.0, 5, 7.0),
        "hazard_rectification": (100.0, 5, 5.0),
        "food_freshness": (None, 1, 1.0),
        "supply_timeliness": (0.0, 5, 10.0),
        "cost_control": (0.8, 5, 8.0),
        "energy_saving": (85.0, 4, 5.6),
        "satisfaction": (94.0, 4, 16.0),
    }
    assert (result.points, result.deducted, result.total) == (81.0, 1.0, 80.0)
    assert result.band.key == "qualified" and result.band.title.zh == "合格单位"
    assert result.fired == []


def test_one_vote_veto_puts_the_result_in_the_lowest_band_whatever_the_points(
    session, school
) -> None:
    enter(session, school, "mass_food_poisoning", "special", 1, "1月15日午餐，12名学生就医")

    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    assert result.total == 80.0 and result.band_by_points.key == "qualified"
    assert result.band.key == "rectify"
    assert [(v.veto.key, v.veto.source, v.notes) for v in result.fired] == [
        ("mass_food_poisoning", "003", ("1月15日午餐，12名学生就医",)),
    ]
    page = output.html(result)
    assert "一票否决：不论得分，结果定为 限期整改单位（按分数：合格单位）" in page
    assert "发生群体性食物中毒事件" in page


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

    # Feb–Jul: no January items or repairs, no scores entered for this term
    assert all(k.no_data for k in result.kpis if k.kpi.key != "facility_maintenance_on_time")
    assert result.total == 20.0  # every KPI at level 1: Σ weight × 1 ÷ 5 = 100 ÷ 5


def test_html_pdf_and_xlsx_show_each_kpi_so_the_arithmetic_can_be_checked(
    session, school, tmp_path: Path
) -> None:
    result = assess(session, standard=STANDARD, school=school, period="2027Q1", now=AFTER_Q1)

    page = output.html(result)
    assert "10 × 4 ÷ 5 = 8" in page and "20 × 4 ÷ 5 = 16" in page
    assert "日常检查 98.5（2份，权重 0.5）" in page  # facility_intact: the daily mean
    assert "无数据，按1级计" in page and "小计 22" in page and "小计 19.4" in page
    pdf = output.write(result, "pdf", tmp_path / "a.pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "后勤管理绩效考核：demo 中学" in text and "合格单位" in text
    assert "设施维护按时完成率" in text and "一票否决" in text
    wb = load_workbook(output.write(result, "xlsx", tmp_path / "a.xlsx"))
    ws = wb["指标"]
    row = {r[1].value: [c.value for c in r] for r in ws.iter_rows(min_row=2)}
    assert row["repair_completion"][4:9] == [75.0, 2, "基本达标", 6.0, 2.4]
    assert row["repair_completion"][9].startswith("=H") and ws.freeze_panes == "A2"
    assert "报修单 4" in row["repair_completion"][3]
    summary = {a.value: b.value for a, b in wb["总体情况"].iter_rows()}
    assert (summary["总分"], summary["考核结果"]) == (80.0, "合格单位")


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


def test_supply_delays_follow_the_seed_anchor_more_than_three_is_one_point() -> None:
    supply = next(k for k in STANDARD.kpis if k.key == "supply_timeliness")

    assert [supply.level(n) for n in range(6)] == [5, 4, 3, 2, 1, 1]


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
        formats=("html", "xlsx"),
        today=date(2027, 4, 1),
        out_dir=str(tmp_path),
    )

    assert (result["total"], result["band"], result["vetoes"]) == (20.0, "rectify", [])
    assert Path(result["paths"]["xlsx"]).name == "assessment-demo-2027Q1.xlsx"
