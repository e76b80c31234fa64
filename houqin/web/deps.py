"""Dependencies every route shares: the unit of work, "now", and the logged-in viewer.

The session is opened per request and committed when the route has returned, before the
response goes out (``scope="function"``): a redirect after a POST never races its own commit,
and an exception anywhere rolls everything back (and deletes files the request wrote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from houqin import clock
from houqin.models import Account, Person, School
from houqin.web import auth
from houqin.web.errors import LoginRequired
from houqin.web.permissions import Viewer


def db(request: Request) -> Iterator[Session]:
    session = Session(request.app.state.engine, expire_on_commit=False)
    undo: list[Callable[[], None]] = []
    request.state.on_rollback = undo.append
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        for step in undo:
            step()
        raise
    finally:
        session.close()


def get_now(request: Request) -> datetime:
    """The one place routes learn the time; tests override it to replay a day."""
    return clock.now(request.app.state.settings.timezone)


DB = Annotated[Session, Depends(db, scope="function")]
Now = Annotated[datetime, Depends(get_now)]


def current_viewer(request: Request, session: DB) -> Viewer | None:
    claim = auth.read_session(request)
    if claim is None:
        return None
    account = session.get(Account, claim.account_id)
    if account is None or not account.active or auth.fingerprint(account) != claim.fingerprint:
        return None
    person = session.get(Person, account.person_id) if account.person_id else None
    school = session.get(School, account.school_id) if account.school_id else None
    viewer = Viewer(
        account_id=account.id,
        username=account.username,
        role=account.role,
        school_id=account.school_id,
        district=account.district,
        timezone=school.timezone if school else request.app.state.settings.timezone,
        person_id=person.id if person else None,
        person_code=person.code if person else None,
        person_school_id=person.school_id if person else None,
        person_name=person.name if person else None,
    )
    request.state.viewer = viewer
    return viewer


def require_viewer(viewer: Annotated[Viewer | None, Depends(current_viewer)]) -> Viewer:
    if viewer is None:
        raise LoginRequired()
    return viewer


User = Annotated[Viewer, Depends(require_viewer)]
