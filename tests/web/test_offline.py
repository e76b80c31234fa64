"""A phone in a basement: ticking off without a connection (Playwright's offline context on
Debian Chromium, with the service worker and IndexedDB of houqin/web/static)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from houqin.models import Evidence, Item
from tests.web.conftest import Live
from tests.web.images import png
from tests.web.test_browser import log_in
from tests.web.test_concurrency import audit_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
WAIT_MS = 15_000


def controlled(page: Page) -> None:
    """The service worker runs and controls the page (it claims open pages on activation)."""
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)


def photos_of(live: Live, item_id: int) -> list[Path]:
    with live.session() as s:
        rows = s.scalars(select(Evidence).where(Evidence.item_id == item_id, Evidence.kind == "photo"))
        return [live.settings.data_dir / e.path for e in rows if e.path]


def status_of(live: Live, item_id: int) -> str:
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item.status


def test_a_tick_made_offline_survives_a_reload_and_is_recorded_once_when_back_online(
    page: Page, context: BrowserContext, live: Live
) -> None:
    item_id = live.world.items["beautify_campus"]  # li's, evidence: a photo
    log_in(page, live, "li")
    expect(page.locator("h1")).to_have_text("我的事项")
    controlled(page)
    page.goto(f"{live.url}/items/{item_id}")  # opened once online: kept on the phone

    context.set_offline(True)
    page.set_input_files(
        "#photos", files=[{"name": "gate.png", "mimeType": "image/png", "buffer": png(200, 150)}]
    )
    page.fill("#note", "花坛已修整")
    page.click("text=标记为已完成")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    expect(page.locator(".queued")).to_contain_text("待同步")

    page.reload()  # still offline: the kept copy, saying so and since when
    expect(page.locator("#offline-copy")).to_contain_text("上次更新于")
    expect(page.locator("h1")).to_contain_text("美化校园")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    assert status_of(live, item_id) == "open"

    context.set_offline(False)
    expect(page.locator("#sync .synced")).to_contain_text("已同步 1 项", timeout=WAIT_MS)
    expect(page.locator("#sync .pending-count")).to_have_count(0)
    assert status_of(live, item_id) == "done"
    assert audit_of(live, item_id).count(("item.tick", "li")) == 1
    [photo] = photos_of(live, item_id)
    assert photo.is_file() and photo.read_bytes().startswith(b"\x89PNG")
