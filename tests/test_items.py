"""Ticking, unticking, reassigning and waiving items, and finding them again."""

from __future__ import annotations

import pendulum
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from houqin import audit, items
from houqin.errors import UserError
from houqin.items import ItemFilter, list_items
from houqin.models import Evidence, Item
from tests.factories import NOW, make_item, make_run, staff_school

DUE = pendulum.datetime(2027, 6, 2, 18, 0, tz="Asia/Shanghai")


@pytest.fixture
def people(session: Session) -> dict:
    return staff_school(session)


def test_ticking_an_item_on_time_records_who_when_and_the_evidence(
    session: Session, people
) -> None:
    item = make_item(
        session, make_run(session, people["school"]), people["li"], due=DUE, evidence_kind="number"
    )
    at = DUE.subtract(hours=2)
    assert items.tick(session, item=item, by=people["li"], now=at, number=19) == "done"
    session.refresh(item)
    assert (item.status, item.late, item.completed_by_id) == ("done", False, people["li"].id)
    assert item.completed_at == at
    evidence = session.scalar(select(Evidence).where(Evidence.item_id == item.id))
    assert evidence is not None and evidence.number == 19 and evidence.actor == "li"
    [event] = audit.history(session, item_id=item.id)
    assert (event.action, event.actor, event.at) == ("item.tick", "li", at)


def test_ticking_after_the_deadline_marks_the_item_late(session: Session, people) -> None:
    item = make_item(session, make_run(session, people["school"]), people["li"], due=DUE)
    assert items.tick(session, item=item, by=people["li"], now=DUE.add(minutes=1)) == "done (late)"
    session.refresh(item)
    assert item.late is True


def test_an_item_that_needs_a_photo_cannot_be_ticked_without_one(session: Session, people) -> None:
    item = make_item(
        session, make_run(session, people["school"]), people["li"], due=DUE, evidence_kind="photo"
    )
    with pytest.raises(UserError, match="at least one photo is needed"):
        items.tick(session, item=item, by=people["li"], now=DUE, note="done")
    session.refresh(item)
    assert item.status == "open"
    assert audit.history(session, item_id=item.id) == []


def test_an_item_ticked_with_several_photos_keeps_every_photo_as_evidence(
    session: Session, people
) -> None:
    item = make_item(
        session, make_run(session, people["school"]), people["li"], due=DUE, evidence_kind="photo"
    )
    photos = ["demo/1/a.jpg", "demo/1/b.jpg", "demo/1/c.jpg"]

    items.tick(session, item=item, by=people["li"], now=DUE, photos=photos)

    rows = session.scalars(
        select(Evidence).where(Evidence.item_id == item.id).order_by(Evidence.id)
    )
    assert [(e.kind, e.path, e.actor) for e in rows] == [("photo", p, "li") for p in photos]
    tick, added = audit.history(session, item_id=item.id)
    assert (tick.action, tick.details["photo"]) == ("item.tick", photos[0])
    assert (added.action, added.details["photos"]) == ("item.photos", photos[1:])


def test_sub_steps_are_ticked_one_by_one_and_can_be_cleared(session: Session, people) -> None:
    item = make_item(
        session,
        make_run(session, people["school"]),
        people["li"],
        due=DUE,
        steps=[
            {"zh": "联系消杀公司", "en": None, "done": False},
            {"zh": "全面消杀", "en": None, "done": False},
        ],
    )
    items.tick(session, item=item, by=people["li"], now=DUE, step=2)
    session.refresh(item)
    assert [s["done"] for s in item.steps] == [False, True]
    assert item.steps[1]["by"] == "li"
    items.untick(session, item=item, by=people["li"], now=DUE, step=2)
    session.refresh(item)
    assert [s["done"] for s in item.steps] == [False, False]
    assert [e.action for e in audit.history(session, item_id=item.id)] == [
        "step.tick",
        "step.untick",
    ]
    with pytest.raises(UserError, match="no step 3"):
        items.tick(session, item=item, by=people["li"], now=DUE, step=3)


def test_an_item_waits_for_the_items_it_depends_on(session: Session, people) -> None:
    run = make_run(session, people["school"])
    first = make_item(session, run, people["li"], due=DUE, key="plan")
    second = make_item(
        session, run, people["li"], due=DUE, key="do", depends_on=["plan"], position=1
    )
    with pytest.raises(UserError, match=r"finish or waive first: .*\(plan, "):
        items.tick(session, item=second, by=people["li"], now=DUE)
    items.tick(session, item=first, by=people["li"], now=DUE)
    assert items.tick(session, item=second, by=people["li"], now=DUE) == "done"


def test_a_waiver_needs_a_reason_and_is_audited(session: Session, people) -> None:
    item = make_item(session, make_run(session, people["school"]), people["li"], due=DUE)
    with pytest.raises(UserError, match="reason"):
        items.waive(session, item=item, by="zhang", now=NOW, reason="  ")
    items.waive(session, item=item, by="zhang", now=NOW, reason="本校无陪读房")
    session.refresh(item)
    assert (item.status, item.waive_reason) == ("waived", "本校无陪读房")
    [event] = audit.history(session, item_id=item.id)
    assert event.details["reason"] == "本校无陪读房"


def test_reassigning_moves_the_item_and_keeps_both_names_in_the_audit(
    session: Session, people
) -> None:
    item = make_item(session, make_run(session, people["school"]), people["li"], due=DUE)
    items.reassign(session, item=item, to=people["zhang"], by="zhang", now=NOW, reason="请假")
    session.refresh(item)
    assert item.owner_id == people["zhang"].id
    [event] = audit.history(session, item_id=item.id)
    assert event.details == {"from": "li", "to": "zhang", "reason": "请假"}


def test_a_stale_copy_of_an_item_cannot_overwrite_a_newer_change(session: Session, people) -> None:
    item = make_item(session, make_run(session, people["school"]), people["li"], due=DUE)
    # another request completes the item after this one read it (its copy still says "open")
    session.execute(
        update(Item)
        .where(Item.id == item.id)
        .values(status="done", revision=Item.revision + 1)
        .execution_options(synchronize_session=False)
    )
    assert item.status == "open"
    with pytest.raises(UserError, match="changed by someone else"):
        items.waive(session, item=item, by="zhang", now=NOW, reason="late duplicate")
    session.expire_all()
    assert session.get(Item, item.id).status == "done"  # type: ignore[union-attr]


def test_filters_find_overdue_items_by_owner_and_due_date(session: Session, people) -> None:
    run = make_run(session, people["school"])
    late = make_item(session, run, people["li"], due=DUE, key="late")
    make_item(session, run, people["zhang"], due=DUE, key="zhangs", position=1)
    make_item(session, run, people["li"], due=DUE.add(days=10), key="later", position=2)
    done = make_item(session, run, people["li"], due=DUE, key="done", position=3, status="done")
    now = DUE.add(days=1)
    overdue_for_li = list_items(session, ItemFilter(owner="li", overdue_at=now))
    assert [i.key for i in overdue_for_li] == ["late"]
    due_before = list_items(session, ItemFilter(school="demo", due_before=DUE.add(days=2)))
    assert {i.key for i in due_before} == {"late", "zhangs", "done"}
    assert [i.id for i in list_items(session, ItemFilter(status="done"))] == [done.id]
    assert late.id in {i.id for i in list_items(session, ItemFilter(run_id=run.id))}
    with pytest.raises(UserError, match="status must be one of"):
        list_items(session, ItemFilter(status="finished"))
