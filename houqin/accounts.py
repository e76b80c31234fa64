"""Web accounts: who may log in, with which role, for which school, person or district.

Passwords are hashed with argon2id (argon2-cffi). Hashes made with weaker parameters (tests use
cheap ones) still verify and are upgraded on the next successful login. Every change is audited;
no password or hash ever goes into the audit trail.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from houqin import audit
from houqin.bilingual import Bilingual
from houqin.errors import NotFound, UserError
from houqin.models import Account, Person, School

# what each role may do is decided in houqin/web/permissions.py
ROLES: dict[str, Bilingual] = {
    "staff": Bilingual("员工", "Staff"),
    "supervisor": Bilingual("主管", "Supervisor"),
    "logistics_head": Bilingual("后勤主任", "Head of logistics"),
    "leadership": Bilingual("校领导", "School leadership"),
    "district": Bilingual("区教育局", "District office"),
}
NEEDS_PERSON = ("staff", "supervisor")
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,100}$")


@cache
def default_hasher() -> PasswordHasher:
    return PasswordHasher()


def role_label(role: str, lang: str = "zh-CN") -> str:
    return ROLES.get(role, Bilingual(role)).label(lang)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    school: School | None,
    person: Person | None = None,
    district: str | None = None,
    now: datetime,
    actor: str,
    hasher: PasswordHasher | None = None,
) -> Account:
    """Add a login. Staff and supervisors act as a person; a district account reads a district."""
    _check_role(role)
    if not _USERNAME.match(username):
        raise UserError(f"username {username!r}: 2-100 letters, digits or _ . @ -")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")
    if role == "district":
        district = district or (school.district if school else None)
        if not district:
            raise UserError("a district account needs --district (or a school that has one)")
    elif school is None:
        raise UserError(f"a {role} account needs a school (--school)")
    if role in NEEDS_PERSON and person is None:
        raise UserError(f"a {role} account acts as a person: give --person")
    if person is not None and school is not None and person.school_id != school.id:
        raise UserError(f"person {person.code!r} is not in school {school.code!r}")
    account = Account(
        username=username,
        password_hash=(hasher or default_hasher()).hash(password),
        role=role,
        person_id=person.id if person else None,
        school_id=school.id if school else None,
        district=district,
        active=True,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        raise UserError(f"username {username!r} is taken") from None
    audit.record(
        session,
        actor=actor,
        action="account.create",
        at=now,
        school_id=account.school_id,
        username=username,
        role=role,
        person=person.code if person else None,
        district=district,
    )
    return account


def get_account(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFound(f"no account {username!r}")
    return account


def authenticate(
    session: Session, username: str, password: str, *, hasher: PasswordHasher | None = None
) -> Account | None:
    """The active account if the password matches, else None (same cost either way)."""
    hasher = hasher or default_hasher()
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None or not account.active:
        # verify against a throwaway hash so a missing user costs as long as a wrong password
        _verify(hasher, _dummy_hash(hasher), password)
        return None
    if not _verify(hasher, account.password_hash, password):
        return None
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    return account


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash("not-a-password")
    return _DUMMY[key]


def set_role(session: Session, account: Account, role: str, *, now: datetime, actor: str) -> None:
    _check_role(role)
    if role in NEEDS_PERSON and account.person_id is None:
        raise UserError(f"a {role} account acts as a person; this account has none")
    change: dict[str, Any] = {"from": account.role, "to": role}
    account.role = role
    audit.record(
        session,
        actor=actor,
        action="account.role",
        at=now,
        school_id=account.school_id,
        username=account.username,
        **change,
    )


def set_password(
    session: Session,
    account: Account,
    password: str,
    *,
    now: datetime,
    actor: str,
    hasher: PasswordHasher | None = None,
) -> None:
    """A new password; every session of the account ends."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")
    account.password_hash = (hasher or default_hasher()).hash(password)
    account.session_version += 1
    audit.record(
        session,
        actor=actor,
        action="account.password",
        at=now,
        school_id=account.school_id,
        username=account.username,
    )


def set_active(
    session: Session, account: Account, active: bool, *, now: datetime, actor: str
) -> None:
    """Enable or disable logging in; every session of the account ends either way."""
    account.active = active
    account.session_version += 1
    audit.record(
        session,
        actor=actor,
        action="account.enable" if active else "account.disable",
        at=now,
        school_id=account.school_id,
        username=account.username,
    )


def end_sessions(
    session: Session, account: Account, *, now: datetime, actor: str, **details: Any
) -> None:
    """Every session of the account ends (logging out, or a lost phone): each cookie carries
    the session version it was made at, and this moves the version on."""
    account.session_version += 1
    audit.record(
        session,
        actor=actor,
        action="account.logout",
        at=now,
        school_id=account.school_id,
        username=account.username,
        **details,
    )
