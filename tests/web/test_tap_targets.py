"""On a phone (390×844), every tap target of the staff and reminder-link pages is at least
44×44 px, measured in Chromium; and each status has one colour wherever it is shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from houqin.links import make_token
from houqin.models import Item
from tests.factories import NOW
from tests.web.conftest import Live
from tests.web.test_browser import log_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MIN = 44
TARGETS = "a, button, select, textarea, input:not([type=hidden]), label.check, [role=button]"


@pytest.fixture
def seed_history() -> bool:
    return True  # some items done late, so 逾期完成 is on the pages


def too_small(page: Page) -> list[str]:
    """The visible tap targets smaller than 44×44, as 'tag text: w×h'."""
    assert page.locator(TARGETS).count() >= 2  # something was measured
    found: list[str] = page.eval_on_selector_all(
        TARGETS,
        """(els, min) => els.filter(e => {
             const r = e.getBoundingClientRect();
             const style = getComputedStyle(e);
             if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') return false;
             return r.width < min - 0.5 || r.height < min - 0.5;
           }).map(e => {
             const r = e.getBoundingClientRect();
             return `${e.tagName.toLowerCase()} "${(e.innerText || e.value || e.name || '')
               .trim().slice(0, 20)}": ${Math.round(r.width)}×${Math.round(r.height)}`;
           })""",
        MIN,
    )
    return found


def test_every_tap_target_on_phone_pages_is_at_least_44_px(page: Page, live: Live) -> None:
    li, chen = live.world.people["li"], live.world.people["chen"]
    items = live.world.items
    owner_link = make_token(live.settings, item_id=items["repair_training"], person_id=li, now=NOW)
    follow_up = make_token(live.settings, item_id=items["repair_training"], person_id=chen, now=NOW)
    head_link = make_token(
        live.settings,
        item_id=items["repair_training"],
        person_id=live.world.people["zhang"],
        now=NOW,
    )
    steps_item = items["publicity_coverage"]
    with live.session() as s:
        steps_owner = s.scalar(select(Item.owner_id).where(Item.id == steps_item))
    assert steps_owner is not None
    steps_link = make_token(live.settings, item_id=steps_item, person_id=steps_owner, now=NOW)
    measured: dict[str, list[str]] = {}
    for path in (f"/l/{owner_link}", f"/l/{follow_up}", f"/l/{head_link}", f"/l/{steps_link}"):
        page.goto(live.url + path)
        measured[path] = too_small(page)
        if path.endswith(steps_link):
            assert page.locator("input[name=steps]").count() == 5
    log_in(page, live, "zhang")
    for path in ("/my", f"/items/{steps_item}", f"/items/{items['leadership_group']}", "/people"):
        page.goto(live.url + path)
        measured[path] = too_small(page)
    page.context.clear_cookies()
    log_in(page, live, "li")
    for path in ("/my", f"/items/{items['repair_training']}", "/calendar"):
        page.goto(live.url + path)
        measured["li " + path] = too_small(page)
    page.context.clear_cookies()
    log_in(page, live, "wang")
    page.goto(live.url + "/review")
    measured["wang /review"] = too_small(page)
    assert {path: small for path, small in measured.items() if small} == {}


def test_done_late_has_one_colour_in_lists_cards_and_the_item_page(page: Page, live: Live) -> None:
    log_in(page, live, "zhang")
    colours: dict[str, set[str]] = {}
    with live.session() as s:
        late_item = s.scalar(select(Item.id).where(Item.late.is_(True)).order_by(Item.id))
    assert late_item is not None
    for path in ("/my", f"/runs/{live.world.run_id}", f"/items/{late_item}"):
        page.goto(live.url + path)
        found = page.eval_on_selector_all(
            ".chip",
            """els => els.filter(e => e.innerText.includes('逾期完成'))
                         .map(e => getComputedStyle(e).backgroundColor)""",
        )
        colours[path] = set(found)
    seen = set().union(*colours.values())
    assert all(colours.values()), colours  # 逾期完成 is shown on each page
    assert len(seen) == 1, colours
    page.goto(f"{live.url}/runs/{live.world.run_id}")
    overdue = set(
        page.eval_on_selector_all(
            ".chip.overdue", "els => els.map(e => getComputedStyle(e).backgroundColor)"
        )
    )
    assert overdue and not (overdue & seen)  # and not the colour of 已逾期
