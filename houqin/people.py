"""Rosters: schools, staff, their contact addresses, supervisors and the roles they hold.

``houqin people import`` reads a CSV or YAML roster, checks every row first, and only then
writes: a roster with any error changes nothing. Role columns take the stable English key
(``logistics_head``) or its Chinese label (``后勤主任``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from houqin import audit
from houqin.db import rowcount
from houqin.errors import NotFound, Problem, ValidationFailed
from houqin.models import Item, Person, RoleBinding, School
from houqin.roles import ROLES, Role

CHANNEL_FIELDS = ("email", "wecom", "dingtalk", "feishu", "webhook")
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class RosterRow:
    line: int
    code: str
    name: str
    roles: list[str]
    supervisor: str | None
    addresses: dict[str, str]
    lang: str = "zh-CN"
    active: bool = True


@dataclass
class Roster:
    path: str
    school: dict[str, Any] | None
    rows: list[RosterRow] = field(default_factory=list)


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


def read_roster(path: Path) -> Roster:
    """Parse a roster file into rows; syntax problems raise ValidationFailed with the line."""
    if not path.exists():
        raise NotFound(f"roster file not found: {path}")
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path)
    raise ValidationFailed([Problem(str(path), None, "", "roster must be .csv, .yaml or .yml")])


def _split(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;；、,，]", value or "") if p.strip()]


def _read_csv(path: Path) -> Roster:
    roster = Roster(str(path), None)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"code", "name"} - set(reader.fieldnames or [])
        if missing:
            raise ValidationFailed(
                [Problem(str(path), 1, ", ".join(sorted(missing)), "missing column")]
            )
        for record in reader:
            line = reader.line_num
            roster.rows.append(
                RosterRow(
                    line=line,
                    code=(record.get("code") or "").strip(),
                    name=(record.get("name") or "").strip(),
                    roles=_split(record.get("roles") or ""),
                    supervisor=(record.get("supervisor") or "").strip() or None,
                    addresses={
                        k: (record.get(k) or "").strip()
                        for k in CHANNEL_FIELDS
                        if (record.get(k) or "").strip()
                    },
                    lang=(record.get("lang") or "zh-CN").strip() or "zh-CN",
                    active=(record.get("active") or "yes").strip().lower()
                    not in ("no", "false", "0", "否"),
                )
            )
    return roster


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, as ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> Roster:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ValidationFailed(
            [Problem(str(path), None if line is None else line + 1, "", f"not valid YAML: {exc}")]
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise ValidationFailed([Problem(str(path), 1, "people", "expected a list of people")])
    school = data.get("school")
    roster = Roster(str(path), dict(school) if isinstance(school, dict) else None)
    for entry in data["people"]:
        if not isinstance(entry, dict):
            raise ValidationFailed([Problem(str(path), None, "people", "each entry is a mapping")])
        roles = entry.get("roles") or []
        roster.rows.append(
            RosterRow(
                line=entry["__line__"],
                code=str(entry.get("code") or "").strip(),
                name=str(entry.get("name") or "").strip(),
                roles=_split(roles) if isinstance(roles, str) else [str(r) for r in roles],
                supervisor=str(entry["supervisor"]) if entry.get("supervisor") else None,
                addresses={
                    k: str(v) for k, v in (entry.get("addresses") or {}).items() if k != "__line__"
                },
                lang=str(entry.get("lang") or "zh-CN"),
                active=bool(entry.get("active", True)),
            )
        )
    return roster


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
                bad(
                    row, f"addresses.{channel}", f"unknown channel; use {', '.join(CHANNEL_FIELDS)}"
                )
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
            channels=_plain(info.get("channels") or {}),
        )
        session.add(school)
        session.flush()
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


def _plain(value: Any) -> Any:
    """YAML data without the loader's ``__line__`` bookkeeping, at any depth."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


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
