"""Who leads a school: the people bound to the leadership roles (校长, 分管副校长).

One query for everyone who needs it: the sweep escalates to them, delivery checks an escalation
is still theirs, the weekly digest goes to them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.models import RoleBinding, School
from houqin.roles import LEADERSHIP_ROLES


def leaders(
    session: Session,
    *,
    school_ids: Iterable[int] | None = None,
    school: str | None = None,
    district: str | None = None,
) -> dict[int, list[int]]:
    """School id -> its leaders' person ids (the vice-principal first, each once), for the given
    schools, the school with code ``school``, the schools of ``district``, or every school."""
    stmt = select(RoleBinding.school_id, RoleBinding.person_id).where(
        RoleBinding.role_key.in_(LEADERSHIP_ROLES)
    )
    if school_ids is not None:
        stmt = stmt.where(RoleBinding.school_id.in_(list(school_ids)))
    if school is not None or district is not None:
        stmt = stmt.join(School, School.id == RoleBinding.school_id)
        stmt = stmt.where(School.code == school) if school is not None else stmt
        stmt = stmt.where(School.district == district) if district is not None else stmt
    found: dict[int, list[int]] = defaultdict(list)
    # vice_principal_logistics sorts after principal: descending puts the one in charge first
    for school_id, person_id in session.execute(
        stmt.order_by(RoleBinding.school_id, RoleBinding.role_key.desc())
    ):
        if person_id not in found[school_id]:
            found[school_id].append(person_id)
    return found


def leaders_of_scope(session: Session, scope: str) -> list[int]:
    """Person ids of the leadership of ``school:<code>`` or ``district:<name>``, each once."""
    kind, _, name = scope.partition(":")
    by_school = (
        leaders(session, school=name) if kind == "school" else leaders(session, district=name)
    )
    seen: list[int] = []
    for ids in by_school.values():
        seen += [i for i in ids if i not in seen]
    return seen
