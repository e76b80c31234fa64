"""CLI commands for the web side: ``houqin user ...``, ``houqin serve``, ``houqin ical ...``.

The lead registers them on the main group (``cli.add_command(user)`` etc.). They follow
houqin/cli.py: thin, one unit of work, a ``UserError`` becomes one line and exit status 2 through
``houqin.cli.main``. Run on their own (as the tests do), they read the settings themselves.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.orm import Session

from houqin import clock
from houqin.accounts import ROLES
from houqin.db import make_engine, unit_of_work
from houqin.settings import Settings, get_settings


def _settings() -> Settings:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx else None
    return getattr(obj, "settings", None) or get_settings()


@contextmanager
def _unit() -> Iterator[Session]:
    """One unit of work on an engine of its own, disposed after (no pooled connection left)."""
    engine = make_engine(_settings())
    try:
        with unit_of_work(engine) as session:
            yield session
    finally:
        engine.dispose()


def _now() -> Any:
    return clock.now(_settings().timezone)


@click.group()
def user() -> None:
    """Web accounts: who may log in, with which role."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(list(ROLES)),
    help="staff: own items; supervisor: also their people's; logistics_head: the "
    "school; leadership: read the school, sign off; district: read the district.",
)
@click.option("--school", "school_code", help="School code (all roles but district).")
@click.option(
    "--person",
    "person_code",
    help="The person this account acts as (staff and "
    "supervisor must have one; a head needs one to tick items).",
)
@click.option("--district", help="For a district account: the district's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--by", default="cli", show_default=True, help="Who adds it (for the audit).")
def user_add(
    username: str,
    role: str,
    school_code: str | None,
    person_code: str | None,
    district: str | None,
    password_stdin: bool,
    by: str,
) -> None:
    """Add a web account; the password is prompted for (or read with --password-stdin)."""
    from houqin.accounts import create_account
    from houqin.people import get_person, get_school

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if person_code and not school_code:
        raise click.UsageError("--person needs --school")
    with _unit() as s:
        school = get_school(s, school_code) if school_code else None
        person = get_person(s, school, person_code) if school and person_code else None
        account = create_account(
            s,
            username=username,
            password=password,
            role=role,
            school=school,
            person=person,
            district=district,
            now=_now(),
            actor=by,
        )
        where = school.code if school else account.district
    click.echo(
        f"account {username}: {role} of {where}"
        + (f", acts as {person_code}" if person_code else "")
    )


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(list(ROLES)))
@click.option("--by", default="cli", show_default=True)
def user_role(username: str, role: str, by: str) -> None:
    """Change an account's role."""
    from houqin.accounts import get_account, set_role

    with _unit() as s:
        set_role(s, get_account(s, username), role, now=_now(), actor=by)
    click.echo(f"account {username}: now {role}")


@user.command("disable")
@click.argument("username")
@click.option("--by", default="cli", show_default=True)
def user_disable(username: str, by: str) -> None:
    """Stop an account from logging in (its sessions end at once)."""
    from houqin.accounts import get_account, set_active

    with _unit() as s:
        set_active(s, get_account(s, username), False, now=_now(), actor=by)
    click.echo(f"account {username}: disabled")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; one per core for a district (see docs/benchmark.md).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the web UI (uvicorn). Put it behind an HTTPS proxy and set HOUQIN_BASE_URL."""
    import uvicorn

    from houqin.web.app import make_app

    if workers == 1:
        uvicorn.run(make_app(_settings()), host=host, port=port, proxy_headers=True)
        return
    # several processes need the app by import path; each builds its own from the settings
    uvicorn.run(
        "houqin.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
    )


@click.group()
def ical() -> None:
    """Personal calendar feeds (iCal) of open items."""


def _person(s: Any, school_code: str, person_code: str) -> Any:
    from houqin.people import get_person, get_school

    return get_person(s, get_school(s, school_code), person_code)


@ical.command("issue")
@click.argument("person_code", metavar="PERSON")
@click.option("--school", "school_code", required=True, help="School code.")
@click.option("--by", default="cli", show_default=True)
def ical_issue(person_code: str, school_code: str, by: str) -> None:
    """Print a new feed URL for PERSON (any earlier URL stops working)."""
    from houqin import ical as feeds

    with _unit() as s:
        token = feeds.issue_token(s, _person(s, school_code, person_code), now=_now(), actor=by)
    click.echo(feeds.feed_url(_settings().base_url, token))


@ical.command("revoke")
@click.argument("person_code", metavar="PERSON")
@click.option("--school", "school_code", required=True, help="School code.")
@click.option("--by", default="cli", show_default=True)
def ical_revoke(person_code: str, school_code: str, by: str) -> None:
    """End PERSON's feed URL."""
    from houqin import ical as feeds

    with _unit() as s:
        done = feeds.revoke_token(s, _person(s, school_code, person_code), now=_now(), actor=by)
    click.echo(f"{person_code}: feed revoked" if done else f"{person_code}: had no feed")
