"""Ticking off: sub-steps, completing an item with its evidence, reopening it.

A race with another person's action is settled in ``shared.settle`` (see there).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin.items import tick, untick
from houqin.models import Item, Person
from houqin.web import forms
from houqin.web.csrf import checked_form, checked_upload
from houqin.web.deps import DB, Now, User
from houqin.web.errors import BadInput, FormRejected, WebError
from houqin.web.permissions import can_work_item, require
from houqin.web.render import render
from houqin.web.shared import (
    apply_completion,
    form_again,
    item_context,
    must_be_open,
    read_completion,
    readable_item,
    settle,
)

router = APIRouter()
Form = Annotated[FormData, Depends(checked_form)]
Upload = Annotated[FormData, Depends(checked_upload)]


def _workable(session: Session, viewer: User, item_id: int) -> tuple[Item, Person]:
    item = readable_item(session, viewer, item_id)
    require(can_work_item(viewer, item))
    by = session.get(Person, viewer.person_id)
    assert by is not None  # can_work_item needs one
    return item, by


@router.post("/items/{item_id}/steps/{step}")
def toggle_step(
    item_id: int, step: int, viewer: User, form: Form, session: DB, now: Now
) -> Response:
    item, by = _workable(session, viewer, item_id)
    must_be_open(item)
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
    request: Request, item_id: int, viewer: User, form: Upload, session: DB, now: Now
) -> Response:
    item, by = _workable(session, viewer, item_id)
    must_be_open(item)
    try:
        done = read_completion(session, item, form)
    except FormRejected as refused:  # nothing written: the page again, with what was entered
        context = item_context(request, session, viewer, item, now)
        return render(request, "item.html.j2", status_code=400, **context, **form_again(refused))
    apply_completion(request, session, item, by, done, now)
    return RedirectResponse(f"/items/{item_id}?done=1", status_code=303)


@router.post("/items/{item_id}/untick")
def untick_item(item_id: int, viewer: User, form: Form, session: DB, now: Now) -> Response:
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
