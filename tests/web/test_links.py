"""Reminder links as their recipients use them: the owner ticks off (sub-steps start unticked,
one completion rule), a used link shows its record, and a 督办 link opens the item for the
supervisor, leader or head it was escalated to, with what each may do there."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import select

from houqin import clock
from houqin.demo import photo_png
from houqin.digests import compose, lines_for
from houqin.items import NUDGE
from houqin.links import make_token
from houqin.models import Delivery, Item, Outbox, Person, School
from houqin.web.deps import get_now
from houqin.web.uploads import sniff
from tests.factories import NOW
from tests.web.conftest import Live, form_token
from tests.web.images import png
from tests.web.test_bad_input import link, post_link, snapshot


def _owner_of(live: Live, key: str) -> str:
    with live.session() as s:
        item = s.get(Item, live.world.items[key])
        assert item is not None
        owner = s.get(Person, item.owner_id)
        assert owner is not None
        return owner.code


def test_the_link_form_starts_with_sub_steps_unticked_and_needs_each_one_ticked(
    live: Live,
) -> None:
    key = "publicity_coverage"  # a note and five sub-steps
    token = link(live, key, person=_owner_of(live, key))
    with live.client() as client:
        page = client.get(f"/l/{token}").text
    assert page.count('name="steps"') == 5 and " checked" not in page
    before = snapshot(live, live.world.items[key])

    status, text = post_link(live, token, note="已在校园网报道", steps="1")
    assert status == 400
    assert "请先勾选步骤 2、3、4、5" in text and 'id="problem-steps"' in text
    assert "已在校园网报道</textarea>" in text  # what was typed is still there
    assert snapshot(live, live.world.items[key]) == before  # nothing written, link unused

    with live.client() as client:
        client.get(f"/l/{token}")
        csrf = form_token(client, "/login")
        done = client.post(
            f"/l/{token}",
            data={"csrf": csrf, "note": "已在校园网报道", "steps": ["1", "2", "3", "4", "5"]},
        )
    assert done.status_code == 200 and "已完成，已记录" in done.text
    with live.session() as s:
        item = s.get(Item, live.world.items[key])
        assert item is not None and item.status == "done"
        assert all(step["done"] for step in item.steps)


def test_the_item_page_applies_the_same_rule(live: Live) -> None:
    key = "publicity_coverage"
    owner = _owner_of(live, key)
    item_id = live.world.items[key]
    from tests.web.conftest import logged_in

    with logged_in(live, owner if owner in ("li", "zheng", "chen") else "zhang") as client:
        csrf = form_token(client, f"/items/{item_id}")
        refused = client.post(f"/items/{item_id}/tick", data={"csrf": csrf, "note": "写好了"})
    assert refused.status_code == 400 and "请先勾选步骤 1、2、3、4、5" in refused.text
    assert "写好了</textarea>" in refused.text


def test_a_used_link_shows_what_was_recorded(live: Live) -> None:
    token = link(live)  # li's repair_training, a note
    assert post_link(live, token, note="已培训 12 人")[0] == 200
    with live.client() as client:
        again = client.get(f"/l/{token}")
    assert again.status_code == 200
    assert "已完成：11-23 09:00，李师傅 提交" in again.text and "已培训 12 人" in again.text
    assert "已已" not in again.text
    assert 'href="/login"' not in again.text and 'href="/"' not in again.text
    with live.client() as client:
        english = client.get(f"/l/{token}?lang=en")
    assert "Done: 11-23 09:00, by 李师傅" in english.text


def test_a_follow_up_link_opens_the_item_for_the_supervisor_who_may_remind_the_owner(
    live: Live,
) -> None:
    item_id = live.world.items["repair_training"]  # li's; chen supervises li
    token = link(live, person="chen")
    with live.client() as client:
        page = client.get(f"/l/{token}")
        assert page.status_code == 200, page.text
        assert "督办：此事项由李师傅负责" in page.text and "立即提醒负责人" in page.text
        assert 'action="/l/' + token + '/reassign"' not in page.text  # not the head
        assert "确认完成" not in page.text
        csrf = form_token(client, "/login")
        reminded = client.post(f"/l/{token}/remind", data={"csrf": csrf})
        again = client.post(f"/l/{token}/remind", data={"csrf": csrf})
    assert reminded.status_code == 200 and "已安排提醒李师傅" in reminded.text
    assert again.status_code == 200 and "今天已提醒过李师傅" in again.text
    with live.session() as s:
        rows = s.scalars(select(Outbox).where(Outbox.item_id == item_id, Outbox.kind == NUDGE))
        assert [r.recipient_id for r in rows] == [live.world.people["li"]]


def test_a_follow_up_link_lets_the_head_reassign_and_the_principal_only_follow(
    live: Live,
) -> None:
    item_id = live.world.items["repair_training"]
    principal = link(live, person="wang")
    with live.client() as client:
        page = client.get(f"/l/{principal}")
    assert page.status_code == 200 and "督办" in page.text and "/reassign" not in page.text

    head = link(live, person="zhang")
    with live.client() as client:
        page = client.get(f"/l/{head}")
        assert "/reassign" in page.text and "/waive" in page.text
        csrf = form_token(client, "/login")
        moved = client.post(
            f"/l/{head}/reassign", data={"csrf": csrf, "to": "zheng", "reason": "李师傅休假"}
        )
    assert moved.status_code == 200 and "已转交给郑师傅" in moved.text
    with live.session() as s:
        item = s.get(Item, item_id)
        assert item is not None and item.owner_id == live.world.people["zheng"]

    outsider = link(live, person="outsider")
    with live.client() as client:
        refused = client.get(f"/l/{outsider}")
    assert refused.status_code == 410 and 'href="/login"' not in refused.text


def test_the_digest_words_a_follow_up_for_its_recipient(live: Live) -> None:
    item_id = live.world.items["repair_training"]  # overdue on NOW
    with live.session() as s, s.begin():
        school = s.get(School, live.world.school_id)
        assert school is not None
        for code, kind in (("li", "remind:T0"), ("wang", "escalate:L2"), ("zhang", "escalate:L1")):
            person_id = live.world.people[code]
            delivery = Delivery(
                key=f"t:{code}",
                school_id=school.id,
                recipient_id=person_id,
                channel="email",
                subject="",
                body="",
                created_at=NOW,
                next_attempt_at=NOW,
            )
            s.add(delivery)
            s.flush()
            s.add(
                Outbox(
                    dedup_key=f"t:{code}",
                    school_id=school.id,
                    recipient_id=person_id,
                    item_id=item_id,
                    kind=kind,
                    status="queued",
                    created_at=NOW,
                    next_attempt_at=NOW - timedelta(hours=1),
                    delivery_id=delivery.id,
                )
            )
        li = s.get(Person, live.world.people["li"])
        assert li is not None
        li.supervisor_id = live.world.people["zhang"]  # the head supervising li directly
        s.flush()
        texts = {}
        for code in ("li", "wang", "zhang"):
            delivery_id = s.scalar(select(Delivery.id).where(Delivery.key == f"t:{code}"))
            assert delivery_id is not None
            person = s.get(Person, live.world.people[code])
            assert person is not None
            digest = compose(
                lines_for(s, [delivery_id])[delivery_id],
                person=person,
                school=school,
                leaders=[live.world.people["wang"], live.world.people["zhao"]],
                now=NOW,
                settings=live.settings,
            )
            texts[code] = digest.text
        s.rollback()
    assert "请按时完成，并在系统中勾选确认" in texts["li"] and "督办事项" not in texts["li"]
    assert "勾选确认" not in texts["wang"] and "督办：" in texts["wang"]
    assert "立即提醒负责人" in texts["wang"] and "转交或免除" not in texts["wang"]
    assert "也可转交或免除" in texts["zhang"]


def test_served_on_a_replayed_day_its_links_work_and_expire_on_that_days_clock(
    live: Live,
) -> None:
    """`houqin serve --today` (HOUQIN_TODAY): the demo's mail links, signed on replayed days,
    open when the season is served; on the real date they have long expired."""
    sent = clock.moment(date(2027, 6, 10), "07:30")
    token = make_token(
        live.settings,
        item_id=live.world.items["repair_training"],
        person_id=live.world.people["li"],
        now=sent,
    )
    live.app.dependency_overrides.pop(get_now)  # the served clock, not the tests' fixed NOW
    live.reconfigure(today=date(2027, 6, 10))
    with live.client() as client:
        opened = client.get(f"/l/{token}")
    assert opened.status_code == 200 and "水电维修理论培训" in opened.text
    live.reconfigure(today=date(2027, 6, 30))  # 20 days later: past the 14 days a link lasts
    with live.client() as client:
        expired = client.get(f"/l/{token}")
    assert expired.status_code == 400 and "链接已过期" in expired.text


def test_the_demo_photo_is_a_real_image() -> None:
    data = photo_png()
    assert sniff(data[:16]) == "png"
    with Image.open(io.BytesIO(data)) as img:
        img.verify()
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (320, 240) and len(img.getcolors(maxcolors=4096) or []) > 10


def test_a_used_links_record_shows_its_photos_through_the_link(live: Live) -> None:
    token = link(live, "beautify_campus")  # li's, evidence: photos
    with live.client() as client:
        client.get(f"/l/{token}")
        csrf = form_token(client, "/login")
        done = client.post(
            f"/l/{token}",
            data={"csrf": csrf},
            files=[("photos", ("campus.png", png(), "image/png"))],
        )
        assert done.status_code == 200 and "照片：已上传 1 张" in done.text
        again = client.get(f"/l/{token}")
        photos = re.findall(rf'src="(/l/{re.escape(token)}/photos/\d+)"', again.text)
        assert len(photos) == 1
        shown = client.get(photos[0])
        assert shown.status_code == 200 and shown.headers["content-type"].startswith("image/")
        other = link(live, "repair_training")  # another item's link cannot fetch this photo
        assert client.get(photos[0].replace(token, other)).status_code == 403
