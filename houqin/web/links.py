"""Reminder links: ``/l/{token}`` opens one item for its owner without a password.

GET shows the item (and changes nothing, so mail scanners that pre-fetch links are harmless);
POST ticks it off and consumes the link in the same transaction: if the tick is refused, the
link stays usable. An expired, forged, reused or outdated link (the item moved to someone else)
gets a clear page and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin.links import LinkClaim, read_token, use_token
from houqin.models import Item, Person, UsedLink
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now
from houqin.web.errors import WebError
from houqin.web.render import render
from houqin.web.staff import item_context
from houqin.web.ticks import complete

router = APIRouter()


def _claimed(
    request: Request, session: Session, token: str, now: datetime
) -> tuple[LinkClaim, Item, Person]:
    claim = read_token(request.app.state.settings, token, now=now)
    item = session.get(Item, claim.item_id)
    person = session.get(Person, claim.person_id)
    if item is None or person is None or not person.active:
        raise WebError("链接无效。", "This link is not valid.", back="/login")
    if item.owner_id != person.id:
        raise WebError(
            "此事项已转交给其他人，这个链接不再有效。请登录查看。",
            "This item now belongs to someone else, so the link no longer works. Log in to see it.",
            status=410,
            back="/login",
        )
    if session.scalar(select(UsedLink.id).where(UsedLink.nonce == claim.nonce)) is not None:
        raise WebError(
            "这个链接已经使用过了（每个链接只能用一次）。请登录查看。",
            "This link was already used (each link works once). Log in to see it.",
            status=410,
            back="/login",
        )
    return claim, item, person


@router.get("/l/{token}")
def open_link(request: Request, token: str, session: DB, now: Now) -> Response:
    _, item, person = _claimed(request, session, token, now)
    return render(
        request,
        "link.html.j2",
        token=token,
        person=person,
        finished=False,
        **item_context(request, session, None, item, now),
    )


@router.post("/l/{token}")
def tick_by_link(
    request: Request,
    token: str,
    form: Annotated[FormData, Depends(checked_form)],
    session: DB,
    now: Now,
) -> Response:
    claim, item, person = _claimed(request, session, token, now)
    use_token(session, claim, now=now)  # a concurrent second use fails here, on the UNIQUE nonce
    complete(request, session, item, person, form, now)
    session.flush()
    return render(
        request,
        "link.html.j2",
        token=token,
        person=person,
        finished=True,
        **item_context(request, session, None, item, now),
    )
