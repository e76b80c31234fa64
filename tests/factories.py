"""Factories and personas for ledger tests.

Personas of the demo school: ``zhang`` (logistics head), ``li`` (maintenance staff),
``wang`` (principal), ``zhao`` (vice-principal, zhang's supervisor), and ``outsider`` of
another school (for the permission tests).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pendulum
from sqlalchemy.orm import Session

from houqin.models import Item, Person, PlanRun, PlanTemplateVersion, RoleBinding, School
from houqin.roles import ROLES

NOW = pendulum.datetime(2026, 11, 23, 9, 0, tz="Asia/Shanghai")


DEMO_FACTS = ["gaokao_site", "boarding", "canteen"]  # as examples/demo-school.yaml


def make_school(session: Session, code: str = "demo", **kw: Any) -> School:
    """A school profiled as the demo's (完全中学, 高考考点, …) unless ``kind``/``facts`` say."""
    kw.setdefault("kind", "complete")
    kw.setdefault("facts", list(DEMO_FACTS))
    school = School(code=code, name=kw.pop("name", f"{code} 中学"), **kw)
    session.add(school)
    session.flush()
    return school


def make_person(
    session: Session,
    school: School,
    code: str,
    name: str | None = None,
    supervisor: Person | None = None,
    roles: tuple[str, ...] = (),
    **kw: Any,
) -> Person:
    person = Person(
        school_id=school.id,
        code=code,
        name=name or code,
        supervisor_id=supervisor.id if supervisor else None,
        addresses=kw.pop("addresses", {"email": f"{code}@{school.code}.example"}),
        **kw,
    )
    session.add(person)
    session.flush()
    for role in roles:
        session.add(RoleBinding(school_id=school.id, role_key=role, person_id=person.id))
    session.flush()
    return person


def staff_school(
    session: Session, code: str = "demo", extra_roles: tuple[str, ...] = ()
) -> dict[str, Person]:
    """A school whose every built-in role is bound: zhang holds all that others don't."""
    school = make_school(session, code)
    wang = make_person(session, school, "wang", "王校长", roles=("principal",))
    zhao = make_person(
        session, school, "zhao", "赵副校长", wang, roles=("vice_principal_logistics",)
    )
    li = make_person(
        session, school, "li", "李师傅", None, roles=("maintenance_lead", "electrician")
    )
    taken = {"principal", "vice_principal_logistics", "maintenance_lead", "electrician"}
    rest = tuple(k for k in ROLES if k not in taken) + extra_roles
    zhang = make_person(session, school, "zhang", "张主任", zhao, roles=rest)
    li.supervisor_id = zhang.id
    session.flush()
    return {"school": school, "wang": wang, "zhao": zhao, "zhang": zhang, "li": li}  # type: ignore[dict-item]


def make_run(
    session: Session, school: School, template_key: str = "test_plan", period: str = "2026-2027"
) -> PlanRun:
    version = PlanTemplateVersion(
        key=template_key,
        version=f"v-{school.code}-{period}",
        title_zh="测试计划",
        title_en="Test plan",
        source_path="<test>",
        body={},
        created_at=NOW,
    )
    run = PlanRun(
        template=version,
        template_key=template_key,
        school_id=school.id,
        period=period,
        launched_by="test",
        launched_at=NOW,
    )
    session.add_all([version, run])
    session.flush()
    return run


def make_item(
    session: Session,
    run: PlanRun,
    owner: Person,
    *,
    due: datetime,
    key: str = "item",
    status: str = "open",
    **kw: Any,
) -> Item:
    item = Item(
        run_id=run.id,
        school_id=run.school_id,
        key=key,
        position=kw.pop("position", 0),
        phase_key="p",
        phase_zh="阶段",
        title_zh=kw.pop("title_zh", f"测试事项 {key}"),
        role_key=kw.pop("role_key", "logistics_head"),
        owner_id=owner.id,
        due_at=due,
        status=status,
        **kw,
    )
    session.add(item)
    session.flush()
    return item
