"""The logistics head: plan runs, launching a plan (preview first), role bindings, and the
reassign / waive actions on an item. Everything here needs ``can_manage_school``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin.bilingual import Bilingual
from houqin.errors import UserError
from houqin.items import reassign, waive
from houqin.launch import launch, plan_items
from houqin.models import Item, Person, PlanRun, School
from houqin.people import bind_role, get_person, role_bindings
from houqin.periods import parse_period
from houqin.plan_runs import counts_by_run, runs_of
from houqin.plan_specs import PlanTemplate
from houqin.roles import ROLES, Role
from houqin.web import forms
from houqin.web.catalogue import explain
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import BadInput
from houqin.web.permissions import Viewer, can_manage_school, require
from houqin.web.render import render
from houqin.web.shared import managed_school, readable_item, settle

router = APIRouter()
Form = Annotated[FormData, Depends(checked_form)]


def _plans(request: Request) -> dict[str, PlanTemplate]:
    plans: dict[str, PlanTemplate] = request.app.state.sources.plans()
    return plans


def _template(request: Request, key: str | None) -> PlanTemplate:
    plans = _plans(request)
    if key not in plans:
        raise BadInput("请选择一个计划模板。", "Choose a plan template.", back="/head")
    return plans[key]


@router.get("/head")
def dashboard(request: Request, viewer: User, session: DB, now: Now) -> Response:
    school = managed_school(session, viewer)
    return render(request, "head.html.j2", **_dashboard(request, session, school, now))


def _dashboard(request: Request, session: Session, school: School, now: datetime) -> dict[str, Any]:
    runs = runs_of(session, [school.id])
    return {
        "school": school,
        "runs": runs,
        "counts": counts_by_run(session, [r.id for r in runs], now),
        "plans": _plans(request),
    }


@router.get("/launch")
def preview(
    request: Request,
    viewer: User,
    session: DB,
    now: Now,
    template: str | None = None,
    period: str | None = None,
) -> Response:
    """Every item with its owner and deadline, before anything is written. A period the plan
    cannot take shows the launch form again, as typed, with the reason beside it."""
    school = managed_school(session, viewer)
    try:
        return _preview(request, session, school, template, period)
    except UserError as exc:
        page = _dashboard(request, session, school, now)
        entered = {"template": template or "", "period": (period or "")[:32]}
        return render(
            request, "head.html.j2", status_code=400, **page, entered=entered, problem=explain(exc)
        )


def _preview(
    request: Request, session: Session, school: School, template: str | None, period: str | None
) -> Response:
    plan = _template(request, template)
    if not period:
        raise BadInput(
            "请填写期间，例如 2026-2027 或 2026-2027/1。",
            "Give a period such as 2026-2027 or 2026-2027/1.",
            back="/head",
        )
    parsed = parse_period(period, plan.period)
    existing = session.scalar(
        select(PlanRun).where(
            PlanRun.template_key == plan.key,
            PlanRun.school_id == school.id,
            PlanRun.period == str(parsed),
        )
    )
    planned = plan_items(
        session, template=plan, school=school, period=parsed, book=request.app.state.sources.book()
    )
    return render(
        request,
        "launch.html.j2",
        plan=plan,
        period=str(parsed),
        planned=planned,
        existing=existing,
        school=school,
        roles=_roles(plan),
    )


@router.post("/launch")
def do_launch(request: Request, viewer: User, form: Form, session: DB, now: Now) -> Response:
    school = managed_school(session, viewer)
    plan = _template(request, forms.text(form, "template", required=True, max_len=64))
    period = forms.text(
        form, "period", required=True, max_len=16, label=Bilingual("期间", "Period")
    )
    assert period is not None
    result = launch(
        session,
        template=plan,
        school=school,
        period=period,
        book=request.app.state.sources.book(),
        by=viewer.actor,
        now=now,
    )
    return RedirectResponse(f"/runs/{result.run.id}", status_code=303)


def _roles(
    plan: PlanTemplate | None = None, plans: dict[str, PlanTemplate] | None = None
) -> dict[str, Role]:
    roles = dict(ROLES)
    for p in ([plan] if plan else []) + list((plans or {}).values()):
        roles.update(p.roles)
    return roles


@router.get("/people")
def people(request: Request, viewer: User, session: DB) -> Response:
    school = managed_school(session, viewer)
    return render(request, "people.html.j2", **_people_page(request, session, school))


def _people_page(request: Request, session: Session, school: School) -> dict[str, Any]:
    staff = session.scalars(
        select(Person).where(Person.school_id == school.id).order_by(Person.code)
    ).all()
    return {
        "school": school,
        "staff": staff,
        "bindings": role_bindings(session, school),
        "roles": _roles(plans=_plans(request)),
        "confirm": None,
    }


@router.post("/people/bind")
def bind(request: Request, viewer: User, form: Form, session: DB, now: Now) -> Response:
    """Bind a role; first a confirmation saying who gives it up and how many open items move
    with it (nothing is preselected on the form, so nothing is given away by one click)."""
    school = managed_school(session, viewer)
    roles = _roles(plans=_plans(request))
    role = forms.text(form, "role", required=True, max_len=64, label=Bilingual("角色", "Role"))
    if role not in roles:
        raise BadInput("请选择一个角色。", "Choose a role.", back="/people")
    code = forms.text(form, "person", required=True, max_len=64, label=Bilingual("人员", "Person"))
    person = get_person(session, school, code or "")
    if not person.active:
        raise BadInput("此人已停用。", "This person is inactive.", back="/people")
    previous = role_bindings(session, school).get(role)
    if form.get("confirm") != "1":
        moving = 0
        if previous is not None and previous.id != person.id:
            moving = (
                session.scalar(
                    select(func.count(Item.id)).where(
                        Item.school_id == school.id,
                        Item.role_key == role,
                        Item.owner_id == previous.id,
                        Item.status == "open",
                    )
                )
                or 0
            )
        page = _people_page(request, session, school)
        page["confirm"] = {
            "role": role,
            "role_label": roles[role],
            "person": person,
            "previous": previous,
            "moving": moving,
        }
        return render(request, "people.html.j2", **page)
    moved = bind_role(
        session, school=school, role_key=role, person=person, now=now, actor=viewer.actor
    )
    return RedirectResponse(f"/people?bound={role}&moved={moved}#bound", status_code=303)


def _managed_item(session: Session, viewer: Viewer, item_id: int) -> Any:
    item = readable_item(session, viewer, item_id)
    require(can_manage_school(viewer, item.school_id))
    return item


@router.post("/items/{item_id}/reassign")
def do_reassign(item_id: int, viewer: User, form: Form, session: DB, now: Now) -> Response:
    item = _managed_item(session, viewer, item_id)
    code = forms.text(
        form, "to", required=True, max_len=64, label=Bilingual("新负责人", "New owner")
    )
    reason = forms.text(form, "reason", max_len=1000)
    to = get_person(session, item.run.school, code or "")
    if to.id == item.owner_id:
        raise BadInput(
            "新负责人与当前负责人相同。",
            "That person already owns this item.",
            back=f"/items/{item_id}",
        )
    settle(
        session,
        item,
        lambda: reassign(session, item=item, to=to, by=viewer.actor, now=now, reason=reason),
    )
    return RedirectResponse(f"/items/{item_id}", status_code=303)


@router.post("/items/{item_id}/waive")
def do_waive(item_id: int, viewer: User, form: Form, session: DB, now: Now) -> Response:
    item = _managed_item(session, viewer, item_id)
    reason = forms.text(
        form,
        "reason",
        required=True,
        max_len=1000,
        label=Bilingual("免除理由", "A reason for the waiver"),
    )
    assert reason is not None
    settle(
        session, item, lambda: waive(session, item=item, by=viewer.actor, now=now, reason=reason)
    )
    return RedirectResponse(f"/items/{item_id}", status_code=303)
