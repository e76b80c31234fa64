"""The logistics head pastes the State Council notice, previews it and confirms: deadlines follow.

Chromium (Debian's, headless, through Playwright) on a desktop; the permission checks by HTTP.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from calendars import DEFAULT_DIR, load_book
from calendars.entry import apply_notice
from calendars.notice import parse_notice
from houqin.launch import launch
from houqin.models import AuditEvent, Item, RoleBinding, School
from houqin.plan_templates import load_builtin_templates
from tests.factories import NOW
from tests.test_calendar_entry import NOTICE_2027
from tests.web.conftest import DESKTOP, Live, logged_in
from tests.web.seed import PASSWORD

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def gaokao(live: Live, tmp_path: Path) -> tuple[Path, int]:
    """gaokao_security launched for the demo school from a copy of the calendars the app reads."""
    directory = tmp_path / "calendars"
    directory.mkdir()
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    live.reconfigure(calendar_dir=directory)
    with live.session() as s, s.begin():
        school = s.get(School, live.world.school_id)
        assert school is not None
        s.add(
            RoleBinding(
                school_id=school.id, role_key="exam_patrol", person_id=live.world.people["zhang"]
            )
        )
        s.flush()
        run = launch(
            s,
            template=load_builtin_templates()["gaokao_security"],
            school=school,
            period="2026-2027",
            book=load_book(directory),
            by="zhang",
            now=NOW,
        ).run
        return directory, run.id


def test_head_pastes_the_notice_previews_days_and_moves_then_confirms(
    browser: Browser, live: Live, gaokao: tuple[Path, int]
) -> None:
    directory, run_id = gaokao
    with live.session() as s:
        open_items = s.scalar(
            select(func.count()).where(Item.run_id == run_id, Item.due_provisional.is_(True))
        )
    assert open_items == 44
    before = (directory / "2026-2027.yaml").read_text(encoding="utf-8")

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = desk.new_page()
    page.goto(f"{live.url}/login")
    page.fill("#username", "zhang")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=校历调整")
    expect(page.locator("h1")).to_contain_text("截止日期调整")
    page.fill("#notice", NOTICE_2027)
    page.click("text=预览")

    expect(page.locator("h1")).to_have_text("2027 年放假安排")
    expect(page.locator("#holidays")).to_contain_text("2027-02-05 – 2027-02-12")
    expect(page.locator("#holidays")).to_contain_text("2027-01-31、2027-02-20")
    expect(page.locator("#changes")).to_contain_text("2027-02-20 周六：放假 → 上班（春节调休上班）")
    moves = page.locator("#moves tbody tr")
    expect(moves).to_have_count(44)
    expect(page.locator("#moves")).to_contain_text("holiday_arrangements.2027.status")
    assert (directory / "2026-2027.yaml").read_text(encoding="utf-8") == before  # preview only

    page.click("text=确认录入")
    expect(page.locator("[role=status]").first).to_contain_text("已录入 2027 年放假安排")
    expect(page.locator("[role=status]").first).to_contain_text("44 项事项已重新计划")
    expect(page.locator("#moved tbody tr")).to_have_count(44)
    page.locator("#moved tbody tr a").first.click()
    history = page.locator(".history")
    expect(history).to_contain_text("按校历调整了截止日期")
    expect(history).to_contain_text("holiday_arrangements.2027.status: provisional → official")
    desk.close()

    held = load_book(directory).arrangement(2027)
    assert held is not None and held.status == "official" and "国办发明电〔2026〕9号" in held.source
    with live.session() as s:
        assert not s.scalar(
            select(func.count()).where(Item.run_id == run_id, Item.due_provisional.is_(True))
        )
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "item.replanned")).all()
        assert len(events) == 44 and {e.actor for e in events} == {"zhang"}


def test_a_notice_entered_by_another_process_is_seen_by_the_running_web_ui_at_once(
    live: Live, gaokao: tuple[Path, int]
) -> None:
    """Another worker, or `houqin calendar notice` at the terminal, writes the calendar file:
    this process's next page reads it, without a restart."""
    directory, _ = gaokao
    warning = "本校有 44 项未完成事项的截止日期需要调整"
    with logged_in(live, "zhang") as client:
        assert warning not in client.get("/replan").text  # the calendars read, nothing to move

        apply_notice(load_book(directory), parse_notice(NOTICE_2027))  # as the other process

        assert warning in client.get("/replan").text


def test_a_calendar_file_broken_on_disk_is_named_on_the_page_until_mended(
    live: Live, gaokao: tuple[Path, int]
) -> None:
    directory, _ = gaokao
    path = directory / "2026-2027.yaml"
    good = path.read_text(encoding="utf-8")
    with logged_in(live, "zhang") as client:
        assert client.get("/replan").status_code == 200  # the calendars read and kept
        path.write_text(good.replace("end: 2027-06-09}", "end: 2027-06-31}", 1), encoding="utf-8")
        broken = client.get("/replan")
        path.write_text(good, encoding="utf-8")
        mended = client.get("/replan")
    assert broken.status_code == 400
    assert "校历文件有误" in broken.text
    assert "2026-2027.yaml:37: exams.gaokao.end: 2027-06-31 is not a valid date" in broken.text
    assert mended.status_code == 200


def test_the_head_sees_the_items_a_longer_exam_will_add(
    live: Live, gaokao: tuple[Path, int]
) -> None:
    directory, _ = gaokao
    path = directory / "2026-2027.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("end: 2027-06-09}", "end: 2027-06-10}", 1), encoding="utf-8"
    )  # 高考 a day longer
    with logged_in(live, "zhang") as client:
        page = client.get("/replan").text
    assert "本校有 9 项新的事项（如考试多了一天的值守）尚未添加：下一次定时巡检会自动添加" in page


def test_only_the_logistics_head_sees_or_posts_it_and_never_without_csrf(
    live: Live, gaokao: tuple[Path, int]
) -> None:
    directory, _ = gaokao
    before = (directory / "2026-2027.yaml").read_bytes()
    with logged_in(live, "li") as staff:
        assert staff.get("/replan").status_code == 403
        assert staff.post("/replan/notice", data={"notice": NOTICE_2027}).status_code == 403
    with logged_in(live, "zhang") as head:
        refused = head.post("/replan/notice/confirm", data={"notice": NOTICE_2027})
        assert refused.status_code == 403
        page = head.get("/replan")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        bad = head.post("/replan/notice", data={"notice": "不是通知", "csrf": token})
        assert bad.status_code == 400 and "无法识别这份通知" in bad.text
    assert (directory / "2026-2027.yaml").read_bytes() == before
