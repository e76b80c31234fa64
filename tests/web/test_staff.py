"""Staff on their phones: my items by urgency, sub-steps, evidence, photos; every change audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from houqin.models import AuditEvent, Evidence, Item
from houqin.web.staff import buckets
from tests.factories import NOW, make_item, make_person, make_run, make_school
from tests.web.conftest import Live, form_token, logged_in
from tests.web.images import png


def events(live: Live, item_id: int) -> list[AuditEvent]:
    with live.session() as s:
        return list(
            s.scalars(
                select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.id)
            )
        )


def item(live: Live, item_id: int) -> Item:
    with live.session() as s:
        found = s.get(Item, item_id)
        assert found is not None
        return found


def test_my_items_are_grouped_overdue_due_today_this_week_and_later(session) -> None:  # type: ignore[no-untyped-def]
    school = make_school(session)
    li = make_person(session, school, "li")
    run = make_run(session, school)
    # NOW is Monday 2026-11-23 09:00 in Shanghai; "this week" runs to Sunday 11-29
    due = {
        "late": NOW - timedelta(hours=1),
        "today": NOW + timedelta(hours=8),
        "sunday": NOW + timedelta(days=6, hours=5),
        "monday": NOW + timedelta(days=7),
    }
    made = {k: make_item(session, run, li, due=d, key=k) for k, d in due.items()}
    done = make_item(session, run, li, due=NOW, key="done", status="done", completed_at=NOW)
    got = {
        b.key: [i.key for i in b.items]
        for b in buckets([*made.values(), done], NOW, "Asia/Shanghai")
    }
    assert got == {
        "overdue": ["late"],
        "today": ["today"],
        "week": ["sunday"],
        "later": ["monday"],
        "done": ["done"],
    }


def test_my_items_page_lists_only_the_staff_members_own_items(live: Live) -> None:
    with logged_in(live, "li") as client:
        page = client.get("/my").text
    assert "爱心缝补活动（第一次）" in page.split('id="today"')[0]  # li's, due 11-08: overdue
    assert "爱心缝补活动（第二次）" in page  # due Wednesday: this week
    assert "厨艺大比武" not in page  # zheng's


def test_ticking_and_clearing_a_sub_step_records_who_and_when(live: Live) -> None:
    item_id = live.world.items["canteen_experience_day"]  # zheng's, six steps
    with logged_in(live, "zheng") as client:
        token = form_token(client, f"/items/{item_id}")
        assert (
            client.post(f"/items/{item_id}/steps/2", data={"csrf": token, "done": "1"}).status_code
            == 303
        )
        assert item(live, item_id).steps[1]["done"] is True
        assert item(live, item_id).steps[1]["by"] == "zheng"
        assert (
            client.post(f"/items/{item_id}/steps/2", data={"csrf": token, "done": "0"}).status_code
            == 303
        )
    assert item(live, item_id).steps[1]["done"] is False
    log = [(e.action, e.actor, e.at, e.details["step"]) for e in events(live, item_id)]
    assert log == [("step.tick", "zheng", NOW, 2), ("step.untick", "zheng", NOW, 2)]


def test_completing_with_a_note_and_reopening_are_both_in_the_audit_trail(live: Live) -> None:
    item_id = live.world.items["repair_training"]  # li's, evidence: a note, due 11-18: late
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        done = client.post(f"/items/{item_id}/tick", data={"csrf": token, "note": "培训 12 人"})
        assert done.status_code == 303
        assert "已完成" in client.get(done.headers["location"]).text
        assert client.post(f"/items/{item_id}/untick", data={"csrf": token}).status_code == 303
    assert item(live, item_id).status == "open"
    log = [(e.action, e.actor, e.at) for e in events(live, item_id)]
    assert log == [("item.tick", "li", NOW), ("item.untick", "li", NOW)]
    assert events(live, item_id)[0].details["late"] is True


def test_a_number_is_stored_as_evidence(live: Live) -> None:
    item_id = live.world.items["canteen_questionnaire"]  # zheng's, evidence: a number
    with logged_in(live, "zheng") as client:
        token = form_token(client, f"/items/{item_id}")
        assert (
            client.post(
                f"/items/{item_id}/tick", data={"csrf": token, "number": "1,260"}
            ).status_code
            == 303
        )
    with live.session() as s:
        assert s.scalars(select(Evidence.number).where(Evidence.item_id == item_id)).all() == [1260]


def test_photos_are_stored_under_data_dir_with_thumbnails_and_shown_only_to_those_allowed(
    live: Live,
) -> None:
    item_id = live.world.items["mending_second"]  # li's, evidence: photos
    with logged_in(live, "li") as client:
        token = form_token(client, f"/items/{item_id}")
        files = [
            ("photos", ("a.png", png(40, 30), "image/png")),
            ("photos", ("b.png", png(30, 40, (200, 80, 40)), "application/octet-stream")),
        ]
        response = client.post(f"/items/{item_id}/tick", data={"csrf": token}, files=files)
        assert response.status_code == 303, response.text
        with live.session() as s:
            photos = s.scalars(
                select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id)
            ).all()
        assert len(photos) == 2
        for photo in photos:
            assert photo.path.startswith(f"photos/demo/{item_id}/")
            assert (live.settings.data_dir / photo.path).read_bytes()[:4] == b"\x89PNG"
            original = client.get(f"/photos/{photo.id}")
            assert original.status_code == 200
            assert original.headers["content-type"] == "image/png"
            thumb = client.get(f"/photos/{photo.id}/thumb")
            assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    with logged_in(live, "zheng") as other:
        assert other.get(f"/photos/{photos[0].id}").status_code == 403
    with live.client() as anonymous:
        assert anonymous.get(f"/photos/{photos[0].id}").status_code == 303  # to the login page
    assert [e.action for e in events(live, item_id)] == ["item.tick", "item.photos"]


def test_items_with_open_dependencies_cannot_be_completed(live: Live) -> None:
    item_id = live.world.items["judging"]  # depends on unit_summaries and star_candidates
    with logged_in(live, "zhang") as client:
        token = form_token(client, f"/items/{item_id}")
        page = client.get(f"/items/{item_id}").text
        assert "需先完成" in page
        refused = client.post(f"/items/{item_id}/tick", data={"csrf": token, "note": "评选完成"})
    assert refused.status_code == 400
    assert "还不能完成" in refused.text and "需先完成：" in refused.text
    assert item(live, item_id).status == "open"


def test_english_switch_sets_a_cookie_and_translates_the_page(live: Live) -> None:
    with logged_in(live, "li") as client:
        english = client.get("/my?lang=en")
        assert "My items" in english.text and "Overdue" in english.text
        assert "houqin_lang=en" in english.headers["set-cookie"]
        assert '<html lang="en">' in client.get("/my").text  # remembered
        assert '<html lang="zh-CN">' in client.get("/my?lang=zh").text
