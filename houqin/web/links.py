"""Reminder links: ``/l/{token}`` opens one item, without a password, for the person the
message went to: its owner (to tick it off), or a supervisor or leader it was escalated to (a
督办: to follow it up, see its status and evidence, remind the owner now, and, for the school's
logistics head, reassign or waive it).

GET shows the item (and changes nothing, so mail scanners that pre-fetch links are harmless);
POST ticks it off and consumes the link in the same transaction: if the tick is refused, the
link stays usable and the form comes back with what was typed. A used link shows what was
recorded, so a guard whose phone lost the reply can see that it was saved. Nobody who came by
a link is sent to a login page.

This is the busiest write in Houqin (a whole district ticking off from its phones), so it reads
item, plan run, school, template title and person in one query and answers with the short page
the phone needs, not the full item page with its history.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager
from starlette.datastructures import FormData

from houqin.bilingual import Bilingual
from houqin.clock import as_local
from houqin.items import (
    Oversight,
    get_item,
    nudge_owner,
    open_dependencies,
    oversight,
    reassign,
    waive,
)
from houqin.links import LinkClaim, LinkError, read_token, use_token
from houqin.models import Evidence, Item, Person, PlanRun, UsedLink
from houqin.people import get_person
from houqin.web import forms, uploads
from houqin.web.csrf import checked_form, checked_upload
from houqin.web.deps import DB, Now
from houqin.web.errors import BadInput, Forbidden, FormRejected, WebError
from houqin.web.render import render
from houqin.web.shared import apply_completion, form_again, read_completion, settle

router = APIRouter()


def signed_claim(request: Request, token: str, now: Now) -> LinkClaim:
    """The link's signature and age, checked before a byte of its form is read."""
    return read_token(request.app.state.settings, token, now=now)


SignedLink = Annotated[LinkClaim, Depends(signed_claim)]
Upload = Annotated[FormData, Depends(checked_upload)]
Form = Annotated[FormData, Depends(checked_form)]


def _claimed(session: Session, claim: LinkClaim) -> tuple[Item, Person, bool]:
    """The link's item and person, and whether the link was used: one query."""
    row = session.execute(
        select(Item, Person, UsedLink.id)
        .join(Item.run)
        .join(PlanRun.school)
        .join(PlanRun.template)
        .join(Person, Person.id == claim.person_id)
        .outerjoin(UsedLink, UsedLink.nonce == claim.nonce)
        .where(Item.id == claim.item_id)
        .options(
            contains_eager(Item.run).contains_eager(PlanRun.school),
            contains_eager(Item.run).contains_eager(PlanRun.template),
        )
    ).first()
    item, person, used = row if row is not None else (None, None, None)
    if item is None or person is None or not person.active:
        raise WebError("链接无效。", "This link is not valid.")
    return item, person, used is not None


def _standing(session: Session, item: Item, person: Person) -> Oversight | None:
    """None for the owner; the oversight of a supervisor or leader; refused for anyone else
    (the owner's link after the item moved to someone else)."""
    if item.owner_id == person.id:
        return None
    over = oversight(session, item, person)
    if over is None:
        owner = session.get(Person, item.owner_id)
        raise WebError(
            f"此事项已转交给{owner.name if owner else '其他人'}，这个链接不再由您办理。"
            "无需操作；如有疑问请联系后勤主任。",
            f"This item now belongs to {owner.name if owner else 'someone else'}, so this link "
            "is no longer yours to act on. Nothing to do; ask the logistics head if unsure.",
            status=410,
        )
    return over


def _page(
    request: Request, session: Session, item: Item, person: Person, token: str, now: datetime
) -> dict[str, Any]:
    """What the link page shows: the item, its plan, what it waits for, what was recorded."""
    evidence = list(
        session.scalars(select(Evidence).where(Evidence.item_id == item.id).order_by(Evidence.id))
    )
    data_dir = request.app.state.settings.data_dir
    photos = [e for e in evidence if e.kind == "photo"]
    over = _standing(session, item, person)
    owner = session.get(Person, item.owner_id)
    staff = (
        sorted(
            session.scalars(
                select(Person).where(Person.school_id == item.school_id, Person.active.is_(True))
            ),
            key=lambda p: p.name,
        )
        if over is not None and over.manages
        else []
    )
    return {
        "item": item,
        "tz": item.run.school.timezone,
        "now": now,
        "token": token,
        "person": person,
        "owner": owner,
        "oversight": over,
        "staff": staff,
        "plan_title": Bilingual(item.run.template.title_zh, item.run.template.title_en),
        "open_dependencies": open_dependencies(session, item),
        "evidence": [e for e in evidence if e.kind != "photo"],
        "photos": [(e, uploads.resolve(data_dir, e.path, thumb=True) is not None) for e in photos],
        "photo_url": lambda evidence_id: f"/l/{token}/photos/{evidence_id}",
        "by_name": item.completed_by.name if item.completed_by else "",
        "used": False,
        "finished": False,
        "notice": None,
    }


@router.get("/l/{token}")
def open_link(request: Request, token: str, claim: SignedLink, session: DB, now: Now) -> Response:
    item, person, used = _claimed(session, claim)
    page = _page(request, session, item, person, token, now)
    page["used"] = used
    return render(request, "link.html.j2", **page)


