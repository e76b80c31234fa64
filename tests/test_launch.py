"""Launching plans: deadlines from the school calendar, owners from role bindings, idempotence."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from houqin.launch import UnboundRoles, launch
from houqin.models import AuditEvent, Item, PlanRun, PlanTemplateVersion
from houqin.people import bind_role
from houqin.plan_templates import load_template_file
from tests.factories import NOW, make_person, make_school, staff_school


def local(item: Item) -> pendulum.DateTime:
    return pendulum.instance(item.due_at).in_tz("Asia/Shanghai")


def items_of(session: Session, run: PlanRun) -> list[Item]:
    return list(session.scalars(select(Item).where(Item.run_id == run.id).order_by(Item.position)))


def test_gaokao_item_due_three_working_days_before_gaokao_lands_on_june_2_2027(
    session: Session, book, templates
) -> None:
    people = staff_school(session, extra_roles=("exam_patrol",))
    plan = templates["gaokao_security"]
    result = launch(
        session,
        template=plan,
        school=people["school"],
        period="2026-2027",
        book=book,
        by="zhang",
        now=NOW,
    )
    spec = next(i for i in plan.items if str(i.due) == "gaokao.start - 3 workdays")
    item = next(i for i in items_of(session, result.run) if i.key == spec.key)
    # 高考 starts Mon 2027-06-07: back over Fri 06-04, Thu 06-03, Wed 06-02
    assert local(item).date() == pendulum.date(2027, 6, 2)
    assert local(item).time() == pendulum.time(18, 0)
    # no official 2027 holiday notice yet: the date is shown as provisional
    assert item.due_provisional is True


def test_item_due_the_working_day_after_national_day_skips_the_holiday_and_the_tiaoxiu_saturday(
    session: Session, book, tmp_path: Path
) -> None:
    plan_file = tmp_path / "after_national_day.yaml"
    plan_file.write_text(
        textwrap.dedent("""\
        key: after_national_day
        title: {zh-CN: 国庆节后检查}
        period: school_year
        anchors: []
        phases:
          - key: check
            title: {zh-CN: 检查}
            items:
              - {key: first, title: {zh-CN: 节后第一个工作日检查}, role: logistics_head,
                 due: "10-01 + 1 workdays"}
              - {key: third, title: {zh-CN: 节后第三个工作日复查}, role: logistics_head,
                 due: "10-01 + 3 workdays @ 12:00"}
        """),
        encoding="utf-8",
    )
    people = staff_school(session)
    result = launch(
        session,
        template=load_template_file(plan_file),
        school=people["school"],
        period="2026-2027",
        book=book,
        by="zhang",
        now=NOW,
    )
    first, third = items_of(session, result.run)
    # 国庆 2026: 10-01..10-07 off; Thu 10-08 is the first working day after it
    assert local(first).date() == pendulum.date(2026, 10, 8)
    # Thu 10-08, Fri 10-09, then Sat 10-10 — a 调休 make-up working day, not Mon 10-12
    assert local(third).date() == pendulum.date(2026, 10, 10)
    assert local(third).time() == pendulum.time(12, 0)
    assert not first.due_provisional and not third.due_provisional


def test_launching_twice_yields_one_plan_run_and_the_same_items(
    session: Session, book, templates
) -> None:
    people = staff_school(session)
    args = {
        "template": templates["safety_month"],
        "school": people["school"],
        "period": "2026-2027",
        "book": book,
        "by": "zhang",
    }
    first = launch(session, now=NOW, **args)
    before = [(i.id, i.key, i.due_at, i.owner_id) for i in items_of(session, first.run)]
    second = launch(session, now=NOW.add(days=3), **args)
    assert first.created and not second.created
    assert second.run.id == first.run.id
    assert "nothing changed" in second.message
    assert [(i.id, i.key, i.due_at, i.owner_id) for i in items_of(session, first.run)] == before
    assert session.scalar(select(func.count()).select_from(PlanRun)) == 1


def test_items_are_written_in_one_batched_insert(session: Session, book, templates) -> None:
    people = staff_school(session)
    inserts: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO ITEM"):
            inserts.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = launch(
            session,
            template=templates["annual_logistics"],
            school=people["school"],
            period="2026-2027",
            book=book,
            by="zhang",
            now=NOW,
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert result.items == len(templates["annual_logistics"].items) > 40
    assert len(inserts) == 1


def test_a_role_with_no_one_bound_is_an_error_before_anything_is_written(
    session: Session, book, templates
) -> None:
    school = make_school(session)
    make_person(session, school, "zhang", "张主任", roles=("logistics_head",))
    with pytest.raises(UnboundRoles, match="safety_officer") as err:
        launch(
            session,
            template=templates["safety_month"],
            school=school,
            period="2026-2027",
            book=book,
            by="zhang",
            now=NOW,
        )
    assert "安全责任人" in str(err.value)
    for model in (PlanRun, Item, PlanTemplateVersion, AuditEvent):
        assert session.scalar(select(func.count()).select_from(model)) == 0


def test_a_term_plan_given_the_wrong_term_is_refused(session: Session, book, templates) -> None:
    people = staff_school(session)
    with pytest.raises(Exception, match="term 2"):
        launch(
            session,
            template=templates["spring_opening"],
            school=people["school"],
            period="2026-2027/1",
            book=book,
            by="zhang",
            now=NOW,
        )


def test_launch_records_an_audit_event_with_the_item_count(
    session: Session, book, templates
) -> None:
    people = staff_school(session)
    result = launch(
        session,
        template=templates["safety_month"],
        school=people["school"],
        period="2026-2027",
        book=book,
        by="zhang",
        now=NOW,
        flow_run_id="fr-1",
    )
    event_row = session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.launch"))
    assert event_row is not None
    assert event_row.actor == "zhang"
    assert event_row.details["items"] == result.items
    assert event_row.details["flow_run_id"] == "fr-1"
    assert result.run.flow_run_id == "fr-1"


def test_rebinding_a_role_moves_its_open_items_to_the_new_holder(
    session: Session, book, templates
) -> None:
    people = staff_school(session)
    result = launch(
        session,
        template=templates["safety_month"],
        school=people["school"],
        period="2026-2027",
        book=book,
        by="zhang",
        now=NOW,
    )
    newcomer = make_person(session, people["school"], "liu", "刘安全")
    moved = bind_role(
        session,
        school=people["school"],
        role_key="safety_officer",
        person=newcomer,
        now=NOW,
        actor="zhang",
    )
    owned = [i for i in items_of(session, result.run) if i.role_key == "safety_officer"]
    session.expire_all()
    assert moved == len(owned) > 0
    assert {session.get(Item, i.id).owner_id for i in owned} == {newcomer.id}  # type: ignore[union-attr]


def test_template_steps_and_evidence_policy_are_copied_to_every_item(
    session: Session, book, templates
) -> None:
    people = staff_school(session, extra_roles=("exam_patrol",))
    plan = templates["gaokao_security"]
    result = launch(
        session,
        template=plan,
        school=people["school"],
        period="2026-2027",
        book=book,
        by="zhang",
        now=NOW,
    )
    specs = {spec.key: spec for spec in plan.items}
    items = items_of(session, result.run)
    assert {item.key.partition("@")[0] for item in items} == set(specs)  # every spec, no more
    for item in items:
        spec = specs[item.key.partition("@")[0]]
        assert (spec.repeat is None) == ("@" not in item.key)
        assert item.evidence_kind == spec.evidence
        assert [s["zh"] for s in item.steps] == [s.zh for s in spec.steps]
        assert item.headcount == spec.headcount
