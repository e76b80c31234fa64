"""``houqin user``: web accounts."""

from __future__ import annotations

import sys

import click

from houqin.accounts import (
    ROLES,
    create_account,
    end_sessions,
    get_account,
    set_active,
    set_password,
    set_role,
)
from houqin.cli.context import Ctx, by_option, pass_ctx
from houqin.people import get_person, get_school


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
@pass_ctx
def user_add(
    c: Ctx,
    username: str,
    role: str,
    school_code: str | None,
    person_code: str | None,
    district: str | None,
    password_stdin: bool,
    by: str,
) -> None:
    """Add a web account; the password is prompted for (or read with --password-stdin)."""
    password = _password(password_stdin)
    if person_code and not school_code:
        raise click.UsageError("--person needs --school")
    with c.unit() as s:
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
            now=c.now(None),
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
@by_option
@pass_ctx
def user_role(c: Ctx, username: str, role: str, by: str) -> None:
    """Change an account's role."""
    with c.unit() as s:
        set_role(s, get_account(s, username), role, now=c.now(None), actor=by)
    click.echo(f"account {username}: now {role}")


@user.command("disable")
@click.argument("username")
@by_option
@pass_ctx
def user_disable(c: Ctx, username: str, by: str) -> None:
    """Stop an account from logging in; every session of it ends at once."""
    with c.unit() as s:
        set_active(s, get_account(s, username), False, now=c.now(None), actor=by)
    click.echo(f"account {username}: disabled")


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@by_option
@pass_ctx
def user_password(c: Ctx, username: str, password_stdin: bool, by: str) -> None:
    """Give an account a new password (prompted for); every session of it ends."""
    password = _password(password_stdin)
    with c.unit() as s:
        set_password(s, get_account(s, username), password, now=c.now(None), actor=by)
    click.echo(f"account {username}: new password; every session ended")


@user.command("logout")
@click.argument("username")
@by_option
@pass_ctx
def user_logout(c: Ctx, username: str, by: str) -> None:
    """End every session of an account (a lost phone); its password stays."""
    with c.unit() as s:
        end_sessions(s, get_account(s, username), now=c.now(None), actor=by)
    click.echo(f"account {username}: every session ended")


@user.command("enable")
@click.argument("username")
@by_option
@pass_ctx
def user_enable(c: Ctx, username: str, by: str) -> None:
    """Let a disabled account log in again."""
    with c.unit() as s:
        set_active(s, get_account(s, username), True, now=c.now(None), actor=by)
    click.echo(f"account {username}: enabled")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))
