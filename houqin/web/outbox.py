"""The outbox as the logistics head sees it: every message, its state, and a retry button.

A retry only puts a failed or unconfirmed delivery back in the queue (status ``pending``,
due now); the sweep's delivery loop sends it. The conditional UPDATE means a retry racing the
sender, or a second click, changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin.delivery import RETRYABLE, requeue
from houqin.models import Delivery, Person
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import Forbidden, WebError
from houqin.web.permissions import Viewer, can_manage_school, require
from houqin.web.render import render
from houqin.web.shared import managed_school

router = APIRouter()
STATES = ("failed", "unconfirmed", "pending", "sending", "sent")
PAGE = 200


def retry_delivery(session: Session, delivery: Delivery, *, now: datetime, actor: str) -> bool:
    """Queue a failed or unconfirmed delivery again; False if it was not in such a state."""
    return requeue(session, delivery, now=now, by=actor)


@router.get("/outbox")
def outbox(request: Request, viewer: User, session: DB, status: str | None = None) -> Response:
    school = managed_school(session, viewer)
    if status is not None and status not in STATES:
        status = None
    counts: dict[str, int] = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.school_id == school.id)
            .group_by(Delivery.status)
        )
        .tuples()
        .all()
    )
    stmt = (
        select(Delivery, Person.name)
        .join(Person, Person.id == Delivery.recipient_id)
        .where(Delivery.school_id == school.id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(PAGE)
    )
    if status:
        stmt = stmt.where(Delivery.status == status)
    return render(
        request,
        "outbox.html.j2",
        school=school,
        rows=session.execute(stmt).all(),
        counts=counts,
        states=STATES,
        status=status,
        retryable=RETRYABLE,
        page=PAGE,
    )


def _delivery(session: Session, viewer: Viewer, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise Forbidden()
    require(can_manage_school(viewer, delivery.school_id))
    return delivery


@router.post("/outbox/{delivery_id}/retry")
def retry(
    delivery_id: int,
    viewer: User,
    form: Annotated[FormData, Depends(checked_form)],
    session: DB,
    now: Now,
) -> Response:
    delivery = _delivery(session, viewer, delivery_id)
    if not retry_delivery(session, delivery, now=now, actor=viewer.actor):
        raise WebError(
            "只有发送失败或未确认的消息可以重试；此消息已在队列中或已发送。",
            "Only failed or unconfirmed messages can be retried; this one is queued "
            "or sent already.",
            status=409,
            back="/outbox",
        )
    return RedirectResponse("/outbox?retried=1", status_code=303)
