"""Who may see and do what. Every route asks one of these functions before it reads or writes.

- staff: their own items (see, tick, evidence).
- supervisor: their own items and those of the people they directly supervise.
- logistics_head: everything of their school (launch, bind roles, reassign, waive, outbox).
- leadership: read everything of their school, sign off plan runs.
- district: read every school of their district.

A refusal raises ``Forbidden`` (403) before anything is changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from houqin.models import Item, Person, PlanRun, School
from houqin.web.errors import Forbidden

READ_SCHOOL = ("logistics_head", "leadership")


@dataclass(frozen=True)
class Viewer:
    """The logged-in account, as the permission checks need it: plain values, no ORM objects,
    so it outlives the request's unit of work (an error page is rendered after the rollback)."""

    account_id: int
    username: str
    role: str
    school_id: int | None
    district: str | None
    timezone: str
    person_id: int | None = None
    person_code: str | None = None
    person_school_id: int | None = None
    person_name: str | None = None

    @property
    def actor(self) -> str:
        """The name the audit trail records: the person's code, else the username."""
        return self.person_code or self.username

    @property
    def name(self) -> str:
        return self.person_name or self.username


def require(ok: bool) -> None:
    if not ok:
        raise Forbidden()


def require_role(viewer: Viewer, *roles: str) -> None:
    require(viewer.role in roles)


def school_ids(session: Session, viewer: Viewer) -> list[int]:
    """The schools whose plans the viewer may read as a whole (empty for staff)."""
    if viewer.role == "district":
        return list(session.scalars(select(School.id).where(School.district == viewer.district)))
    if viewer.role in READ_SCHOOL and viewer.school_id is not None:
        return [viewer.school_id]
    return []


def item_scope(session: Session, viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Item`` for the items the viewer may read."""
    if viewer.role in ("staff", "supervisor"):
        if viewer.person_id is None:
            return false()
        own = Item.owner_id == viewer.person_id
        if viewer.role == "staff":
            return own
        team = select(Person.id).where(Person.supervisor_id == viewer.person_id)
        return own | Item.owner_id.in_(team)
    ids = school_ids(session, viewer)
    return Item.school_id.in_(ids) if ids else false()


def can_read_school(session: Session, viewer: Viewer, school_id: int) -> bool:
    return school_id in school_ids(session, viewer)


def can_read_item(session: Session, viewer: Viewer, item: Item) -> bool:
    if viewer.role in ("staff", "supervisor"):
        return _works_on(viewer, item)
    return can_read_school(session, viewer, item.school_id)


def _works_on(viewer: Viewer, item: Item) -> bool:
    if viewer.person_id is None or item.school_id != viewer.person_school_id:
        return False
    if item.owner_id == viewer.person_id:
        return True
    return viewer.role == "supervisor" and item.owner.supervisor_id == viewer.person_id


def can_work_item(viewer: Viewer, item: Item) -> bool:
    """Tick, untick, add evidence: the owner, their supervisor, or the school's head."""
    if viewer.role in ("staff", "supervisor"):
        return _works_on(viewer, item)
    if viewer.role == "logistics_head":
        return viewer.person_id is not None and item.school_id == viewer.school_id
    return False


def can_manage_school(viewer: Viewer, school_id: int) -> bool:
    """Launch, bind roles, reassign, waive, retry messages: the head of that school."""
    return viewer.role == "logistics_head" and viewer.school_id == school_id


def can_read_run(session: Session, viewer: Viewer, run: PlanRun) -> bool:
    return can_read_school(session, viewer, run.school_id)


def can_sign_off(viewer: Viewer, run: PlanRun) -> bool:
    return viewer.role == "leadership" and viewer.school_id == run.school_id
