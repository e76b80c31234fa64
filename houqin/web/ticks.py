"""Ticking off: sub-steps, completing an item with its evidence, reopening it.

Two people acting on one item at once: the ledger core settles it with a conditional UPDATE on
``Item.revision`` and refuses the loser. Here the loser's action is tried again on the fresh row,
because ticking a step is commutative: both steps end up ticked, with two
audit events. Completing an item someone else just completed is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin.bilingual import Bilingual
from houqin.errors import UserError
from houqin.items import tick, untick
from houqin.models import Item, Person
from houqin.web import forms, uploads
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import BadInput, WebError
from houqin.web.permissions import can_work_item, require
from houqin.web.staff import readable_item

router = APIRouter()
Form = Annotated[FormData, Depends(checked_form)]
ATTEMPTS = 3


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
                raise _no_longer(item) from None
            if item.revision == seen or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _no_longer(item: Item) -> WebError:
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


def _must_be_open(item: Item) -> None:
    if item.status != "open":
        raise _no_longer(item)


def complete(
    request: Request, session: Session, item: Item, by: Person, form: FormData, now: datetime
) -> str:
    """Tick the chosen steps, store the photos, then complete the item with its evidence."""
    _must_be_open(item)
    note = forms.text(form, "note", max_len=2000, label=Bilingual("说明", "The note"))
    number = forms.number(form, "number", label=Bilingual("数字", "The number"))
    steps = forms.ints(form, "steps")
    photos = uploads.read_photos(forms.files(form, "photos"))
    missing = {"note": note is None, "number": number is None, "photo": not photos}
    if missing.get(item.evidence_kind):
        needs = {
            "note": ("一段文字说明", "a note"),
            "number": ("一个数字", "a number"),
            "photo": ("至少一张照片", "at least one photo"),
        }[item.evidence_kind]
        raise BadInput(
            f"完成此事项需要提供{needs[0]}。未做任何更改。",
            f"Completing this item needs {needs[1]}. Nothing was changed.",
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
    message = settle(
        session,
        item,
        lambda: tick(session, item=item, by=by, now=now, note=note, number=number, photos=paths),
    )
    return message


def _workable(session: Session, viewer: User, item_id: int) -> tuple[Item, Person]:
    item = readable_item(session, viewer, item_id)
    require(can_work_item(viewer, item))
    by = session.get(Person, viewer.person_id)
    assert by is not None  # can_work_item needs one
    return item, by


@router.post("/items/{item_id}/steps/{step}")
def toggle_step(
    item_id: int, step: int, form: Form, viewer: User, session: DB, now: Now
) -> Response:
    item, by = _workable(session, viewer, item_id)
    _must_be_open(item)
    if not 1 <= step <= len(item.steps):
        raise BadInput("没有这个步骤。", "No such step.", back=f"/items/{item_id}")
    done = forms.text(form, "done", required=True, max_len=10)
    if done not in ("0", "1"):
        raise BadInput("表单格式不正确。", "Malformed form.", back=f"/items/{item_id}")
    action = tick if done == "1" else untick
    settle(session, item, lambda: action(session, item=item, by=by, now=now, step=step))
    return RedirectResponse(f"/items/{item_id}#step-{step}", status_code=303)


@router.post("/items/{item_id}/tick")
def tick_item(
    request: Request, item_id: int, form: Form, viewer: User, session: DB, now: Now
) -> Response:
    item, by = _workable(session, viewer, item_id)
    complete(request, session, item, by, form, now)
    return RedirectResponse(f"/items/{item_id}?done=1", status_code=303)


@router.post("/items/{item_id}/untick")
def untick_item(item_id: int, form: Form, viewer: User, session: DB, now: Now) -> Response:
    item, by = _workable(session, viewer, item_id)
    if item.status != "done":
        raise WebError(
            "只有已完成的事项可以重新打开。",
            "Only a done item can be reopened.",
            status=409,
            back=f"/items/{item_id}",
        )
    settle(session, item, lambda: untick(session, item=item, by=by, now=now))
    return RedirectResponse(f"/items/{item_id}", status_code=303)
