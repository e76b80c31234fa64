"""Reminder links: ``/l/{token}`` opens one item for its owner without a password.

GET shows the item (and changes nothing, so mail scanners that pre-fetch links are harmless);
POST ticks it off and consumes the link in the same transaction: if the tick is refused, the
link stays usable. An expired, forged, reused or outdated link (the item moved to someone else)
gets a clear page and changes nothing.

This is the busiest write in Houqin (a whole district ticking off from its phones), so it reads
item, plan run, school, template title and person in one query and answers with the short page
the phone needs, not the full item page with its history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager
from starlette.datastructures import FormData

from houqin.bilingual import Bilingual
from houqin.items import open_dependencies
from houqin.links import LinkClaim, LinkError, read_token, use_token
from houqin.models import Item, Person, PlanRun, UsedLink
from houqin.web.csrf import checked_upload
from houqin.web.deps import DB, Now
from houqin.web.errors import WebError
from houqin.web.render import render
from houqin.web.shared import complete

router = APIRouter()


def signed_claim(request: Request, token: str, now: Now) -> LinkClaim:
    """The link's signature and age, checked before a byte of its form is read."""
    return read_token(request.app.state.settings, token, now=now)


SignedLink = Annotated[LinkClaim, Depends(signed_claim)]


def _claimed(session: Session, claim: LinkClaim) -> tuple[Item, Person]:
    row = session.execute(
        select(Item, Person)
        .join(Item.run)
        .join(PlanRun.school)
        .join(PlanRun.template)
        .join(Person, Person.id == claim.person_id)
        .where(Item.id == claim.item_id)
        .options(
            contains_eager(Item.run).contains_eager(PlanRun.school),
            contains_eager(Item.run).contains_eager(PlanRun.template),
        )
    ).first()
    item, person = row if row is not None else (None, None)
    if item is None or person is None or not person.active:
        raise WebError("链接无效。", "This link is not valid.", back="/login")
    if item.owner_id != person.id:
        raise WebError(
            "此事项已转交给其他人，这个链接不再有效。请登录查看。",
            "This item now belongs to someone else, so the link no longer works. Log in to see it.",
            status=410,
            back="/login",
        )
    return item, person


def _used() -> WebError:
    return WebError(
        "这个链接已经使用过了（每个链接只能用一次）。请登录查看。",
        "This link was already used (each link works once). Log in to see it.",
        status=410,
        back="/login",
    )


def _page(session: Session, item: Item, now: datetime) -> dict[str, Any]:
    """What the link page shows: the item, its plan, and what it waits for."""
    return {
        "item": item,
        "tz": item.run.school.timezone,
        "now": now,
        "plan_title": Bilingual(item.run.template.title_zh, item.run.template.title_en),
        "open_dependencies": open_dependencies(session, item),
    }


@router.get("/l/{token}")
def open_link(request: Request, token: str, claim: SignedLink, session: DB, now: Now) -> Response:
    item, person = _claimed(session, claim)
    if session.scalar(select(UsedLink.id).where(UsedLink.nonce == claim.nonce)) is not None:
        raise _used()
    page = _page(session, item, now)
    return render(request, "link.html.j2", token=token, person=person, finished=False, **page)


@router.post("/l/{token}")
def tick_by_link(
    request: Request,
    token: str,
    claim: SignedLink,
    form: Annotated[FormData, Depends(checked_upload)],
    session: DB,
    now: Now,
) -> Response:
    item, person = _claimed(session, claim)
    try:
        use_token(session, claim, now=now)  # a concurrent second use waits here, then fails
    except LinkError:
        raise _used() from None
    complete(request, session, item, person, form, now)
    page = _page(session, item, now)
    return render(request, "link.html.j2", token=token, person=person, finished=True, **page)
