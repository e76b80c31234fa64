"""The demo leaves a system one can log in to: a login for each role, on the demo's roster."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from houqin import clock
from houqin.accounts import authenticate
from houqin.db import make_engine, unit_of_work
from houqin.demo import ACCOUNTS, ROSTER, _accounts
from houqin.people import import_roster

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_demo_creates_a_login_for_each_role(database_url: str, templates) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    with unit_of_work(engine) as s:
        import_roster(
            s,
            ROSTER,
            school_code=None,
            now=clock.moment(date(2027, 2, 1)),
            actor="test",
            extra_roles=[r for t in templates.values() for r in t.roles.values()],
        )
    password = _accounts(engine, "Asia/Shanghai")
    assert len(password) >= 12
    roles = set()
    with Session(engine) as s:
        for username, role, person in ACCOUNTS:
            account = authenticate(s, username, password)
            assert account is not None and account.role == role, username
            assert (account.person_id is not None) == (person is not None)
            roles.add(role)
    assert roles == {"logistics_head", "supervisor", "staff", "leadership", "district"}
    engine.dispose()
