"""What several views share, so that views never import each other (datasette keeps its shared
view helpers in one module too): the item or school a viewer may act on, settling a race on an
item, and completing an item from a posted form.

Two people acting on one item at once: the ledger core settles it with a conditional UPDATE on
``Item.revision`` and refuses the loser. Here the loser's action is tried again on the fresh row,
because ticking a step is commutative: both steps end up ticked, with two audit events.
Completing an item someone else just completed is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from starlette.datastructures import FormData

from houqin import audit
from houqin.bilingual import Bilingual
from houqin.errors import UserError
from houqin.items import completion_needs, get_item, open_dependencies, tick
from houqin.models import Evidence, Item, Person, PlanRun, School
from houqin.web import forms, uploads
from houqin.web.errors import BadInput, Forbidden, FormRejected, WebError
from houqin.web.i18n import STATUS
from houqin.web.permissions import (
    Viewer,
    can_manage_school,
    can_read_item,
    can_work_item,
    require,
)

ATTEMPTS = 3


def readable_item(session: Session, viewer: Viewer, item_id: int) -> Item:
    """The item if the viewer may read it; 403 (not 404) otherwise, so guessing ids says nothing."""
    item = session.get(Item, item_id, options=[joinedload(Item.run).joinedload(PlanRun.school)])
    if item is None:
        raise Forbidden()
    require(can_read_item(session, viewer, item))
    return item


def managed_school(session: Session, viewer: Viewer) -> School:
    require(viewer.school_id is not None and can_manage_school(viewer, viewer.school_id))
    school = session.get(School, viewer.school_id)
    assert school is not None
    return school


def settle(session: Session, item: Item, action: Callable[[], str]) -> str:
    """Run ``action``; if it lost a race (the revision moved), run it again on the new row.

    No savepoint is needed: a core action's conditional UPDATE is its first write, so an action
    that was refused has written nothing.
    """
    for attempt in range(ATTEMPTS):
        seen, status = item.revision, item.status
        try:
            return action()
        except UserError:
            session.refresh(item)
            if item.status != status:
                raise no_longer(item) from None
            if item.revision == seen or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def no_longer(item: Item) -> WebError:
    who = item.completed_by.name if item.completed_by else ""
    if item.status == "done":
        return WebError(
            f"此事项刚刚已由{who}完成，无需重复操作。未做任何更改。",
            f"This item was just completed by {who or 'someone'}; nothing was changed.",
            status=409,
            back=f"/items/{item.id}",
        )
    became = STATUS.get(item.status, Bilingual(item.status))
    return WebError(
        f"此事项的状态刚刚变为「{became.zh}」，未做任何更改。",
        f"This item just became {became.label('en')}; nothing was changed.",
        status=409,
        back=f"/items/{item.id}",
    )


def must_be_open(item: Item) -> None:
    if item.status != "open":
        raise no_longer(item)


@dataclass(frozen=True)
class Completion:
    """A completion form, read and checked: nothing is written until ``apply``."""

    note: str | None
    number: float | None
    steps: list[int]
    photos: list[uploads.Photo]


def read_completion(session: Session, item: Item, form: FormData) -> Completion:
    """The form's completion, checked by the core's one rule (``completion_needs``); a form
    that falls short raises ``FormRejected`` with what was typed and chosen, having written
    nothing, so the page can show it again."""
    values: dict[str, object] = {
        "note": str(form.get("note") or "")[:2000],
        "number": str(form.get("number") or "")[:30],
        "steps": [v for v in form.getlist("steps") if isinstance(v, str) and v.isdigit()],
        "photos": len(forms.files(form, "photos")),
    }
    try:
        note = forms.text(form, "note", max_len=2000, label=Bilingual("说明", "The note"))
    except BadInput as exc:
        raise FormRejected(exc.text, field="note", values=values) from None
    try:
        number = forms.number(form, "number", label=Bilingual("填写的数字", "The number"))
    except BadInput as exc:
        raise FormRejected(exc.text, field="number", values=values) from None
    steps = forms.ints(form, "steps")
    if any(not 1 <= n <= len(item.steps) for n in steps):
        raise FormRejected(
            Bilingual("步骤编号不正确。", "No such step."), field="steps", values=values
        )
    try:
        photos = uploads.read_photos(forms.files(form, "photos"))
    except BadInput as exc:
        raise FormRejected(exc.text, field="photos", values=values) from None
    needs = completion_needs(
        session, item, steps=steps, note=note, number=number, photos=len(photos)
    )
    if needs:
        field = {"note": "note", "number": "number", "photo": "photos"}.get(item.evidence_kind)
        if any(n.zh.startswith("请先勾选") for n in needs):
            field = "steps"
        text = Bilingual(
            "还不能完成：" + "；".join(n.zh for n in needs) + "。未做任何更改。",
            "Not complete yet: " + "; ".join(n.label("en") for n in needs) + ". Nothing changed.",
        )
        raise FormRejected(text, field=field, values=values)
    return Completion(note, number, steps, photos)


def complete(
    request: Request, session: Session, item: Item, by: Person, form: FormData, now: datetime
) -> str:
    """Check and apply a completion form in one go, for a route that shows no form again (a
    refusal is then an error page)."""
    must_be_open(item)
    return apply_completion(request, session, item, by, read_completion(session, item, form), now)


def form_again(refused: FormRejected) -> dict[str, object]:
    """What a page needs to show a refused form again: the entries and the message's field."""
    return {"entered": refused.values, "problem": refused}


def apply_completion(
    request: Request, session: Session, item: Item, by: Person, done: Completion, now: datetime
) -> str:
    """Tick the chosen steps, store the photos, then complete the item with its evidence."""
    for n in done.steps:
        if not item.steps[n - 1].get("done"):
            settle(session, item, partial(tick, session, item=item, by=by, now=now, step=n))
    paths = uploads.store(
        request.app.state.settings.data_dir,
        item.run.school.code,
        item.id,
        done.photos,
        request.state.on_rollback,
    )
    return settle(
        session,
        item,
        lambda: tick(
            session,
            item=item,
            by=by,
            now=now,
            note=done.note,
            number=done.number,
            photos=paths,
        ),
    )


def item_context(
    request: Request, session: Session, viewer: Viewer | None, item: Item, now: datetime
) -> dict[str, Any]:
    """What the item page (and the reminder-link page) show."""
    item = get_item(session, item.id)
    people = {
        p.code: p.name
        for p in session.scalars(select(Person).where(Person.school_id == item.school_id))
    }
    evidence = list(
        session.scalars(select(Evidence).where(Evidence.item_id == item.id).order_by(Evidence.id))
    )
    data_dir = request.app.state.settings.data_dir
    photos = [e for e in evidence if e.kind == "photo"]
    manage = viewer is not None and can_manage_school(viewer, item.school_id)
    return {
        "item": item,
        "tz": item.run.school.timezone,
        "now": now,
        "overdue": item.status == "open" and item.due_at < now,
        "plan_title": Bilingual(item.run.template.title_zh, item.run.template.title_en),
        "evidence": [e for e in evidence if e.kind != "photo"],
        "photos": [(e, uploads.resolve(data_dir, e.path, thumb=True) is not None) for e in photos],
        "history": audit.history(session, item_id=item.id),
        "people": people,
        "can_work": viewer is not None and can_work_item(viewer, item),
        "can_manage": manage,
        "staff": sorted(
            session.scalars(
                select(Person).where(Person.school_id == item.school_id, Person.active.is_(True))
            ),
            key=lambda p: p.code,
        )
        if manage
        else [],
        "open_dependencies": open_dependencies(session, item),
    }
