"""The outbox as the logistics head sees it: every message, its state, and what to do about it.

A failed or unconfirmed message can be resent (back in the queue, due now; the next delivery
run sends it, its items read again); an unconfirmed one can be marked delivered once the head
has checked with the recipient. Both are audited, and both are conditional UPDATEs, so a second
click or a race with the sender changes nothing twice. Unusable school settings (time zone,
quiet hours, a channel) are named at the top: no message of the school goes out until fixed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin import outbox as outbox_state
from houqin import school_settings
from houqin.models import Delivery, Person
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import Forbidden, WebError
from houqin.web.permissions import Viewer, can_manage_school, require
from houqin.web.render import render
from houqin.web.shared import managed_school

router = APIRouter()
STATES = ("failed", "unconfirmed", "pending", "claimed", "sending", "sent", "dropped")
PAGE = 200


@router.get("/outbox")
def outbox(request: Request, viewer: User, session: DB, status: str | None = None) -> Response:
    school = managed_school(session, viewer)
    if status is not None and status not in STATES:
        status = None
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
        counts=outbox_state.counts(session, school_id=school.id),
        problems=school_settings.problems(school),
        states=STATES,
        status=status,
        resendable=outbox_state.RESENDABLE,
        page=PAGE,
    )


def _delivery(session: Session, viewer: Viewer, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise Forbidden()
    require(can_manage_school(viewer, delivery.school_id))
    return delivery


@router.post("/outbox/{delivery_id}/resend")
def resend(
    delivery_id: int,
    viewer: User,
    form: Annotated[FormData, Depends(checked_form)],
    session: DB,
    now: Now,
) -> Response:
    delivery = _delivery(session, viewer, delivery_id)
    if not outbox_state.resend(session, delivery, now=now, by=viewer.actor):
        raise WebError(
            "只有发送失败或未确认的消息可以重新发送；此消息已在队列中或已发送。",
            "Only failed or unconfirmed messages can be resent; this one is queued or sent "
            "already.",
            status=409,
            back="/outbox",
        )
    return RedirectResponse("/outbox?resent=1", status_code=303)


@router.post("/outbox/{delivery_id}/delivered")
def delivered(
    delivery_id: int,
    viewer: User,  # before the form: nobody's body is parsed before their login is known
    form: Annotated[FormData, Depends(checked_form)],
    session: DB,
    now: Now,
) -> Response:
    delivery = _delivery(session, viewer, delivery_id)
    if not outbox_state.mark_delivered(session, delivery, now=now, by=viewer.actor):
        raise WebError(
            "只有未确认的消息可以标记为已送达。",
            "Only unconfirmed messages can be marked delivered.",
            status=409,
            back="/outbox",
        )
    return RedirectResponse("/outbox?confirmed=1", status_code=303)
