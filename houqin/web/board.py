"""The plan board: one plan run's progress by phase and by owner, its items, and sign-offs."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload
from starlette.datastructures import FormData

from houqin import audit, shared_tasks
from houqin.bilingual import Bilingual, pick
from houqin.models import AuditEvent, Item, Person, PlanRun
from houqin.plan_runs import Counts, counts_by_run
from houqin.web import forms
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import Forbidden
from houqin.web.permissions import can_manage_school, can_read_run, can_sign_off, require
from houqin.web.render import render

router = APIRouter()


def _run(session: Session, viewer: User, run_id: int) -> PlanRun:
    run = session.get(PlanRun, run_id, options=[joinedload(PlanRun.school)])
    if run is None:
        raise Forbidden()
    require(can_read_run(session, viewer, run))
    return run


@router.get("/runs/{run_id}")
def board(request: Request, run_id: int, viewer: User, session: DB, now: Now) -> Response:
    run = _run(session, viewer, run_id)
    items = list(
        session.scalars(
            select(Item)
            .where(or_(Item.run_id == run.id, Item.id.in_(shared_tasks.reaching(run.id))))
            .options(joinedload(Item.owner))
            .order_by(Item.position)
        ).unique()
    )
    by_phase: dict[str, Counts] = defaultdict(Counts)
    by_owner: dict[str, Counts] = defaultdict(Counts)
    phases: dict[str, list[Item]] = defaultdict(list)
    total = Counts()
    for item in items:
        phase = pick(item.phase_zh, item.phase_en, request.state.lang)
        by_phase[phase].add(item, now)
        by_owner[item.owner.name].add(item, now)
        phases[phase].append(item)
        total.add(item, now)
    signoffs = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.run_id == run.id, AuditEvent.action == "plan.signoff")
        .order_by(AuditEvent.id)
    ).all()
    return render(
        request,
        "board.html.j2",
        run=run,
        total=total,
        by_phase=by_phase,
        by_owner=sorted(by_owner.items(), key=lambda kv: (-kv[1].overdue, -kv[1].open, kv[0])),
        phases=phases,
        now=now,
        tz=run.school.timezone,
        signoffs=signoffs,
        can_sign_off=can_sign_off(viewer, run),
        can_manage=can_manage_school(viewer, run.school_id),
        people=dict(
            session.execute(
                select(Person.code, Person.name).where(Person.school_id == run.school_id)
            )
            .tuples()
            .all()
        ),
    )


@router.post("/runs/{run_id}/signoff")
def sign_off(
    run_id: int,
    viewer: User,
    form: Annotated[FormData, Depends(checked_form)],
    session: DB,
    now: Now,
) -> Response:
    """Leadership signs the run off: an audit event with their note, shown on the board."""
    run = _run(session, viewer, run_id)
    require(can_sign_off(viewer, run))
    note = forms.text(form, "note", max_len=1000, label=Bilingual("签批意见", "The note"))
    counts = counts_by_run(session, [run.id], now)[run.id]
    audit.record(
        session,
        actor=viewer.actor,
        action="plan.signoff",
        at=now,
        school_id=run.school_id,
        run_id=run.id,
        note=note,
        done=counts.done,
        open=counts.open,
        overdue=counts.overdue,
    )
    return RedirectResponse(f"/runs/{run.id}#signoff", status_code=303)
