"""Working offline: the service worker, the app manifest, and the sync endpoints a phone sends
its queued tick-offs to when the connection returns (static/offline.js, static/sw.js).

Every queued submission carries the id the phone made for it (a UUID); ``houqin.submissions``
keeps the first reply per id, so a retry after a lost reply records nothing twice. A submission
that meets a changed item (reassigned, completed by someone else, waived, or its reminder link
expired or used meanwhile) is a conflict: the item is left as it is, the person is told what
happened, and the evidence they gathered is kept on the item for its owner and the head.

Like every POST: the viewer (login or signed link) is known before the form is read.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin.bilingual import Bilingual
from houqin.clock import as_local
from houqin.errors import UserError
from houqin.items import tick, untick
from houqin.links import EXPIRED, LinkClaim, LinkError, read_token, use_token
from houqin.models import AuditEvent, Item, Person, UsedLink
from houqin.submissions import answer, check_client_id, claim, keep_evidence
from houqin.web import csrf, forms, uploads
from houqin.web.csrf import checked_upload
from houqin.web.deps import DB, Now, User
from houqin.web.errors import BadInput, Forbidden, WebError
from houqin.web.permissions import can_work_item
from houqin.web.shared import complete, settle

router = APIRouter()
STATIC = Path(__file__).parent / "static"
Upload = Annotated[FormData, Depends(checked_upload)]
NO_CACHE = {"Cache-Control": "no-cache"}
MANIFEST = {
    "name": "后勤 Houqin",
    "short_name": "后勤",
    "lang": "zh-CN",
    "start_url": "/my",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#0b5cad",
    "icons": [
        {"src": f"/static/icon-{px}.png", "sizes": f"{px}x{px}", "type": "image/png"}
        for px in (192, 512)
    ],
}


@router.get("/sw.js")
def service_worker() -> Response:
    """From the root, so its scope is the whole site; never cached, so an update is seen."""
    return FileResponse(STATIC / "sw.js", media_type="text/javascript", headers=NO_CACHE)


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    body = json.dumps(MANIFEST, ensure_ascii=False)
    return Response(body, media_type="application/manifest+json", headers=NO_CACHE)


@router.get("/sync/csrf")
def sync_token(request: Request) -> Response:
    """A fresh form token for a queued submission (the page's may be a day old by now)."""
    return JSONResponse({"csrf": csrf.token(request)}, headers={"Cache-Control": "no-store"})


def _reply(
    outcome: str, what: Bilingual, kept: Bilingual | None = None, **more: Any
) -> dict[str, Any]:
    reply = {"outcome": outcome, "zh": what.zh, "en": what.label("en"), **more}
    if kept is not None:
        reply["kept_zh"], reply["kept_en"] = kept.zh, kept.label("en")
    return reply


def _done(outcome: str, item: Item, step: int | None) -> dict[str, Any]:
    if step is not None:
        return _reply("step", Bilingual(f"步骤 {step} 已记录。", f"Step {step} recorded."))
    return _reply("done", Bilingual("已完成，已记录。", "Done and recorded."), result=outcome)


def _conflict(item: Item, person: Person, why: str, tz: str) -> Bilingual | None:
    """What changed under the phone, or None if the submission can go ahead."""
    if why == "reassigned":
        name = item.owner.name
        return Bilingual(
            f"此事项已转交给{name}，您的离线操作没有记录为完成。",
            f"This item was reassigned to {name}; your offline action was not recorded.",
        )
    if item.status == "done":
        who = item.completed_by.name if item.completed_by else ""
        at = as_local(item.completed_at, tz).strftime("%m-%d %H:%M") if item.completed_at else ""
        if item.completed_by_id == person.id:
            who_zh, who_en = "您（另一次提交）", "you (in another submission)"
        else:
            who_zh, who_en = who, who or "someone else"
        return Bilingual(
            f"此事项已由{who_zh}于 {at} 完成，您的离线操作没有重复记录。",
            f"This item was already completed by {who_en} at {at}; nothing was recorded twice.",
        )
    if item.status == "waived":
        return Bilingual(
            f"此事项已被免除（理由：{item.waive_reason}），您的离线操作没有记录。",
            f"This item was waived ({item.waive_reason}); your offline action was not recorded.",
        )
    if why == "expired":
        return Bilingual(
            "提醒链接在同步前已过期，事项没有标记为完成。请登录后查看。",
            "The reminder link expired before the phone could send this; the item was not "
            "marked done. Log in to see it.",
        )
    if why == "used":
        return Bilingual(
            "这个提醒链接已经用过了，事项没有再次记录。",
            "This reminder link was already used; nothing was recorded again.",
        )
    return None


def _kept(
    request: Request,
    session: Session,
    item: Item,
    person: Person,
    form: FormData,
    now: datetime,
    reason: str,
    client_id: str,
) -> Bilingual:
    """Attach what the person gathered to the item, without changing it."""
    try:
        note = forms.text(form, "note", max_len=2000)
        number = forms.number(form, "number", label=Bilingual("数字", "The number"))
        photos = uploads.read_photos(forms.files(form, "photos"))
    except WebError as exc:
        return Bilingual(
            f"填写的内容无法保存：{exc.text.zh}",
            f"What was filled in could not be kept: {exc.text.label('en')}",
        )
    if note is None and number is None and not photos:
        return Bilingual("没有需要保留的照片或说明。", "There were no photos or notes to keep.")
    paths = uploads.store(
        request.app.state.settings.data_dir,
        item.run.school.code,
        item.id,
        photos,
        request.state.on_rollback,
    )
    count = keep_evidence(
        session,
        item=item,
        by=person,
        now=now,
        note=note,
        number=number,
        photos=paths,
        reason=reason,
        client_id=client_id,
    )
    return Bilingual(
        f"您填写的内容和照片（共 {count} 项凭证）已附在此事项上，负责人和后勤主任可以看到。",
        f"What you filled in and your photos ({count} pieces of evidence) were attached to the "
        "item, where its owner and the logistics head can see them.",
    )


def _submit(
    request: Request,
    session: Session,
    item: Item,
    person: Person,
    form: FormData,
    now: datetime,
    *,
    client_id: str,
    why: str,
    use_link: LinkClaim | None = None,
) -> dict[str, Any]:
    """Act on the item, or report the conflict and keep the evidence; the reply is stored."""
    step = forms.integer(form, "step", required=False)
    earlier = claim(session, client_id, item_id=item.id, actor=person.code, now=now)
    if earlier is not None:
        return {**earlier.reply, "repeat": True}
    tz = item.run.school.timezone
    if use_link is not None and why == "" and _link_used(session, use_link):
        why = "used"
    changed = _conflict(item, person, why, tz)
    if changed is None:
        try:
            with session.begin_nested():
                if use_link is not None:
                    use_token(session, use_link, now=now)
                if step is not None:
                    reply = _done(_step(session, item, person, form, now, step), item, step)
                else:
                    reply = _done(_complete(request, session, item, person, form, now), item, None)
        except (WebError, UserError) as exc:
            session.refresh(item)
            text = exc.text if exc.text is not None else Bilingual(str(exc), str(exc))
            if isinstance(exc, LinkError):  # used a moment ago by another request
                why = "used"
            changed = _conflict(item, person, why, tz)
            if changed is None:  # the item is as it was: the submission itself was refused
                reply = _reply("rejected", text)
                answer(session, client_id, "rejected", reply)
                return reply
    if changed is not None:
        kept = None
        if step is None:
            kept = _kept(request, session, item, person, form, now, why or item.status, client_id)
        reply = _reply("conflict", changed, kept)
    answer(session, client_id, reply["outcome"], reply)
    return reply


def _complete(
    request: Request, session: Session, item: Item, person: Person, form: FormData, now: datetime
) -> str:
    """Completing from a queued form: the very code the tick routes use, so a rule of theirs
    (evidence needed, sub-steps first) holds for a phone's queue too."""
    return complete(request, session, item, person, form, now)


def _step(
    session: Session, item: Item, person: Person, form: FormData, now: datetime, step: int
) -> str:
    done = forms.text(form, "done", required=True, max_len=10)
    if done not in ("0", "1") or not 1 <= step <= len(item.steps):
        raise BadInput("没有这个步骤。", "No such step.")
    action = tick if done == "1" else untick
    return settle(session, item, lambda: action(session, item=item, by=person, now=now, step=step))


def _link_used(session: Session, link: LinkClaim) -> bool:
    return session.scalar(select(UsedLink.id).where(UsedLink.nonce == link.nonce)) is not None


def _was_owner(session: Session, item: Item, person: Person) -> bool:
    """The item was this person's before a reassignment (so their evidence belongs to it)."""
    rows = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.item_id == item.id, AuditEvent.action == "item.reassign"
        )
    )
    return any(details.get("from") == person.code for details in rows)


