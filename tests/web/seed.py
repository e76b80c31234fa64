"""The school the web tests (and the screenshots) run against, built through the ledger core.

示范中学 ``demo`` launches the real 优质服务月 plan (quality_service_month, autumn term 2026-2027);
on 2026-11-23 (``NOW``) some of its items are overdue, some due this week, some later. Personas:

- ``zhang`` 张主任, logistics head (account ``zhang``)
- ``chen`` 陈主管, supervisor of li and zheng (account ``chen``, role supervisor)
- ``li`` 李师傅 and ``zheng`` 郑师傅, staff (accounts ``li``, ``zheng``)
- ``wang`` 王校长, leadership (account ``wang``); ``district`` reads 示范区
- ``outsider`` of 另一所学校 ``other`` (account ``outsider``), for the 403 tests
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.accounts import create_account
from houqin.items import tick
from houqin.launch import launch
from houqin.models import Delivery, Item, Person, RoleBinding, School
from houqin.roles import ROLES
from tests.factories import NOW, make_item, make_person, make_run, make_school
from tests.web.images import png

PASSWORD = "correct horse 马"
# cheap argon2 parameters for tests (shared/notes/ecosystem.md): ~2 ms instead of ~170 ms
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class World:
    school_id: int
    other_school_id: int
    run_id: int
    people: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)  # template item key -> id
    other_item_id: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)


def _bind(session: Session, school: School, person: Person, *roles: str) -> None:
    for role in roles:
        session.add(RoleBinding(school_id=school.id, role_key=role, person_id=person.id))
    session.flush()


def seed(session: Session, templates, book, *, history: Path | None = None) -> World:  # type: ignore[no-untyped-def]
    """The demo school; with ``history`` (a data_dir), some items already done, with photos."""
    # 九年一贯制: the review's assessment needs a standard for the school's kind, and the built-in
    # one (plans/standards/primary_school.yaml) is for schools with primary classes
    school = make_school(session, "demo", name="示范中学", district="示范区", kind="nine_year")
    wang = make_person(session, school, "wang", "王校长")
    zhao = make_person(session, school, "zhao", "赵副校长", wang)
    zhang = make_person(session, school, "zhang", "张主任", zhao)
    chen = make_person(session, school, "chen", "陈主管", zhang)
    li = make_person(session, school, "li", "李师傅", chen)
    zheng = make_person(session, school, "zheng", "郑师傅", chen)
    _bind(session, school, wang, "principal")
    _bind(session, school, zhao, "vice_principal_logistics")
    _bind(session, school, chen, "logistics_supervisor")
    _bind(session, school, li, "maintenance_lead", "electrician", "gardener", "property_manager")
    _bind(session, school, zheng, "canteen_manager")
    taken = {
        "principal",
        "vice_principal_logistics",
        "logistics_supervisor",
        "maintenance_lead",
        "electrician",
        "gardener",
        "property_manager",
        "canteen_manager",
    }
    _bind(session, school, zhang, *(k for k in ROLES if k not in taken), "retail_manager")

    result = launch(
        session,
        template=templates["quality_service_month"],
        school=school,
        period="2026-2027/1",
        book=book,
        by="zhang",
        now=NOW - timedelta(days=40),
    )
    run = result.run
    items = {i.key: i.id for i in session.scalars(select(Item).where(Item.run_id == run.id))}

    other = make_school(session, "other", name="另一所学校", district="示范区")
    outsider = make_person(session, other, "outsider", "外校人员")
    other_item = make_item(
        session,
        make_run(session, other),
        outsider,
        due=NOW + timedelta(days=2),
        key="other",
        title_zh="外校的事项",
        evidence_kind="none",
    )

    world = World(school.id, other.id, run.id, items=items, other_item_id=other_item.id)
    world.people = {p.code: p.id for p in (wang, zhao, zhang, chen, li, zheng, outsider)}
    accounts = [
        ("zhang", "logistics_head", zhang),
        ("chen", "supervisor", chen),
        ("li", "staff", li),
        ("zheng", "staff", zheng),
        ("wang", "leadership", wang),
    ]
    for username, role, person in accounts:
        create_account(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            school=school,
            person=person,
            now=NOW,
            actor="test",
            hasher=FAST_HASHER,
        )
    create_account(
        session,
        username="district",
        password=PASSWORD,
        role="district",
        school=None,
        district="示范区",
        now=NOW,
        actor="test",
        hasher=FAST_HASHER,
    )
    create_account(
        session,
        username="outsider",
        password=PASSWORD,
        role="staff",
        school=other,
        person=outsider,
        now=NOW,
        actor="test",
        hasher=FAST_HASHER,
    )
    world.deliveries = _deliveries(session, school, zhang, li)
    if history is not None:
        _history(session, items, {p.code: p for p in (zhang, li, zheng, chen)}, history)
    session.flush()
    return world


def _deliveries(session: Session, school: School, zhang: Person, li: Person) -> dict[str, int]:
    rows = {
        "sent": Delivery(
            key="d-sent",
            school_id=school.id,
            recipient_id=li.id,
            channel="email",
            status="sent",
            subject="后勤提醒：3 项待办",
            body="…",
            attempts=1,
            created_at=NOW - timedelta(days=2),
            next_attempt_at=NOW - timedelta(days=2),
            sent_at=NOW - timedelta(days=2),
        ),
        "failed": Delivery(
            key="d-failed",
            school_id=school.id,
            recipient_id=zhang.id,
            channel="wecom",
            status="failed",
            subject="逾期督办：2 项",
            body="…",
            attempts=5,
            created_at=NOW - timedelta(days=1),
            next_attempt_at=NOW - timedelta(hours=3),
            last_error="errcode 93000: invalid webhook url",
        ),
        "unconfirmed": Delivery(
            key="d-unconfirmed",
            school_id=school.id,
            recipient_id=li.id,
            channel="dingtalk",
            status="unconfirmed",
            subject="后勤提醒：1 项",
            body="…",
            attempts=1,
            created_at=NOW - timedelta(hours=5),
            next_attempt_at=NOW - timedelta(hours=5),
            last_error="connection lost while sending",
        ),
        "pending": Delivery(
            key="d-pending",
            school_id=school.id,
            recipient_id=li.id,
            channel="email",
            status="pending",
            subject="后勤提醒：今天到期",
            body="…",
            created_at=NOW,
            next_attempt_at=NOW + timedelta(hours=1),
        ),
    }
    session.add_all(rows.values())
    session.flush()
    return {k: d.id for k, d in rows.items()}


def _history(
    session: Session, items: dict[str, int], people: dict[str, Person], data_dir: Path
) -> None:
    """Some work already done, so boards and charts have something to show."""
    done = [
        ("leadership_group", "zhang", 32, {"number": 9.0}),
        ("mobilisation_meeting", "zhang", 30, {"note": "已召开，到会 46 人"}),
        ("unit_plans", "chen", 29, {"number": 7.0}),
        ("plan_review", "zhang", 25, {"note": "7 份方案均已审核"}),
        ("opening_ceremony", "zhang", 22, {"photo": ""}),
        ("mending_first", "li", 13, {"photo": ""}),
        ("price_comparison", "zhang", 8, {"note": "比价 32 种商品"}),
        ("canteen_questionnaire", "zheng", 6, {"number": 1260.0}),
        ("apartment_skills_contest", "zhang", 2, {"photo": ""}),
    ]
    for key, who, days_ago, evidence in done:
        item = session.get(Item, items[key])
        assert item is not None
        if "photo" in evidence:
            rel = f"photos/demo/{item.id}/seed.png"
            (data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (data_dir / rel).write_bytes(png(320, 240, (60 + 20 * days_ago % 120, 140, 90)))
            evidence = {"photos": [rel]}
        at = NOW - timedelta(days=days_ago)
        for n, step in enumerate(item.steps, 1):  # a completion needs every sub-step ticked
            if not step.get("done"):
                tick(session, item=item, by=people[who], now=at, step=n)
        tick(session, item=item, by=people[who], now=at, **evidence)
