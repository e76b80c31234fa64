"""The overdue digest for leadership: by owner and age, worst plans, what changed since the last."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pendulum
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from houqin import items
from houqin.errors import NotFound, UserError
from houqin.models import DigestRun, Item, PlanRun
from houqin.reports import output, overdue
from tests.factories import make_item, make_run, staff_school

TZ = "Asia/Shanghai"
MONDAY = pendulum.datetime(2026, 11, 23, 8, 0, tz=TZ)  # the weekly digest goes out


def due(day: int, hour: int = 18) -> datetime:
    return pendulum.datetime(2026, 11, day, hour, 0, tz=TZ)


@pytest.fixture
def district(session: Session) -> dict:
    """Two schools of 东城区 and one elsewhere, with known overdue items as of MONDAY 08:00.

    demo / 高考保障 (gaokao):   a due 11-20 18:00 (3 days: 62 h), b due 11-22 18:00 (1 day: 14 h)
    demo / 开学准备 (opening):  c due 11-01 18:00 (22 days), d done late, e due 11-27 (not yet)
    second / 安全月 (safety):   f due 11-16 18:00 (7 days), g due 11-17 18:00 (6 days),
                                h due 11-18 18:00 (5 days)
    far / 其他 (other):         i due 11-01 (another district: never listed)
    """
    demo, second, far = (
        staff_school(session, "demo"),
        staff_school(session, "second"),
        staff_school(session, "far"),
    )
    demo["school"].district = second["school"].district = "东城区"
    far["school"].district = "西城区"
    second["school"].name = "第二小学"
    runs = {
        "gaokao": make_run(session, demo["school"], "gaokao_security"),
        "opening": make_run(session, demo["school"], "spring_opening"),
        "safety": make_run(session, second["school"], "safety_month"),
        "other": make_run(session, far["school"], "other_plan"),
    }
    for r, title in zip(runs.values(), ["高考保障", "开学准备", "安全月", "其他"], strict=True):
        r.template.title_zh = title
    made = {
        "a": make_item(session, runs["gaokao"], demo["li"], due=due(20), key="a"),
        "b": make_item(session, runs["gaokao"], demo["zhang"], due=due(22), key="b"),
        "c": make_item(session, runs["opening"], demo["zhang"], due=due(1), key="c"),
        "d": make_item(
            session,
            runs["opening"],
            demo["li"],
            due=due(2),
            key="d",
            status="done",
            late=True,
            completed_at=due(5),
        ),
        "e": make_item(session, runs["opening"], demo["li"], due=due(27), key="e"),
        "f": make_item(session, runs["safety"], second["li"], due=due(16), key="f"),
        "g": make_item(session, runs["safety"], second["li"], due=due(17), key="g"),
        "h": make_item(session, runs["safety"], second["zhang"], due=due(18), key="h"),
        "i": make_item(session, runs["other"], far["li"], due=due(1), key="i"),
    }
    session.flush()
    return {"items": made, "demo": demo, "second": second}


def ids(d: dict, keys: str) -> list[int]:
    return sorted(d["items"][k].id for k in keys)


def test_district_digest_lists_open_overdue_items_of_its_schools_only(session, district) -> None:
    digest = overdue.build(session, scope="district:东城区", now=MONDAY)

    assert digest.total == 6 and digest.schools == 2
    assert digest.item_ids == ids(district, "abcfgh")  # not d (done), e (not due), i (西城区)


def test_school_digest_lists_only_that_school(session, district) -> None:
    digest = overdue.build(session, scope="school:second", now=MONDAY)

    assert digest.item_ids == ids(district, "fgh")
    assert digest.scope_name == "第二小学（second）"


def test_digest_counts_by_owner_and_by_age(session, district) -> None:
    digest = overdue.build(session, scope="district:东城区", now=MONDAY)

    by_owner = {
        (o.school, o.owner): (o.count, o.total_days, o.oldest_days) for o in digest.by_owner
    }
    assert by_owner == {
        ("demo 中学", "张主任"): (2, 23, 22),  # c 22 days + b 1 day
        ("demo 中学", "李师傅"): (1, 3, 3),  # a
        ("第二小学", "李师傅"): (2, 13, 7),  # f 7 + g 6
        ("第二小学", "张主任"): (1, 5, 5),  # h
    }
    assert digest.by_age == {"le1": 1, "d2_3": 1, "d4_7": 3, "d8_30": 1, "gt30": 0}


def test_three_most_late_plans_rank_by_total_days_overdue(session, district) -> None:
    digest = overdue.build(session, scope="district:东城区", now=MONDAY)

    # 开学准备: 1 item, 22 days; 安全月: 3 items, 7 + 6 + 5 = 18 days; 高考保障: 2 items, 3 + 1
    assert [(p.plan_title, p.count, p.total_days) for p in digest.worst_plans] == [
        ("开学准备", 1, 22),
        ("安全月", 3, 18),
        ("高考保障", 2, 4),
    ]


def test_first_digest_calls_everything_new_and_a_preview_records_nothing(session, district) -> None:
    digest = overdue.build(session, scope="district:东城区", now=MONDAY)

    assert digest.previous_at is None
    assert (digest.newly_count, digest.resolved_count, digest.still_count) == (6, 0, 0)
    assert session.scalar(select(func.count()).select_from(DigestRun)) == 0


def test_changes_since_the_last_sent_digest(session, district) -> None:
    d = district
    overdue.build(session, scope="district:东城区", now=MONDAY, sent=True)
    [run] = session.scalars(select(DigestRun)).all()
    assert (run.scope, run.item_ids) == ("district:东城区", ids(d, "abcfgh"))
    # During the week: c is done, h is waived, e falls overdue.
    items.tick(session, item=d["items"]["c"], by=d["demo"]["zhang"], now=due(24, 10))
    items.waive(session, item=d["items"]["h"], by="zhang", now=due(24, 11), reason="合并检查")
    next_monday = MONDAY.add(weeks=1)

    digest = overdue.build(session, scope="district:东城区", now=next_monday, sent=True)

    assert digest.previous_at == MONDAY
    assert [ln.item_id for ln in digest.newly] == ids(d, "e")
    assert {(r.item_id, r.status) for r in digest.resolved} == {
        (d["items"]["c"].id, "done"),
        (d["items"]["h"].id, "waived"),
    }
    assert (digest.newly_count, digest.resolved_count, digest.still_count) == (1, 2, 4)
    latest = session.scalars(select(DigestRun).order_by(DigestRun.at.desc())).first()
    assert latest.at == next_monday and latest.item_ids == ids(d, "abefg")


def test_a_preview_compares_with_the_last_sent_digest_not_with_other_previews(
    session, district
) -> None:
    overdue.build(session, scope="district:东城区", now=MONDAY, sent=True)
    items.tick(session, item=district["items"]["a"], by=district["demo"]["li"], now=due(24))
    later = MONDAY.add(days=2)
    overdue.build(session, scope="district:东城区", now=later)  # a preview

    digest = overdue.build(session, scope="district:东城区", now=later)

    assert digest.previous_at == MONDAY and digest.resolved_count == 1
    assert session.scalar(select(func.count()).select_from(DigestRun)) == 1


def test_digest_of_another_scope_has_its_own_baseline(session, district) -> None:
    overdue.build(session, scope="school:second", now=MONDAY, sent=True)

    digest = overdue.build(session, scope="district:东城区", now=MONDAY.add(days=1))

    assert digest.previous_at is None and digest.newly_count == 6


def test_limit_bounds_the_lists_but_not_the_counts(session, district) -> None:
    digest = overdue.build(session, scope="district:东城区", now=MONDAY, limit=2)

    assert digest.total == 6 and digest.newly_count == 6
    assert [ln.days_overdue for ln in digest.lines] == [22, 7]  # the two most overdue
    assert len(digest.newly) == 2


def test_unknown_scope_is_refused(session) -> None:
    with pytest.raises(NotFound):
        overdue.build(session, scope="district:无此区", now=MONDAY)
    with pytest.raises(UserError):
        overdue.build(session, scope="county:x", now=MONDAY)
    with pytest.raises(UserError):
        overdue.scope_of(school="a", district="b")


def test_text_body_in_chinese_says_what_changed(session, district) -> None:
    overdue.build(session, scope="district:东城区", now=MONDAY, sent=True)
    items.tick(session, item=district["items"]["c"], by=district["demo"]["zhang"], now=due(24))
    digest = overdue.build(session, scope="district:东城区", now=MONDAY.add(weeks=1))

    subject, body = output.digest_text(digest)

    assert subject == "【后勤逾期汇总】东城区：6 项逾期未完成（新增 1，已解决 1）"
    assert "与上次汇总（2026-11-23 08:00）相比：新增逾期 1 项，已解决 1 项，仍逾期 5 项。" in body
    assert "1. 安全月 2026-2027（第二小学）：3 项，共逾期 39 天，最长 14 天" in body
    assert "  - [demo 中学] 测试事项 c，张主任，已完成（2026-11-24 18:00）" in body


def test_text_body_in_english(session, district) -> None:
    digest = overdue.build(session, scope="district:东城区", now=MONDAY)

    subject, body = output.digest_text(digest, "en")

    assert subject == "[Logistics overdue digest] 东城区: 6 items overdue (6 new, 0 resolved)"
    assert "No digest was sent before" in body
    assert "1. 开学准备 2026-2027 (demo 中学): 1 item, 22 days overdue in total" in body


def test_html_pdf_and_xlsx_show_the_digest(session, district, tmp_path: Path) -> None:
    digest = overdue.build(session, scope="district:东城区", now=MONDAY)

    page = output.html(digest)
    assert "逾期最严重的三个计划" in page and "按逾期总天数排序" in page
    pdf = output.write(digest, "pdf", tmp_path / "d.pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "逾期事项汇总：东城区" in text and "第二小学" in text and "开学准备" in text
    wb = load_workbook(output.write(digest, "xlsx", tmp_path / "d.xlsx"))
    ws = wb["逾期事项（按逾期天数）"]
    assert [c.value for c in ws[1]][6:] == ["截止日期", "逾期天数"]
    first = [c.value for c in ws[2]]
    assert first[1:3] == ["测试事项 c", "开学准备"]
    assert first[6] == datetime(2026, 11, 1) and first[7] == 22
    assert ws["A2"].fill.fgColor.rgb == "00FDE2E1" and ws.freeze_panes == "A2"


def test_digest_flow_returns_the_text_and_files_and_records_when_sent(
    database_url: str, tmp_path: Path
) -> None:
    from flows.overdue_digest import overdue_digest
    from houqin.db import make_engine, unit_of_work

    engine = make_engine(database_url)
    with unit_of_work(engine) as s:
        p = staff_school(s)
        make_item(s, make_run(s, p["school"]), p["li"], due=due(20), key="a")
    result = overdue_digest.fn(school="demo", sent=True, today=MONDAY.date(), out_dir=str(tmp_path))

    assert result["total"] == 1 and result["subject"].startswith("【后勤逾期汇总】")
    assert "测试事项 a" in result["text"] and "<html" in result["html"]
    assert Path(result["pdf_path"]).stat().st_size > 1000
    with unit_of_work(engine) as s:
        assert s.scalar(select(func.count()).select_from(DigestRun)) == 1
        assert s.scalar(select(func.count()).select_from(Item)) == 1
        assert s.scalar(select(PlanRun.template_key)) == "test_plan"
    engine.dispose()