@router.post("/sync/items/{item_id}")
def sync_item(
    request: Request, item_id: int, viewer: User, form: Upload, session: DB, now: Now
) -> Response:
    item = session.get(Item, item_id)
    person = session.get(Person, viewer.person_id) if viewer.person_id else None
    if item is None or person is None:
        raise Forbidden()
    why = ""
    if not can_work_item(viewer, item):
        if not _was_owner(session, item, person):
            raise Forbidden()
        why = "reassigned"
    client_id = _client_id(form)
    return JSONResponse(
        _submit(request, session, item, person, form, now, client_id=client_id, why=why)
    )


def link_claim(request: Request, token: str, now: Now) -> tuple[LinkClaim, bool]:
    """The link's signature, checked before its form is read; an expired link is still known
    (its signature holds), so what was gathered while it was valid can be kept."""
    settings = request.app.state.settings
    try:
        return read_token(settings, token, now=now), False
    except LinkError as exc:
        if exc.text != EXPIRED:
            raise
    return read_token(settings, token, now=now, ttl_days=3650), True


@router.post("/sync/l/{token}")
def sync_link(
    request: Request,
    token: str,
    signed: Annotated[tuple[LinkClaim, bool], Depends(link_claim)],
    form: Upload,
    session: DB,
    now: Now,
) -> Response:
    link, expired = signed
    item = session.get(Item, link.item_id)
    person = session.get(Person, link.person_id)
    if item is None or person is None or not person.active:
        raise Forbidden()
    why = "expired" if expired else ("reassigned" if item.owner_id != person.id else "")
    client_id = _client_id(form)
    reply = _submit(
        request,
        session,
        item,
        person,
        form,
        now,
        client_id=client_id,
        why=why,
        use_link=None if why else link,
    )
    return JSONResponse(reply)


def _client_id(form: FormData) -> str:
    try:
        return check_client_id(forms.text(form, "client_id", max_len=64))
    except UserError:
        raise BadInput("提交编号格式不正确。", "Malformed submission id.") from None
