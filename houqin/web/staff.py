"""Staff pages: "my items" by urgency, one item with its steps, evidence and history, photos."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from houqin import recurrence
from houqin.bilingual import Bilingual
from houqin.clock import as_local
from houqin.models import Evidence, Item, Person, PlanRun
from houqin.web import uploads
from houqin.web.deps import DB, Now, User
from houqin.web.errors import Forbidden
from houqin.web.permissions import (
    Viewer,
    require_role,
)
from houqin.web.render import render
from houqin.web.shared import item_context, readable_item

router = APIRouter()
RECENT = timedelta(days=14)


@dataclass
class Bucket:
    key: str
    name: Bilingual
    items: list[Item] = field(default_factory=list)


def buckets(items: list[Item], now: datetime, tz: str) -> list[Bucket]:
    """Overdue, due today, this week (to Sunday), later, and recently done."""
    today = as_local(now, tz).date()
    week_end = today + timedelta(days=6 - today.weekday())
    out = {
        b.key: b
        for b in (
            Bucket("overdue", Bilingual("已逾期", "Overdue")),
            Bucket("today", Bilingual("今天到期", "Due today")),
            Bucket("week", Bilingual("本周", "This week")),
            Bucket("later", Bilingual("以后", "Later")),
            Bucket("done", Bilingual("最近完成", "Recently done")),
        )
    }
    for item in items:
        if item.status != "open":
            out["done"].items.append(item)
            continue
        day = as_local(item.due_at, tz).date()
        if item.due_at < now:
            out["overdue"].items.append(item)
        elif day == today:
            out["today"].items.append(item)
        elif day <= week_end:
            out["week"].items.append(item)
        else:
            out["later"].items.append(item)
    return list(out.values())


def _items_of(session: Session, owner_ids: list[int], now: datetime) -> list[Item]:
    return list(
        session.scalars(
            select(Item)
            .where(
                Item.owner_id.in_(owner_ids),
                or_(Item.status == "open", Item.completed_at >= now - RECENT),
                recurrence.shown_by(now),
            )
            .options(joinedload(Item.owner), joinedload(Item.run).joinedload(PlanRun.template))
            .order_by(Item.due_at, Item.id)
        ).unique()
    )


@router.get("/my")
def my_items(request: Request, viewer: User, session: DB, now: Now) -> Response:
    if viewer.person_id is None:
        return render(request, "my_items.html.j2", buckets=[], team=False, no_person=True, now=now)
    items = _items_of(session, [viewer.person_id], now)
    tz = viewer.timezone
    return render(
        request,
        "my_items.html.j2",
        buckets=buckets(items, now, tz),
        team=False,
        no_person=False,
        now=now,
    )


@router.get("/team")
def team_items(request: Request, viewer: User, session: DB, now: Now) -> Response:
    require_role(viewer, "supervisor")
    team = list(session.scalars(select(Person.id).where(Person.supervisor_id == viewer.person_id)))
    items = _items_of(session, team, now) if team else []
    tz = viewer.timezone
    return render(
        request,
        "my_items.html.j2",
        buckets=buckets(items, now, tz),
        team=True,
        no_person=False,
        now=now,
    )


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, viewer: User, session: DB, now: Now) -> Response:
    item = readable_item(session, viewer, item_id)
    return render(request, "item.html.j2", **item_context(request, session, viewer, item, now))


@router.get("/photos/{evidence_id}")
def photo(request: Request, evidence_id: int, viewer: User, session: DB) -> Response:
    return _send_photo(request, evidence_id, viewer, session, thumb=False)


@router.get("/photos/{evidence_id}/thumb")
def photo_thumb(request: Request, evidence_id: int, viewer: User, session: DB) -> Response:
    return _send_photo(request, evidence_id, viewer, session, thumb=True)


def _send_photo(
    request: Request, evidence_id: int, viewer: Viewer, session: Session, *, thumb: bool
) -> Response:
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.kind != "photo":
        raise Forbidden()
    readable_item(session, viewer, evidence.item_id)
    found = uploads.resolve(request.app.state.settings.data_dir, evidence.path, thumb=thumb)
    if found is None:
        raise Forbidden("照片文件不在照片库中。", "The photo file is not in the photo store.")
    path, media = found
    return FileResponse(
        path,
        media_type=media,
        headers={"Cache-Control": "private, max-age=86400", "Content-Disposition": "inline"},
    )
