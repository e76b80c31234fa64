"""Dependencies every route shares: the unit of work, "now", and the logged-in viewer.

The session is opened per request and committed when the route has returned, before the
response goes out (``scope="function"``): a redirect after a POST never races its own commit,
and an exception anywhere rolls everything back (and deletes files the request wrote).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from houqin import clock
from houqin.models import Person, School
from houqin.web import auth
from houqin.web.errors import LoginRequired
from houqin.web.permissions import Viewer


async def db(request: Request) -> AsyncIterator[Session]:
    # Async, with the commit in one worker-thread hop: a sync generator costs two hops (enter
    # and exit), each ~0.3 ms of thread hand-off on every request. The commit must not queue
    # for the shared thread pool: when every pooled thread is a route waiting for a database
    # connection, and every connection is held by a request waiting to commit, nothing moves.
    session = Session(request.app.state.engine, expire_on_commit=False)
    undo: list[Callable[[], None]] = []
    request.state.on_rollback = undo.append
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):  # a client that went away still gets a rollback
            await _outside_the_pool(_abandon, session, undo)
        raise
    with anyio.CancelScope(shield=True):
        await _outside_the_pool(_commit, session, undo)


async def _outside_the_pool(
    end: Callable[[Session, list[Callable[[], None]]], None],
    session: Session,
    undo: list[Callable[[], None]],
) -> None:
    await anyio.to_thread.run_sync(end, session, undo, limiter=anyio.CapacityLimiter(1))


def _commit(session: Session, undo: list[Callable[[], None]]) -> None:
    try:
        session.commit()
    except BaseException:
        _abandon(session, undo)
        raise
    session.close()


def _abandon(session: Session, undo: list[Callable[[], None]]) -> None:
    try:
        session.rollback()
    finally:
        session.close()
        for step in undo:
            step()


async def get_now(request: Request) -> datetime:
    """The one place routes learn the time: the wall clock, or a replayed day's
    (``houqin serve --today``); tests override it to replay a day."""
    settings = request.app.state.settings
    return clock.replayed(settings.today, settings.timezone)


DB = Annotated[Session, Depends(db, scope="function")]
Now = Annotated[datetime, Depends(get_now)]


def current_viewer(request: Request, session: DB) -> Viewer | None:
    account = auth.valid_account(session, auth.read_session(request))
    if account is None:
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
