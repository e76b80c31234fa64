"""What a person does in a browser: Debian's Chromium, headless, through Playwright.

Few and whole: each test is a real errand on a phone (390x844) or a desktop (1280x800).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from houqin.links import make_token
from houqin.models import AuditEvent, Evidence, Item
from tests.factories import NOW
from tests.web.conftest import DESKTOP, Live
from tests.web.images import png
from tests.web.seed import PASSWORD

# one backend is enough to drive the browser; the ledger behaviour runs on both elsewhere
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def log_in(page: Page, live: Live, username: str) -> None:
    page.goto(f"{live.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def item_state(live: Live, item_id: int) -> tuple[str, int, int]:
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        events = s.scalar(select(func.count()).where(AuditEvent.item_id == item_id))
        return item.status, item.revision, events or 0


def test_staff_ticks_an_item_with_a_photo_on_a_phone_and_the_head_sees_it_done_on_the_board(
    page: Page, browser: Browser, live: Live
) -> None:
    item_id = live.world.items["beautify_campus"]  # 美化校园, li's, evidence: photo
    log_in(page, live, "li")
    expect(page.locator("h1")).to_have_text("我的事项")
    expect(page.locator("#overdue")).to_contain_text("爱心缝补活动（第一次）")
    page.click(f"a[href='/items/{item_id}']")
    expect(page.locator("h1")).to_contain_text("美化校园")
    page.set_input_files(
        "#photos", files=[{"name": "campus.png", "mimeType": "image/png", "buffer": png(200, 150)}]
    )
    page.fill("#note", "花坛已修整")
    page.click("text=标记为已完成")
    expect(page.locator("[role=status]")).to_contain_text("已完成")
    thumb = page.locator(".photos img").first
    expect(thumb).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    head = desk.new_page()
    log_in(head, live, "zhang")
    head.goto(f"{live.url}/runs/{live.world.run_id}")
    row = head.locator(f"#item-{item_id}")
    expect(row).to_have_attribute("data-status", "done")
    expect(row).to_contain_text("已完成")
    desk.close()
    with live.session() as s:
        assert (
            s.scalar(
                select(func.count()).where(Evidence.item_id == item_id, Evidence.kind == "photo")
            )
            == 1
        )


def test_reminder_link_opens_the_item_and_ticks_it_without_a_password(
    page: Page, live: Live
) -> None:
    item_id = live.world.items["repair_training"]  # 水电维修理论培训, li's, evidence: a note
    token = make_token(live.settings, item_id=item_id, person_id=live.world.people["li"], now=NOW)
    page.goto(f"{live.url}/l/{token}")
    expect(page.locator("h1")).to_contain_text("水电维修理论培训")
    page.fill("#note", "已培训 12 人")
    page.click("text=确认完成")
    expect(page.locator("[role=status]")).to_contain_text("已完成")
    assert item_state(live, item_id)[0] == "done"

    # opened again (the reply lost on the way, say): what was recorded, not an error
    again = page.goto(f"{live.url}/l/{token}")
    assert again is not None and again.status == 200
    record = page.locator("#record .record-line")
    expect(record).to_contain_text("已完成：11-23 09:00，李师傅 提交")
    expect(page.locator("#record")).to_contain_text("已培训 12 人")
    expect(page.locator("a[href='/login'], a[href='/']")).to_have_count(0)


def test_staff_cannot_open_another_schools_or_another_persons_item_by_editing_the_url(
    page: Page, live: Live
) -> None:
    log_in(page, live, "li")
    expect(page.locator("h1")).to_have_text("我的事项")
    # an item of another school, and one of zheng's
    for other in (live.world.other_item_id, live.world.items["cooking_contest"]):
        before = item_state(live, other)
        response = page.goto(f"{live.url}/items/{other}")
        assert response is not None and response.status == 403
        expect(page.locator("[role=alert]")).to_contain_text("没有权限")
        # and the tick form of the page the URL pretends to be: refused too
        status = page.evaluate(
            """async ([id, token]) => {
                 const body = new FormData(); body.append("csrf", token); body.append("note", "x");
                 const r = await fetch(`/items/${id}/tick`, {method: "POST", body});
                 return r.status; }""",
            [other, page.locator("input[name=csrf]").first.get_attribute("value")],
        )
        assert status == 403
        assert item_state(live, other) == before
