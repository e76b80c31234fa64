"""People: schools, staff, their contact addresses, supervisors and the roles they hold.

``houqin people import`` reads a CSV or YAML roster (``houqin.roster``), checks every row against
the school's ledger first, and only then writes: a roster with any error changes nothing. Role
columns take the stable English key (``logistics_head``) or its Chinese label (``后勤主任``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from houqin import audit
from houqin.db import rowcount
from houqin.errors import NotFound, Problem, ValidationFailed
from houqin.models import Item, Person, RoleBinding, School
from houqin.roles import ROLES, Role
from houqin.roster import CHANNEL_FIELDS, Roster, RosterRow, read_roster
from houqin.yaml_reader import suggest

_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ImportResult:
    school: str
    created: int
    updated: int
    bound: int
    moved_items: int


def _role_lookup(extra: Iterable[Role]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for role in [*ROLES.values(), *extra]:
        lookup[role.key] = role.key
        lookup[role.zh] = role.key
    return lookup


def _validate(roster: Roster, existing: dict[str, Person], lookup: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    holders: dict[str, tuple[str, int]] = {}

    def bad(row: RosterRow, fld: str, msg: str) -> None:
        problems.append(Problem(roster.path, row.line, fld, msg))

    for row in roster.rows:
        if not _CODE.match(row.code):
            bad(row, "code", f"missing or not a plain identifier: {row.code!r}")
        elif row.code in seen:
            bad(row, "code", f"{row.code!r} already on line {seen[row.code]}")
        else:
            seen[row.code] = row.line
        if not row.name:
            bad(row, "name", "missing")
        resolved = []
        for role in row.roles:
            key = lookup.get(role)
            if key is None:
                bad(row, "roles", f"unknown role {role!r} (see `houqin plans roles`)")
            elif key in holders:
                other, other_line = holders[key]
                bad(row, "roles", f"{role!r} is already held by {other!r} on line {other_line}")
            else:
                holders[key] = (row.code, row.line)
                resolved.append(key)
        row.roles = resolved
        for channel, address in row.addresses.items():
            if channel not in CHANNEL_FIELDS:
                known = ", ".join(CHANNEL_FIELDS)
                hint = suggest(channel, CHANNEL_FIELDS)
                bad(row, f"addresses.{channel}", f"unknown channel{hint}; use {known}")
            elif channel == "email" and not _EMAIL.match(address):
                bad(row, "email", f"not an e-mail address: {address!r}")
        if row.supervisor == row.code:
            bad(row, "supervisor", "a person cannot supervise themselves")
    for row in roster.rows:
        sup = row.supervisor
        if sup and sup not in seen and sup not in existing:
            bad(row, "supervisor", f"no person {sup!r} in this roster or the school")
    # a supervisor chain must end: follow each chain within the roster
    sup_of = {r.code: r.supervisor for r in roster.rows}
    for row in roster.rows:
        chain, cur = [row.code], sup_of.get(row.code)
        while cur and cur in sup_of and cur not in chain:
            chain.append(cur)
            cur = sup_of[cur]
        if cur == row.code:
            bad(row, "supervisor", "supervisor cycle: " + " -> ".join([*chain, cur]))
    return problems


def import_roster(
    session: Session,
    path: Path,
    *,
    school_code: str | None,
    school_name: str | None = None,
    now: datetime,
    actor: str,
    timezone: str = "Asia/Shanghai",
    extra_roles: Iterable[Role] = (),
) -> ImportResult:
    roster = read_roster(path)
    school = _school_for(session, roster, school_code, school_name, timezone)
    existing = {
        p.code: p for p in session.scalars(select(Person).where(Person.school_id == school.id))
    }
    problems = _validate(roster, existing, _role_lookup(extra_roles))
    if problems:
        raise ValidationFailed(problems)

    created = updated = 0
    people: dict[str, Person] = dict(existing)
    for row in roster.rows:
        person = people.get(row.code)
        if person is None:
            person = Person(school=school, code=row.code, name=row.name)
            session.add(person)
            people[row.code] = person
            created += 1
        else:
            updated += 1
        person.name, person.lang, person.active = row.name, row.lang, row.active
        person.addresses = dict(row.addresses)
    session.flush()
    for row in roster.rows:
        people[row.code].supervisor_id = people[row.supervisor].id if row.supervisor else None

    bound = moved = 0
    for row in roster.rows:
        for role_key in row.roles:
            bound += 1
            moved += bind_role(
                session,
                school=school,
                role_key=role_key,
                person=people[row.code],
                now=now,
                actor=actor,
            )
    audit.record(
        session,
        actor=actor,
        action="people.import",
        at=now,
        school_id=school.id,
        file=str(path),
        created=created,
        updated=updated,
        roles_bound=bound,
    )
    return ImportResult(school.code, created, updated, bound, moved)


def _school_for(
    session: Session,
    roster: Roster,
    code: str | None,
    name: str | None,
    timezone: str,
) -> School:
    info = roster.school or {}
    code = code or info.get("code")
    if not code:
        raise ValidationFailed(
            [Problem(roster.path, None, "school", "name the school: --school CODE or school.code")]
        )
    school = session.scalar(select(School).where(School.code == code))
    if school is None:
        name = name or info.get("name")
        if not name:
            raise NotFound(f"no school {code!r}; give --school-name to create it")
        school = School(
            code=code,
            name=name,
            district=info.get("district"),
            timezone=info.get("timezone") or timezone,
            quiet_start=info.get("quiet_start") or "22:00",
            quiet_end=info.get("quiet_end") or "07:00",
            channels=info.get("channels") or {},
        )
        session.add(school)
        session.flush()
    # the profile is the roster's to say: a re-import that names it updates it
    if "kind" in info:
        school.kind = info["kind"]
    if "facts" in info:
        school.facts = list(info["facts"])
    return school


def bind_role(
    session: Session, *, school: School, role_key: str, person: Person, now: datetime, actor: str
) -> int:
    """Bind a role to a person; the previous holder's open items of that role move along."""
    binding = session.scalar(
        select(RoleBinding).where(
            RoleBinding.school_id == school.id, RoleBinding.role_key == role_key
        )
    )
    if binding is not None and binding.person_id == person.id:
        return 0
    moved = 0
    if binding is None:
        session.add(RoleBinding(school_id=school.id, role_key=role_key, person_id=person.id))
    else:
        previous = binding.person_id
        binding.person_id = person.id
        moved = rowcount(
            session,
            update(Item)
            .where(
                Item.school_id == school.id,
                Item.role_key == role_key,
                Item.owner_id == previous,
                Item.status == "open",
            )
            .values(owner_id=person.id, revision=Item.revision + 1),
        )
    audit.record(
        session,
        actor=actor,
        action="role.bind",
        at=now,
        school_id=school.id,
        role=role_key,
        person=person.code,
        moved_items=moved,
    )
    return moved


def get_school(session: Session, code: str) -> School:
    school = session.scalar(select(School).where(School.code == code))
    if school is None:
        raise NotFound(f"no school {code!r} (import a roster first: houqin people import)")
    return school


def get_person(session: Session, school: School, code: str) -> Person:
    person = session.scalar(
        select(Person).where(Person.school_id == school.id, Person.code == code)
    )
    if person is None:
        raise NotFound(f"no person {code!r} in school {school.code!r}")
    return person


def role_bindings(session: Session, school: School) -> dict[str, Person]:
    rows = session.execute(
        select(RoleBinding.role_key, Person)
        .join(Person, Person.id == RoleBinding.person_id)
        .where(RoleBinding.school_id == school.id)
    )
    return {key: person for key, person in rows}  # noqa: C416 (rows are Row objects)
