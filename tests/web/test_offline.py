"""A phone in a basement: ticking off without a connection (Playwright's offline context on
Debian Chromium, with the service worker and IndexedDB of houqin/web/static)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from houqin.items import tick, waive
from houqin.links import make_token
from houqin.models import Evidence, Item, Person
from tests.factories import NOW
from tests.web.conftest import Live
from tests.web.images import png
from tests.web.test_browser import log_in
from tests.web.test_concurrency import audit_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
WAIT_MS = 15_000


def controlled(page: Page) -> None:
    """The service worker runs and controls the page (it claims open pages on activation).

    Polled with ``evaluate``: ``wait_for_function`` evaluates strings, which the CSP refuses.
    A page that was still loading when the worker activated may miss the claim: reloaded once."""
    page.wait_for_load_state()
    ready = page.evaluate(
        """() => Promise.race([navigator.serviceWorker.ready.then(() => "ready"),
                 new Promise((done) => setTimeout(() => done("not ready"), 20000))])"""
    )
    assert ready == "ready", "the service worker did not install"
    deadline = time.monotonic() + WAIT_MS / 1000
    reloaded = False
    while not page.evaluate("navigator.serviceWorker.controller !== null"):
        assert time.monotonic() < deadline, "the service worker never took control"
        if not reloaded and time.monotonic() > deadline - WAIT_MS / 2000:
            page.reload()
            reloaded = True
        page.wait_for_timeout(100)


def photos_of(live: Live, item_id: int) -> list[Path]:
    with live.session() as s:
        rows = s.scalars(
            select(Evidence).where(Evidence.item_id == item_id, Evidence.kind == "photo")
        )
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
    expect(page.locator("text=标记为已完成")).to_be_disabled()  # one tap, one entry

    page.reload()  # still offline: the kept copy, saying so and since when
    expect(page.locator("#offline-copy")).to_contain_text("上次更新于")
    expect(page.locator("h1")).to_contain_text("美化校园")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    expect(page.locator("text=标记为已完成")).to_be_disabled()
    assert status_of(live, item_id) == "open"

    context.set_offline(False)
    expect(page.locator("#sync .synced")).to_contain_text("已同步 1 项", timeout=WAIT_MS)
    expect(page.locator("#sync .pending-count")).to_have_count(0)
    assert status_of(live, item_id) == "done"
    assert audit_of(live, item_id).count(("item.tick", "li")) == 1
    [photo] = photos_of(live, item_id)
    assert photo.is_file() and photo.read_bytes().startswith(b"\x89PNG")


def test_an_item_completed_by_someone_else_while_offline_shows_the_conflict_and_keeps_the_photo(
    page: Page, context: BrowserContext, live: Live
) -> None:
    item_id = live.world.items["beautify_campus"]
    log_in(page, live, "li")
    controlled(page)
    page.goto(f"{live.url}/items/{item_id}")
    context.set_offline(True)
    page.set_input_files(
        "#photos", files=[{"name": "gate.png", "mimeType": "image/png", "buffer": png(200, 150)}]
    )
    page.click("text=标记为已完成")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    with live.session() as s, s.begin():  # meanwhile, the head completes it
        item, zhang = s.get(Item, item_id), s.get(Person, live.world.people["zhang"])
        assert item is not None and zhang is not None
        tick(s, item=item, by=zhang, now=NOW, photos=["photos/demo/head.png"])

    context.set_offline(False)
    conflict = page.locator("#sync .conflict")
    expect(conflict).to_contain_text("已由张主任于", timeout=WAIT_MS)
    expect(conflict).to_contain_text("已附在此事项上")
    assert audit_of(live, item_id)[-1] == ("item.handover", "li")
    assert len(photos_of(live, item_id)) == 2  # the head's and li's, kept
    page.reload()  # nothing dropped silently: it stays until read
    expect(page.locator("#sync .conflict")).to_contain_text("张主任", timeout=WAIT_MS)
    page.click("#sync .conflict button")
    expect(page.locator("#sync .conflict")).to_have_count(0)


def test_logging_out_clears_what_the_phone_kept_and_the_next_person_never_sees_it(
    page: Page, context: BrowserContext, live: Live
) -> None:
    item_id = live.world.items["beautify_campus"]
    li = f"p{live.world.people['li']}"
    log_in(page, live, "li")
    controlled(page)
    page.goto(f"{live.url}/items/{item_id}")
    context.set_offline(True)
    page.fill("#note", "大门已检查")
    page.set_input_files(
        "#photos", files=[{"name": "gate.png", "mimeType": "image/png", "buffer": png(80, 60)}]
    )
    page.click("text=标记为已完成")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    with live.session() as s, s.begin():  # waived meanwhile: the entry stays as a conflict
        item = s.get(Item, item_id)
        assert item is not None
        waive(s, item=item, by="zhang", now=NOW, reason="本学期取消")
    context.set_offline(False)
    expect(page.locator("#sync .conflict")).to_contain_text("本学期取消", timeout=WAIT_MS)
    kept = (
        "async (p) => [(await HouqinQueue.list(p)).length,"
        " await caches.has(HouqinQueue.pagesCache(p))]"
    )
    assert page.evaluate(kept, li) == [1, True]

    page.click("text=退出")
    expect(page.locator("#username")).to_be_visible(timeout=WAIT_MS)
    assert page.evaluate(kept, li) == [0, False]

    log_in(page, live, "zheng")
    expect(page.locator("h1")).to_have_text("我的事项")
    context.set_offline(True)
    page.goto(f"{live.url}/items/{item_id}")  # li's page, kept before: not for zheng
    expect(page.locator("#offline-copy")).to_contain_text("还没有在这台手机上保存过")
    expect(page.locator("body")).not_to_contain_text("美化校园")
    expect(page.locator("#sync")).to_be_hidden()
    context.set_offline(False)


class LostReply:
    """Between the phone and the app: the app does the work, the phone gets 502 (the reply was
    lost on the way back, as when the signal drops right after sending)."""

    def __init__(self, app: Any) -> None:
        self.app, self.lost = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/sync/items/"):
            await self.app(scope, receive, send)
            return

        async def swallow(message: Any) -> None:
            return None

        await self.app(scope, receive, swallow)
        self.lost += 1
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b"bad gateway"})


def test_a_retry_after_a_lost_reply_is_recorded_once(page: Page, live: Live) -> None:
    item_id = live.world.items["beautify_campus"]
    log_in(page, live, "li")
    controlled(page)
    page.goto(f"{live.url}/items/{item_id}")
    lossy = LostReply(live.app)
    live.switch.app = lossy  # type: ignore[assignment]
    page.set_input_files(
        "#photos", files=[{"name": "gate.png", "mimeType": "image/png", "buffer": png(200, 150)}]
    )
    page.click("text=标记为已完成")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    # done, but the phone cannot know (the page and Background Sync may each have tried)
    assert lossy.lost >= 1 and status_of(live, item_id) == "done"

    live.switch.app = live.app
    page.reload()  # opening the app sends what waits
    expect(page.locator("#sync .synced")).to_contain_text("已同步 1 项", timeout=WAIT_MS)
    assert audit_of(live, item_id).count(("item.tick", "li")) == 1
    assert len(photos_of(live, item_id)) == 1


def big_camera_photo() -> bytes:
    """About 12 MB of JPEG, as a phone camera takes (noise does not compress)."""
    image = Image.frombytes("RGB", (4000, 3000), os.urandom(4000 * 3000 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_a_reminder_link_tick_with_a_12_mb_photo_made_offline_is_resized_and_recorded(
    page: Page, context: BrowserContext, live: Live
) -> None:
    item_id = live.world.items["beautify_campus"]
    token = make_token(live.settings, item_id=item_id, person_id=live.world.people["li"], now=NOW)
    page.goto(f"{live.url}/l/{token}")  # no password
    controlled(page)
    page.reload()  # now through the worker, so the link page is kept
    context.set_offline(True)
    photo = big_camera_photo()
    assert len(photo) > 10 * 2**20
    page.set_input_files(
        "#photos", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    page.click("text=确认完成")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    page.reload()
    expect(page.locator("#offline-copy")).to_contain_text("上次更新于")
    context.set_offline(False)
    expect(page.locator("#sync .synced")).to_contain_text("已同步 1 项", timeout=WAIT_MS)
    assert status_of(live, item_id) == "done"
    [stored] = photos_of(live, item_id)
    with Image.open(stored) as image:
        assert max(image.size) == 2048
    assert stored.stat().st_size < 8 * 2**20


SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.skipif(
    os.environ.get("HOUQIN_SCREENSHOTS") != "1", reason="set HOUQIN_SCREENSHOTS=1 to write them"
)
def test_screenshots_of_the_offline_states(page: Page, context: BrowserContext, live: Live) -> None:
    """docs/web.md's phone screenshots: queued, the kept copy offline, synced, a conflict."""
    w = live.world
    log_in(page, live, "li")
    controlled(page)
    page.goto(f"{live.url}/items/{w.items['beautify_campus']}")
    page.goto(f"{live.url}/items/{w.items['repair_training']}")
    context.set_offline(True)
    page.fill("#note", "已培训 12 人")
    page.click("text=标记为已完成")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    page.screenshot(path=str(SHOTS / "offline-queued-phone.png"))
    page.goto(f"{live.url}/items/{w.items['beautify_campus']}")
    page.set_input_files(
        "#photos", files=[{"name": "gate.png", "mimeType": "image/png", "buffer": png(200, 150)}]
    )
    page.click("text=标记为已完成")
    page.reload()
    expect(page.locator("#sync .pending-count")).to_have_text("2", timeout=WAIT_MS)
    page.screenshot(path=str(SHOTS / "offline-copy-phone.png"))
    with live.session() as s, s.begin():
        item, zhang = s.get(Item, w.items["beautify_campus"]), s.get(Person, w.people["zhang"])
        assert item is not None and zhang is not None
        tick(s, item=item, by=zhang, now=NOW, photos=["photos/demo/head.png"])
    context.set_offline(False)
    expect(page.locator("#sync .conflict")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#sync .synced")).to_contain_text("已同步 1 项")
    page.screenshot(path=str(SHOTS / "offline-synced-conflict-phone.png"))


def test_a_sub_step_ticked_offline_shows_ticked_after_a_reload_and_is_recorded_online(
    page: Page, context: BrowserContext, live: Live
) -> None:
    item_id = live.world.items["canteen_experience_day"]  # zheng's, with sub-steps
    log_in(page, live, "zheng")
    controlled(page)
    page.goto(f"{live.url}/items/{item_id}")
    context.set_offline(True)
    page.click("#step-1 button")
    expect(page.locator("#step-1 button")).to_have_text("✓", timeout=WAIT_MS)
    page.reload()
    expect(page.locator("#offline-copy")).to_be_visible()
    expect(page.locator("#step-1 button")).to_have_text("✓", timeout=WAIT_MS)
    expect(page.locator("#sync .pending-count")).to_have_text("1")
    context.set_offline(False)
    expect(page.locator("#sync .synced")).to_contain_text("已同步 1 项", timeout=WAIT_MS)
    expect(page.locator("#offline-copy")).to_have_count(0)  # the page as it is now
    expect(page.locator("#step-1 button")).to_have_text("✓")
    assert audit_of(live, item_id).count(("step.tick", "zheng")) == 1


def test_logging_out_offline_still_deletes_what_the_phone_kept(
    page: Page, context: BrowserContext, live: Live
) -> None:
    log_in(page, live, "li")
    controlled(page)
    page.goto(f"{live.url}/items/{live.world.items['repair_training']}")
    context.set_offline(True)
    page.fill("#note", "已培训")
    page.click("text=标记为已完成")
    expect(page.locator("#sync .pending-count")).to_have_text("1", timeout=WAIT_MS)
    page.once("dialog", lambda dialog: dialog.accept())  # "1 not synced yet: log out anyway?"
    page.click("text=退出")
    expect(page.locator("#offline-copy")).to_contain_text("联网后请再点一次", timeout=WAIT_MS)
    left = page.evaluate(
        """async () => {
             const pages = (await caches.keys()).filter((k) => k.startsWith("houqin-pages"));
             const db = await new Promise((ok) => {
               const r = indexedDB.open("houqin", 1); r.onsuccess = () => ok(r.result); });
             const queued = await new Promise((ok) => {
               const r = db.transaction("queue").objectStore("queue").count();
               r.onsuccess = () => ok(r.result); });
             return [pages, queued]; }"""
    )
    assert left == [[], 0]
    context.set_offline(False)


def test_a_form_refused_online_as_filled_in_shows_the_servers_answer_and_keeps_nothing(
    page: Page, live: Live
) -> None:
    item_id = live.world.items["beautify_campus"]
    log_in(page, live, "li")
    controlled(page)
    page.goto(f"{live.url}/items/{item_id}")
    not_a_photo = {"name": "notes.txt", "mimeType": "image/png", "buffer": b"just text"}
    page.set_input_files("#photos", files=[not_a_photo])
    page.click("text=标记为已完成")
    expect(page.locator("[role=alert]")).to_contain_text("不是照片", timeout=WAIT_MS)
    assert (
        page.evaluate(
            "async (p) => (await HouqinQueue.list(p)).length", f"p{live.world.people['li']}"
        )
        == 0
    )
    assert status_of(live, item_id) == "open"
