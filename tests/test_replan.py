"""Re-planning after a calendar change: the 2027 notice entered and 高考 moved by one day.

gaokao_security is launched for the demo school for 2026-2027 from a copy of the calendars;
then the copy's 2027 arrangement is made official and 高考 moved from 06-07 to 06-08.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pendulum
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from calendars import DEFAULT_DIR, CalendarBook, load_book
from houqin import digests, items, messages
from houqin.launch import launch
from houqin.models import AuditEvent, Delivery, Item, Outbox, Person, School
from houqin.reminders import plan_reminders
from houqin.replan import follow_calendar, replan
from houqin.settings import Settings
from tests.factories import NOW, staff_school

SHANGHAI = "Asia/Shanghai"


def copy_calendars(tmp: Path) -> Path:
    target = tmp / "calendars"
    target.mkdir()
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def enter_notice_and_move_gaokao(directory: Path) -> CalendarBook:
    """2027 official (the days as predicted) and 高考 one day later, as a head would edit."""
    path = directory / "2026-2027.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    status: provisional\n", "    status: official\n", 1)
    text = text.replace(
        "gaokao: {start: 2027-06-07, end: 2027-06-09}",
        "gaokao: {start: 2027-06-08, end: 2027-06-10}",
    )
    path.write_text(text, encoding="utf-8")
    return load_book(directory)


def local_day(at: object) -> str:
    return str(pendulum.instance(at).in_tz(SHANGHAI).date())  # type: ignore[arg-type]


@pytest.fixture
def launched(session: Session, templates, tmp_path: Path):  # type: ignore[no-untyped-def]
    directory = copy_calendars(tmp_path)
    people = staff_school(session, extra_roles=("exam_patrol", "retail_manager"))
    result = launch(
        session,
        template=templates["gaokao_security"],
        school=people["school"],
        period="2026-2027",
        book=load_book(directory),
        by="zhang",
        now=NOW,
    )
    rows = session.scalars(select(Item).where(Item.run_id == result.run.id)).all()
    by_rule = {str(s.due): s.key for s in templates["gaokao_security"].items}
    three = next(i for i in rows if i.key == by_rule["gaokao.start - 3 workdays"])
    return {"people": people, "run": result.run, "items": rows, "three": three, "dir": directory}


def test_preview_lists_old_to_new_with_the_field_that_caused_it_and_changes_nothing(
    session: Session, launched
) -> None:
    book = enter_notice_and_move_gaokao(launched["dir"])
    three = launched["three"]
    assert local_day(three.due_at) == "2027-06-02" and three.due_provisional

    report = replan(session, book=book, now=NOW, apply=False)

    open_items = len(launched["items"])
    assert report.checked == open_items
    move = next(m for m in report.moves if m.item_id == three.id)
    assert (local_day(move.old_at), local_day(move.new_at)) == ("2027-06-02", "2027-06-03")
    assert (move.old_provisional, move.new_provisional) == (True, False)
    assert "2026-2027.yaml exams.gaokao.start: 2027-06-07 → 2027-06-08" in move.causes
    assert "holiday_arrangements.2027.status: provisional → official" in move.causes
    # every item follows 高考 or rests on 2027: all of them change, none is written
    assert len(report.moves) == open_items
    session.refresh(three)
    assert local_day(three.due_at) == "2027-06-02" and three.due_provisional
    assert not session.scalar(select(func.count()).where(AuditEvent.action == "item.replanned"))


def test_apply_moves_deadlines_clears_provisional_audits_withdraws_and_tells_once(
    session: Session, launched
) -> None:
    people, three = launched["people"], launched["three"]
    others = [i for i in launched["items"] if i.id != three.id]
    done, waived = others[0], others[1]
    for step in range(1, len(done.steps) + 1):  # a completion needs its sub-steps ticked
        items.tick(session, item=done, by=people["zhang"], now=NOW, step=step)
    items.tick(session, item=done, by=people["zhang"], now=NOW, note="已完成", number=1)
    items.waive(session, item=waived, by="zhang", now=NOW, reason="本校不设考点")
    done_due, waived_due = done.due_at, waived.due_at

    # the sweep of Tue 2027-06-01 planned the T-1 reminder of the 06-02 deadline
    june1 = pendulum.datetime(2027, 6, 1, 7, 30, tz=SHANGHAI)
    plan_reminders(session, now=june1, book=load_book(launched["dir"]))
    waiting = session.scalars(
        select(Outbox).where(Outbox.item_id == three.id, Outbox.status == "pending")
    ).all()
    assert [w.kind for w in waiting] == ["remind:T-1"]
    pending = session.scalar(select(func.count()).where(Outbox.status == "pending"))

    book = enter_notice_and_move_gaokao(launched["dir"])
    report = replan(session, book=book, now=june1, apply=True, by="zhang")

    open_count = len(launched["items"]) - 2
    assert len(report.moves) == open_count and report.told == open_count
    session.refresh(three)
    assert local_day(three.due_at) == "2027-06-03" and three.due_provisional is False
    # an occurrence's title names its day: it follows the date (高考 06-08 … 06-10 now)
    patrol = next(i for i in launched["items"] if i.key == "gate_duty@day1")
    session.refresh(patrol)
    assert "（第1天 6月8日）" in patrol.title_zh and "6月7日" not in patrol.title_zh
    assert patrol.title_en is None or "08 Jun" in patrol.title_en
    # done and waived items keep their deadlines
    session.refresh(done)
    session.refresh(waived)
    assert (done.due_at, waived.due_at) == (done_due, waived_due)
    # one audit event per item moved, with old, new and cause
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "item.replanned")).all()
    assert len(events) == open_count
    event = next(e for e in events if e.item_id == three.id)
    assert event.details["old_provisional"] is True and event.details["new_provisional"] is False
    assert local_day(pendulum.parse(event.details["new"])) == "2027-06-03"
    assert "2026-2027.yaml exams.gaokao.start: 2027-06-07 → 2027-06-08" in event.details["cause"]
    # the reminder planned for 06-02 is withdrawn (kept, with why), not deleted
    session.refresh(waiting[0])
    assert waiting[0].status == "withdrawn"
    assert "2027-06-02 → 2027-06-03" in (waiting[0].last_error or "")
    assert report.withdrawn == pending

    # the next sweep plans the new deadline's reminders: T-1 of 06-03 is 06-02
    june2 = pendulum.datetime(2027, 6, 2, 7, 30, tz=SHANGHAI)
    plan_reminders(session, now=june2, book=book)
    kinds = session.scalars(
        select(Outbox.kind).where(Outbox.item_id == three.id, Outbox.status == "pending")
    ).all()
    assert sorted(kinds) == ["moved:2027-06-02", "remind:T-1"]

    # the owner's next message tells each moved deadline once, beside its reminder
    people["school"].channels = {"email": {"host": "127.0.0.1", "port": 2525}}
    session.flush()
    messages.gather(session, now=june2)
    owner = session.get(Person, three.owner_id)
    assert owner is not None
    message = session.scalars(select(Delivery).where(Delivery.recipient_id == owner.id)).one()
    lines = digests.lines_for(session, [message.id])[message.id]
    school = session.get(School, owner.school_id)
    assert school is not None
    settings = Settings(secret_key=SecretStr("k" * 48), _env_file=None)  # type: ignore[call-arg]
    digest = digests.compose(
        lines, person=owner, school=school, leaders=[], now=june2, settings=settings
    )
    title = three.title_zh
    assert digest.text.count(title) == 1
    assert "截止日期已按校历调整，原为 2027-06-02(周三)" in digest.text
    assert digest.text.count("截止日期已按校历调整") == sum(
        1 for i in launched["items"] if i.owner_id == owner.id and i.id not in (done.id, waived.id)
    )

    # a second run changes nothing
    again = replan(session, book=book, now=june2, apply=True, by="zhang")
    assert again.moves == [] and again.told == 0
    assert (
        session.scalar(select(func.count()).where(AuditEvent.action == "item.replanned"))
        == open_count
    )


def test_the_sweep_step_replans_when_the_files_change_by_content(
    session: Session, launched
) -> None:
    directory, three = launched["dir"], launched["three"]
    # unchanged files (even touched) re-plan nothing
    (directory / "2026-2027.yaml").touch()
    assert follow_calendar(session, book=load_book(directory), now=NOW) is None
    book = enter_notice_and_move_gaokao(directory)
    report = follow_calendar(session, book=book, now=NOW)
    assert report is not None and report.applied
    session.refresh(three)
    assert local_day(three.due_at) == "2027-06-03"
    assert follow_calendar(session, book=book, now=NOW) is None  # remembered: once only
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "item.replanned", AuditEvent.item_id == three.id
        )
    ).one()
    assert event.actor == "sweep"


def test_a_launch_after_an_edit_does_not_hide_the_edit_from_the_sweep(
    session: Session, launched, templates
) -> None:
    book = enter_notice_and_move_gaokao(launched["dir"])
    launch(
        session,
        template=templates["quality_service_month"],
        school=launched["people"]["school"],
        period="2026-2027/1",
        book=book,
        by="zhang",
        now=NOW,
    )
    report = follow_calendar(session, book=book, now=NOW)
    assert report is not None
    assert {m.plan for m in report.moves} == {"gaokao_security"}
    session.refresh(launched["three"])
    assert local_day(launched["three"].due_at) == "2027-06-03"


def gaokao_ends(directory: Path, was: str, end: str) -> CalendarBook:
    """高考 ending on ``end`` instead of ``was``, as a head would edit the file."""
    path = directory / "2026-2027.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace(
        f"gaokao: {{start: 2027-06-07, end: {was}}}", f"gaokao: {{start: 2027-06-07, end: {end}}}"
    )
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    return load_book(directory)


def test_an_exam_a_day_longer_adds_that_days_duties_and_a_day_shorter_lists_the_extra(
    session: Session, launched
) -> None:
    run = launched["run"]
    day3 = sorted(i.key for i in launched["items"] if i.key.endswith("@day3"))
    assert day3  # the duties repeated on each exam day (06-07 … 06-09)
    book = gaokao_ends(launched["dir"], "2027-06-09", "2027-06-10")

    preview = replan(session, book=book, now=NOW, apply=False)

    assert sorted(a.planned.key for a in preview.added) == [
        k.replace("@day3", "@day4") for k in day3
    ]
    assert all(
        a.causes == ("2026-2027.yaml exams.gaokao.end: 2027-06-09 → 2027-06-10",)
        for a in preview.added
    )
    assert {local_day(a.planned.due_at) for a in preview.added} == {"2027-06-10"}
    assert not session.scalar(select(func.count()).where(Item.key.like("%@day4")))  # preview

    applied = replan(session, book=book, now=NOW, apply=True, by="zhang")

    assert len(applied.added) == len(day3)
    added = session.scalars(
        select(Item).where(Item.run_id == run.id, Item.key.like("%@day4")).order_by(Item.key)
    ).all()
    assert [i.key for i in added] == [
        a.planned.key for a in sorted(applied.added, key=lambda a: a.planned.key)
    ]
    assert all(i.status == "open" and "第4天 6月10日" in i.title_zh for i in added)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "item.added")).all()
    assert sorted(e.item_id for e in events) == sorted(i.id for i in added)
    assert {e.actor for e in events} == {"zhang"}
    again = replan(session, book=book, now=NOW, apply=True)
    assert (again.added, again.moves) == ([], [])  # a second run adds nothing

    # one day shorter than launched: day 3's items are listed for a person, not removed
    shorter = gaokao_ends(launched["dir"], "2027-06-10", "2027-06-08")
    listed = replan(session, book=shorter, now=NOW, apply=False)
    assert listed.added == []
    not_in_plan = [why for why in listed.skipped if "is not in the plan as launched" in why]
    assert len(not_in_plan) == 2 * len(day3)  # day 3 and day 4
