"""The calendar feed (``/ical/{token}.ics``, no login: the secret is in the URL) and the page
where a person gets, replaces or revokes their feed URL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from houqin import ical
from houqin.models import Person
from houqin.web import forms
from houqin.web.csrf import checked_form
from houqin.web.deps import DB, Now, User
from houqin.web.errors import WebError
from houqin.web.permissions import Viewer, require
from houqin.web.render import render

router = APIRouter()


@router.get("/ical/{token}.ics")
def feed(request: Request, token: str, session: DB, now: Now) -> Response:
    person = ical.person_for_token(session, token)
    if person is None:  # unknown and revoked look the same
        raise WebError(
            "日历订阅地址无效或已被撤销。",
            "This calendar address is unknown or revoked.",
            status=404,
        )
    body = ical.build_feed(session, person, now=now, base_url=request.app.state.settings.base_url)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "private, max-age=900",
            "Content-Disposition": 'inline; filename="houqin.ics"',
        },
    )


def _person(session: Session, viewer: Viewer) -> Person:
    person = session.get(Person, viewer.person_id) if viewer.person_id else None
    require(person is not None)
    assert person is not None
    return person


@router.get("/calendar")
def calendar_page(request: Request, viewer: User, session: DB) -> Response:
    person = _person(session, viewer)
    return render(
        request, "calendar.html.j2", url=None, has_feed=person.ical_token_hash is not None
    )


@router.post("/calendar")
def calendar_action(
    request: Request,
    viewer: User,
    form: Annotated[FormData, Depends(checked_form)],
    session: DB,
    now: Now,
) -> Response:
    """Issue a new URL (the old one stops working) or revoke it. The URL is shown only once:
    the ledger keeps its hash, not the secret."""
    person = _person(session, viewer)
    action = forms.text(form, "action", required=True, max_len=10)
    url = None
    if action == "issue":
        token = ical.issue_token(session, person, now=now, actor=viewer.actor)
        url = ical.feed_url(request.app.state.settings.base_url, token)
    elif action == "revoke":
        ical.revoke_token(session, person, now=now, actor=viewer.actor)
    else:
        raise WebError("表单格式不正确。", "Malformed form.", back="/calendar")
    return render(request, "calendar.html.j2", url=url, has_feed=url is not None)
