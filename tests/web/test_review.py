"""Leadership's overdue review: by owner, plan, phase and age, a completion chart, history."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from houqin.items import tick
from houqin.reports import overdue
from houqin.reports.lateness import BUCKET_LABELS, days_late
from houqin.reports.overdue import completion_series
from houqin.web import review
from houqin.web.chart import Series, line_chart
from tests.factories import NOW, make_item, make_person, make_run, make_school
from tests.web.conftest import Live, logged_in


def test_the_review_groups_overdue_items_by_owner_plan_phase_and_age(live: Live) -> None:
    with logged_in(live, "wang") as client:
        page = client.get("/review").text
    # on 2026-11-23 09:00, 16 items of the plan are past due (3 of them the Saturdays of the
    # canteen experience day, 11-07, 11-14, 11-21) and none is done
    assert "当前逾期未完成：<strong>16</strong>" in page
    for heading in ("按负责人", "按计划", "按阶段", "按逾期时长"):
        assert heading in page
    assert "李师傅" in page and "郑师傅" in page
    assert "外校的事项" not in page  # leadership sees its own school only
    assert page.count("<polyline") == 2  # the chart: due and done over time


def test_a_long_tally_lists_the_owners_with_most_overdue_items_and_counts_the_rest(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "GROUP_LIMIT", 1)
    with logged_in(live, "wang") as client:
        page = client.get("/review").text
    tally = page[page.index("按负责人") : page.index("按计划")]
    owners = re.findall(r"<tr><td><a class=\"tally\" href=\"[^\"]+\">([^<]+)</a></td>", tally)
    assert len(owners) == 1  # the one with most overdue items; the others are counted
    assert re.search(r"另有 [1-9]\d* 个，未列出", tally)


def test_a_district_account_filters_by_school(live: Live) -> None:
    with logged_in(live, "district") as client:
        everything = client.get("/review").text
        other = client.get("/review?school=other").text
        assert client.get("/review?school=nowhere").status_code == 403
    assert "按学校" in everything and "示范中学" in everything
    assert "当前逾期未完成：<strong>0</strong>" in other  # the other school's item is not due yet


def test_an_items_history_shows_who_did_what_and_when(live: Live) -> None:
    item_id = live.world.items["canteen_experience_day"]
    with logged_in(live, "zheng") as client:
        from tests.web.conftest import form_token

        token = form_token(client, f"/items/{item_id}")
        client.post(f"/items/{item_id}/steps/1", data={"csrf": token, "done": "1"})
    with logged_in(live, "wang") as client:
        page = client.get(f"/items/{item_id}").text
    history = page.split("记录")[-1]
    assert "郑师傅" in history and "勾选步骤" in history and "2026-11-23(周一) 09:00" in history
    assert "标记为已完成" not in page  # leadership reads, does not tick


def test_completion_over_time_counts_items_due_and_done_per_day(session: Session) -> None:
    school = make_school(session)
    li = make_person(session, school, "li")
    run = make_run(session, school)
    a = make_item(session, run, li, due=NOW - timedelta(days=3), key="a")
    make_item(session, run, li, due=NOW - timedelta(days=1), key="b")
    make_item(session, run, li, due=NOW + timedelta(days=3), key="future")
    tick(session, item=a, by=li, now=NOW - timedelta(days=2))
    days, due, done = completion_series(session, [school.id], NOW, "Asia/Shanghai", days=5)
    assert days == [date(2026, 11, 19) + timedelta(days=i) for i in range(5)]
    assert due == [0, 1, 1, 2, 2]  # due 11-20 and 11-22; the future one is not counted yet
    assert done == [0, 0, 1, 1, 1]


def test_the_review_counts_ages_as_the_digest_does_at_every_boundary(session: Session) -> None:
    """One rule for "how late" (reports/lateness.py): started days, so exactly 24 hours is
    "≤1天" and 25 hours "2–3天", in the review's tally, its filters, its list and the digest."""
    school = make_school(session, "ages")
    li = make_person(session, school, "li")
    run = make_run(session, school)
    hours = [2, 24, 25, 72, 73, 168, 169, 720, 721]
    items = {
        h: make_item(session, run, li, due=NOW - timedelta(hours=h), key=f"h{h}") for h in hours
    }
    digest = overdue.build(session, scope="school:ages", now=NOW)
    groups, values = overdue.overdue_groups(
        session, [school.id], NOW, "zh-CN", several_schools=False
    )

    expected = {"≤1天": 2, "2–3天": 2, "4–7天": 2, "8–30天": 2, ">30天": 1}
    assert dict(groups["age"]) == expected
    assert {BUCKET_LABELS[k].zh: n for k, n in digest.by_age.items() if n} == expected
    listed = {}
    for label, value in values["age"].items():
        only = overdue.ReviewFilter(age=int(value))
        rows = overdue.oldest_overdue(session, [school.id], NOW, 50, only)
        listed[label] = sorted(days_late(i.due_at, NOW) for i in rows)
    assert listed == {
        "≤1天": [1, 1],
        "2–3天": [2, 3],
        "4–7天": [4, 7],
        "8–30天": [8, 30],
        ">30天": [31],
    }
    assert sorted(line.days_overdue for line in digest.lines) == [
        days_late(items[h].due_at, NOW) for h in hours
    ]


def test_the_chart_is_plain_svg_with_escaped_labels() -> None:
    svg = str(
        line_chart(
            [date(2026, 11, 1), date(2026, 11, 2)],
            [Series("<已完成>", [0, 3], "#1e7e34")],
            title="完成 & 逾期",
        )
    )
    assert svg.startswith("<svg") and "<script" not in svg
    assert "&lt;已完成&gt;" in svg and "完成 &amp; 逾期" in svg
    assert 'font-family="Noto Sans CJK SC' in svg


def test_each_tally_row_lists_just_its_items_and_the_list_filters_by_plan_phase_owner_age(
    live: Live,
) -> None:
    with logged_in(live, "wang") as client:
        page = client.get("/review").text
        links = dict(
            re.findall(r'<a class="tally" href="(/review\?[^"#]+)#list">([^<]+)</a>', page)
        )
        assert any("owner=" in h for h in links) and any("plan=" in h for h in links)
        assert any("phase=" in h for h in links) and any("age=" in h for h in links)
        total = int(re.search(r"当前逾期未完成：<strong>(\d+)</strong>", page)[1])  # type: ignore[index]
        for href, name in links.items():
            filtered = client.get(href.replace("&amp;", "&")).text
            shown = int(re.search(r"已筛选：(\d+) 项", filtered)[1])  # type: ignore[index]
            assert 0 < shown <= total, (href, name)
            rows = re.findall(r'<tr><td><a href="/items/\d+">', filtered.split('id="list"')[1])
            assert len(rows) == shown, (href, name)
        # the form's filters: the same address as a tally row
        form = client.get("/review?owner=&plan=&phase=&age=0").text
        assert "已筛选" in form
