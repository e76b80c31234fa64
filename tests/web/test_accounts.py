"""Accounts (argon2 passwords, roles) and the CLI commands the web side adds."""

from __future__ import annotations

import click
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.accounts import authenticate, create_account, set_password, set_role
from houqin.cli.accounts import user
from houqin.cli.web import ical
from houqin.db import make_engine
from houqin.errors import UserError
from houqin.models import Account, AuditEvent
from tests.factories import NOW, make_person, make_school
from tests.web.seed import FAST_HASHER

PASSWORD = "长城长城-2026"


def test_an_account_verifies_its_password_and_nothing_secret_reaches_the_audit(
    session: Session,
) -> None:
    school = make_school(session)
    li = make_person(session, school, "li")
    account = create_account(
        session,
        username="li",
        password=PASSWORD,
        role="staff",
        school=school,
        person=li,
        now=NOW,
        actor="zhang",
        hasher=FAST_HASHER,
    )
    assert account.password_hash.startswith("$argon2id$")
    assert authenticate(session, "li", PASSWORD, hasher=FAST_HASHER) is account
    assert authenticate(session, "li", "wrong", hasher=FAST_HASHER) is None
    assert authenticate(session, "nobody", PASSWORD, hasher=FAST_HASHER) is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "account.create"))
    assert event is not None and event.actor == "zhang"
    assert PASSWORD not in str(event.details) and "argon2" not in str(event.details)


def test_a_weakly_hashed_password_is_upgraded_on_login(session: Session) -> None:
    school = make_school(session)
    create_account(
        session,
        username="wang",
        password=PASSWORD,
        role="leadership",
        school=school,
        now=NOW,
        actor="t",
        hasher=FAST_HASHER,
    )
    strong = PasswordHasher()
    account = authenticate(session, "wang", PASSWORD, hasher=strong)
    assert account is not None and not strong.check_needs_rehash(account.password_hash)


def test_a_disabled_account_cannot_log_in(session: Session) -> None:
    account = create_account(
        session,
        username="wang",
        password=PASSWORD,
        role="leadership",
        school=make_school(session),
        now=NOW,
        actor="t",
        hasher=FAST_HASHER,
    )
    account.active = False
    assert authenticate(session, "wang", PASSWORD, hasher=FAST_HASHER) is None


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"role": "janitor"}, "role must be one of"),
        ({"role": "staff"}, "acts as a person"),
        ({"password": "short"}, "at least 8"),
        ({"username": "a b"}, "letters, digits"),
        ({"role": "district", "school": None}, "needs --district"),
        ({"role": "logistics_head", "school": None}, "needs a school"),
    ],
)
def test_account_rules_are_explained(session: Session, kw: dict, message: str) -> None:  # type: ignore[type-arg]
    school = make_school(session)
    args = {
        "username": "xy",
        "password": PASSWORD,
        "role": "leadership",
        "school": school,
        "now": NOW,
        "actor": "t",
        "hasher": FAST_HASHER,
        **kw,
    }
    with pytest.raises(UserError, match=message):
        create_account(session, **args)


def test_usernames_are_unique_and_people_belong_to_the_accounts_school(session: Session) -> None:
    demo, other = make_school(session), make_school(session, "other")
    outsider = make_person(session, other, "outsider")
    create_account(
        session,
        username="li",
        password=PASSWORD,
        role="leadership",
        school=demo,
        now=NOW,
        actor="t",
        hasher=FAST_HASHER,
    )
    with pytest.raises(UserError, match="taken"):
        create_account(
            session,
            username="li",
            password=PASSWORD,
            role="leadership",
            school=demo,
            now=NOW,
            actor="t",
            hasher=FAST_HASHER,
        )
    with pytest.raises(UserError, match="not in school"):
        create_account(
            session,
            username="ou",
            password=PASSWORD,
            role="staff",
            school=demo,
            person=outsider,
            now=NOW,
            actor="t",
            hasher=FAST_HASHER,
        )


def test_changing_role_and_password_is_audited(session: Session) -> None:
    school = make_school(session)
    zhang = make_person(session, school, "zhang")
    account = create_account(
        session,
        username="zhang",
        password=PASSWORD,
        role="staff",
        school=school,
        person=zhang,
        now=NOW,
        actor="t",
        hasher=FAST_HASHER,
    )
    set_role(session, account, "logistics_head", now=NOW, actor="wang")
    set_password(session, account, "新的密码-123456", now=NOW, actor="zhang", hasher=FAST_HASHER)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["account.create", "account.role", "account.password"]
    assert authenticate(session, "zhang", "新的密码-123456", hasher=FAST_HASHER) is account


def cli() -> click.Group:
    """The lead adds these to ``houqin``; here they run in a group of their own."""
    return click.Group(commands={"user": user, "ical": ical})


def test_user_add_reads_the_password_from_stdin_and_ical_issue_prints_a_working_url(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    with Session(engine) as s, s.begin():
        school = make_school(s)
        make_person(s, school, "li", "李师傅")
    runner = CliRunner()
    added = runner.invoke(
        cli(),
        [
            "user",
            "add",
            "li",
            "--role",
            "staff",
            "--school",
            "demo",
            "--person",
            "li",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "account li: staff of demo, acts as li" in added.output
    with Session(engine) as s:
        account = s.scalar(select(Account).where(Account.username == "li"))
        assert account is not None
        assert PasswordHasher().verify(account.password_hash, PASSWORD)

    issued = runner.invoke(cli(), ["ical", "issue", "li", "--school", "demo"])
    assert issued.exit_code == 0, issued.output
    url = issued.output.strip()
    assert url.startswith("http://127.0.0.1:8000/ical/") and url.endswith(".ics")
    revoked = runner.invoke(cli(), ["ical", "revoke", "li", "--school", "demo"])
    assert revoked.output.strip() == "li: feed revoked"

    role = runner.invoke(cli(), ["user", "role", "li", "supervisor"])
    assert role.exit_code == 0 and "now supervisor" in role.output
    refused = runner.invoke(
        cli(),
        ["user", "add", "x", "--role", "staff", "--school", "demo", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert isinstance(refused.exception, UserError)  # houqin.cli.main prints it and exits 2
    engine.dispose()
