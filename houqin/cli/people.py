"""``houqin people``: staff rosters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from houqin.cli.context import Ctx, pass_ctx, today_option
from houqin.people import import_roster
from houqin.sources import load_plans


@click.group()
def people() -> None:
    """Staff rosters: names, contact addresses, supervisors, roles."""


@people.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--school", "school_code", help="School code (or give school.code in a YAML roster).")
@click.option("--school-name", help="Create the school with this name if it does not exist.")
@click.option("--by", default="cli", show_default=True, help="Who is importing (for the audit).")
@today_option
@pass_ctx
def people_import(
    c: Ctx,
    file: Path,
    school_code: str | None,
    school_name: str | None,
    by: str,
    today: datetime | None,
) -> None:
    """Import a roster (CSV or YAML); every row is checked before anything is written."""
    extra = [r for t in load_plans(c.settings).values() for r in t.roles.values()]
    with c.unit() as s:
        r = import_roster(
            s,
            file,
            school_code=school_code,
            school_name=school_name,
            now=c.now(today),
            actor=by,
            timezone=c.settings.timezone,
            extra_roles=extra,
        )
    click.echo(
        f"{r.school}: {r.created} people added, {r.updated} updated, {r.bound} roles bound"
        + (f", {r.moved_items} open items moved to new role holders" if r.moved_items else "")
    )
