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
from datetime import datetime
from functools import partial

from fastapi import Request
from sqlalchemy.orm import Session, joinedload
from starlette.datastructures import FormData

from houqin.bilingual import Bilingual
from houqin.errors import UserError
from houqin.items import tick
from houqin.models import Item, Person, PlanRun, School
from houqin.web import forms, uploads
from houqin.web.errors import BadInput, Forbidden, WebError
from houqin.web.permissions import Viewer, can_manage_school, can_read_item, require

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
    return WebError(
        f"此事项的状态刚刚变为「{item.status}」，未做任何更改。",
        f"This item just became {item.status}; nothing was changed.",
        status=409,
        back=f"/items/{item.id}",
    )


def must_be_open(item: Item) -> None:
    if item.status != "open":
        raise no_longer(item)


def complete(
    request: Request, session: Session, item: Item, by: Person, form: FormData, now: datetime
) -> str:
    """Tick the chosen steps, store the photos, then complete the item with its evidence."""
    must_be_open(item)
    note = forms.text(form, "note", max_len=2000, label=Bilingual("说明", "The note"))
    number = forms.number(form, "number", label=Bilingual("数字", "The number"))
    steps = forms.ints(form, "steps")
    photos = uploads.read_photos(forms.files(form, "photos"))
    missing = {"note": note is None, "number": number is None, "photo": not photos}
    if missing.get(item.evidence_kind):
        needs = {
            "note": Bilingual("一段文字说明", "a note"),
            "number": Bilingual("一个数字", "a number"),
            "photo": Bilingual("至少一张照片", "at least one photo"),
        }[item.evidence_kind]
        raise BadInput(
            f"完成此事项需要提供{needs.zh}。未做任何更改。",
            f"Completing this item needs {needs.en}. Nothing was changed.",
            back=f"/items/{item.id}",
        )
    for n in steps:
        if not 1 <= n <= len(item.steps):
            raise BadInput("步骤编号不正确。", "No such step.")
        if not item.steps[n - 1].get("done"):
            settle(session, item, partial(tick, session, item=item, by=by, now=now, step=n))
    paths = uploads.store(
        request.app.state.settings.data_dir,
        item.run.school.code,
        item.id,
        photos,
        request.state.on_rollback,
    )
    return settle(
        session,
        item,
        lambda: tick(session, item=item, by=by, now=now, note=note, number=number, photos=paths),
    )
