"""``houqin repair``: repair requests (报修), whose times feed the assessment."""

from __future__ import annotations

from datetime import datetime

import click

from houqin import repairs
from houqin.cli.context import Ctx, at_option, pass_ctx, today_option
from houqin.clock import as_local
from houqin.people import get_school


@click.group()
def repair() -> None:
    """Repair requests (报修): record, answer, close; their times feed the assessment."""


@repair.command("add")
@click.option("--school", required=True, help="School code.")
@click.option("--location", required=True, help="Where (e.g. 教学楼302).")
@click.option("--description", required=True, help="What is broken.")
@click.option("--by", required=True, help="Who reported it.")
@today_option
@at_option
@pass_ctx
def repair_add(
    c: Ctx,
    school: str,
    location: str,
    description: str,
    by: str,
    today: datetime | None,
    at: str | None,
) -> None:
    """Record a repair request as reported now (or --today --at)."""
    with c.unit() as s:
        r = repairs.report(
            s,
            school=get_school(s, school),
            location=location,
            description=description,
            by=by,
            now=c.now(today, at),
        )
        when = as_local(r.reported_at, c.settings.timezone)
        click.echo(f"repair {r.id}: reported at {when:%Y-%m-%d %H:%M}")


@repair.command("respond")
@click.argument("repair_id", type=int)
@click.option("--by", required=True, help="Who answered.")
@today_option
@at_option
@pass_ctx
def repair_respond(c: Ctx, repair_id: int, by: str, today: datetime | None, at: str | None) -> None:
    """Record the first answer to a repair request."""
    with c.unit() as s:
        r = repairs.respond(s, repair_id=repair_id, by=by, now=c.now(today, at))
        minutes = (r.responded_at - r.reported_at).total_seconds() / 60  # type: ignore[operator]
    click.echo(f"repair {repair_id}: answered after {minutes:.0f} minutes")


@repair.command("close")
@click.argument("repair_id", type=int)
@click.option("--by", required=True, help="Who fixed it.")
@today_option
@at_option
@pass_ctx
def repair_close(c: Ctx, repair_id: int, by: str, today: datetime | None, at: str | None) -> None:
    """Record that the repair is done."""
    with c.unit() as s:
        r = repairs.complete(s, repair_id=repair_id, by=by, now=c.now(today, at))
        hours = (r.completed_at - r.reported_at).total_seconds() / 3600  # type: ignore[operator]
    click.echo(f"repair {repair_id}: closed after {hours:.1f} hours")
