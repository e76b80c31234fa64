"""The plan board: one plan run's progress by phase and by owner, its items, and sign-offs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from starlette.datastructures import FormData

from houqin import audit
from houqin.bilingual import Bilingual, pick
from houqin.models import AuditEvent, Item, Person, PlanRun
from houqin.web import forms
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import Forbidden
from houqin.web.permissions import can_manage_school, can_read_run, can_sign_off, require
from houqin.web.render import render

router = APIRouter()


@dataclass
class Counts:
    total: int = 0
    done: int = 0
    late: int = 0
    waived: int = 0
    open: int = 0
    overdue: int = 0

    def add(self, item: Item, now: datetime) -> None:
        self.count(item.status, item.late, item.due_at, now)

    def count(self, status: str, late: bool | None, due_at: datetime, now: datetime) -> None:
        self.total += 1
        if status == "done":
            self.done += 1
            self.late += bool(late)
        elif status == "waived":
            self.waived += 1
        else:
            self.open += 1
            self.overdue += due_at < now

    @property
    def percent(self) -> int:
        """Share settled (done or waived), rounded down so 99.6% never shows as 100%."""
        return (self.done + self.waived) * 100 // self.total if self.total else 0


def progress(session: Session, run_ids: list[int], now: datetime) -> dict[int, Counts]:
    counts: dict[int, Counts] = defaultdict(Counts)
    if run_ids:
        rows = session.execute(
            select(Item.run_id, Item.status, Item.late, Item.due_at).where(Item.run_id.in_(run_ids))
        )
        for run_id, status, late, due_at in rows:
            counts[run_id].count(status, late, due_at, now)
    return counts


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
            .where(Item.run_id == run.id)
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
    form: Annotated[FormData, Depends(checked_form)],
    viewer: User,
    session: DB,
    now: Now,
) -> Response:
    """Leadership signs the run off: an audit event with their note, shown on the board."""
    run = _run(session, viewer, run_id)
    require(can_sign_off(viewer, run))
    note = forms.text(form, "note", max_len=1000, label=Bilingual("签批意见", "The note"))
    counts = progress(session, [run.id], now)[run.id]
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