@router.post("/l/{token}")
def tick_by_link(
    request: Request, token: str, claim: SignedLink, form: Upload, session: DB, now: Now
) -> Response:
    item, person, used = _claimed(session, claim)
    if item.owner_id != person.id or item.status != "open" or used:
        # a follow-up link, a moved item, or what was recorded: the full page, never a tick
        page = _page(request, session, item, person, token, now)
        if page["oversight"] is not None:
            raise Forbidden(
                "督办链接不能代为完成此事项；可以提醒负责人。",
                "A follow-up link cannot complete the item; remind the owner instead.",
            )
        page["used"] = True
        return render(request, "link.html.j2", **page)
    try:
        done = read_completion(session, item, form)
    except FormRejected as refused:  # nothing written, the link still works
        page = _page(request, session, item, person, token, now)
        return render(request, "link.html.j2", status_code=400, **page, **form_again(refused))
    try:
        use_token(session, claim, now=now)  # a concurrent second use waits here, then fails
    except LinkError:  # the other tap won: show what it recorded
        session.rollback()
        page = _page(request, session, get_item(session, item.id), person, token, now)
        page["used"] = True
        return render(request, "link.html.j2", **page)
    apply_completion(request, session, item, person, done, now)
    # the short answer the phone needs, from what was just written (no reading back)
    evidence = [SimpleNamespace(kind="note", note=done.note)] if done.note else []
    if done.number is not None:
        evidence.append(SimpleNamespace(kind="number", number=done.number))
    return render(
        request,
        "link.html.j2",
        item=item,
        tz=item.run.school.timezone,
        now=now,
        token=token,
        person=person,
        owner=person,
        oversight=None,
        staff=[],
        plan_title=Bilingual(item.run.template.title_zh, item.run.template.title_en),
        open_dependencies=[],
        evidence=evidence,
        photos=[],
        photos_added=len(done.photos),
        photo_url=None,
        by_name=person.name,
        used=True,
        finished=True,
        notice=None,
    )


def _overseer(
    request: Request, session: Session, claim: LinkClaim, token: str, now: datetime
) -> tuple[Item, Person, Oversight]:
    """The item and person of a follow-up (督办) link; refused for the owner's own link."""
    item, person, used = _claimed(session, claim)
    over = _standing(session, item, person)
    if over is None:
        raise Forbidden()
    request.state.link_used = used
    return item, person, over


@router.post("/l/{token}/remind")
def remind_owner(
    request: Request, token: str, claim: SignedLink, form: Form, session: DB, now: Now
) -> Response:
    """督办: queue a reminder to the owner now (once a day per item); the link stays usable."""
    item, person, _ = _overseer(request, session, claim, token, now)
    day = f"{as_local(now, item.run.school.timezone):%Y-%m-%d}"
    queued = nudge_owner(session, item=item, by=person, now=now, day=day)
    page = _page(request, session, item, person, token, now)
    owner = page["owner"].name if page["owner"] else ""
    page["notice"] = (
        Bilingual(f"已安排提醒{owner}，随下一批消息发出。", f"{owner} will be reminded shortly.")
        if queued
        else Bilingual(f"今天已提醒过{owner}，未重复发送。", f"{owner} was already reminded today.")
    )
    return render(request, "link.html.j2", **page)


def _manager(
    request: Request, session: Session, claim: LinkClaim, token: str, now: datetime
) -> tuple[Item, Person]:
    item, person, over = _overseer(request, session, claim, token, now)
    if not over.manages:
        raise Forbidden()
    if request.state.link_used:
        raise WebError(
            "这个督办链接已经用于转交或免除，请打开最新的督办消息。",
            "This follow-up link was already used to reassign or waive; open the latest one.",
            status=410,
        )
    use_token(session, claim, now=now)
    return item, person


@router.post("/l/{token}/reassign")
def reassign_by_link(
    request: Request, token: str, claim: SignedLink, form: Form, session: DB, now: Now
) -> Response:
    item, person = _manager(request, session, claim, token, now)
    code = forms.text(
        form, "to", required=True, max_len=64, label=Bilingual("新负责人", "New owner")
    )
    reason = forms.text(form, "reason", max_len=1000, label=Bilingual("原因", "The reason"))
    to = get_person(session, item.run.school, code or "")
    if to.id == item.owner_id:
        raise BadInput("新负责人与当前负责人相同。", "That person already owns this item.")
    settle(
        session,
        item,
        lambda: reassign(session, item=item, to=to, by=person.code, now=now, reason=reason),
    )
    page = _page(request, session, item, person, token, now)
    page["notice"] = Bilingual(f"已转交给{to.name}。", f"Reassigned to {to.name}.")
    return render(request, "link.html.j2", **page)


@router.post("/l/{token}/waive")
def waive_by_link(
    request: Request, token: str, claim: SignedLink, form: Form, session: DB, now: Now
) -> Response:
    item, person = _manager(request, session, claim, token, now)
    reason = forms.text(
        form, "reason", required=True, max_len=1000, label=Bilingual("免除理由", "A reason")
    )
    assert reason is not None
    settle(session, item, lambda: waive(session, item=item, by=person.code, now=now, reason=reason))
    page = _page(request, session, item, person, token, now)
    page["notice"] = Bilingual("已免除。", "Waived.")
    return render(request, "link.html.j2", **page)


@router.get("/l/{token}/photos/{evidence_id}")
def link_photo(
    request: Request, token: str, evidence_id: int, claim: SignedLink, session: DB
) -> Response:
    """A photo of the link's own item, for whoever holds the link (no login)."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.kind != "photo" or evidence.item_id != claim.item_id:
        raise Forbidden()
    found = uploads.resolve(request.app.state.settings.data_dir, evidence.path, thumb=True)
    if found is None:
        raise Forbidden("照片文件不在照片库中。", "The photo file is not in the photo store.")
    path, media = found
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private"})
