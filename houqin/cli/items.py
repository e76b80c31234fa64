"""``houqin items``, ``tick``, ``untick``, ``reassign``, ``waive``: the checklist items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from houqin import items as core
from houqin import tables
from houqin.cli.context import DATE, Ctx, at_option, by_option, pass_ctx, today_option
from houqin.people import get_person


@click.command()
@click.option("--school", help="School code.")
@click.option("--run", "run_id", type=int, help="Plan run id.")
@click.option("--owner", help="Owner's person code.")
@click.option("--status", type=click.Choice(core.STATUSES))
@click.option("--overdue", is_flag=True, help="Only open items past their deadline.")
@click.option("--due-before", type=DATE, help="Only items due before this date.")
@today_option
@pass_ctx
def items(
    c: Ctx,
    school: str | None,
    run_id: int | None,
    owner: str | None,
    status: str | None,
    overdue: bool,
    due_before: datetime | None,
    today: datetime | None,
) -> None:
    """List checklist items, with filters."""
    now = c.now(today)
    f = core.ItemFilter(
        school=school,
        run_id=run_id,
        owner=owner,
        status=status,
        overdue_at=now if overdue else None,
        due_before=c.now(due_before, "00:00") if due_before else None,
    )
    with c.unit() as s:
        rows = [tables.item_row(i, now, c.lang) for i in core.list_items(s, f)]
    click.echo(tables.render([column.label(c.lang) for column in tables.ITEM_COLUMNS], rows))
    click.echo(f"{len(rows)} items")


def _act(c: Ctx, item_id: int, action: Callable[..., str], person: str | None, **kw: Any) -> None:
    """Run one item action in the command's transaction, ``by`` the person coded ``person``
    (or, without one, by whoever ``kw["by"]`` names)."""
    with c.unit() as s:
        item = core.get_item(s, item_id)
        if person is not None:
            kw["by"] = get_person(s, item.run.school, person)
        message = action(s, item=item, **kw)
    click.echo(f"item {item_id}: {message}")


@click.command()
@click.argument("item_id", type=int)
@click.option("--by", required=True, help="Person code of who did it.")
@click.option("--note", help="Evidence: a note.")
@click.option("--number", type=float, help="Evidence: a number (e.g. headcount on duty).")
@click.option(
    "--photo",
    "photos",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Evidence: a photo (repeat for several).",
)
@click.option("--step", type=int, help="Tick only this sub-step (1-based).")
@at_option
@today_option
@pass_ctx
def tick(
    c: Ctx,
    item_id: int,
    by: str,
    note: str | None,
    number: float | None,
    photos: tuple[str, ...],
    step: int | None,
    at: str | None,
    today: datetime | None,
) -> None:
    """Tick off an item (or one sub-step) with its evidence; recorded with who and when."""
    _act(
        c,
        item_id,
        core.tick,
        by,
        now=c.now(today, at),
        note=note,
        number=number,
        photos=photos,
        step=step,
    )


@click.command()
@click.argument("item_id", type=int)
@click.option("--by", required=True, help="Person code of who did it.")
@click.option("--step", type=int, help="Clear only this sub-step (1-based).")
@today_option
@pass_ctx
def untick(c: Ctx, item_id: int, by: str, step: int | None, today: datetime | None) -> None:
    """Reopen a done item, or clear a sub-step."""
    _act(c, item_id, core.untick, by, now=c.now(today), step=step)


@click.command()
@click.argument("item_id", type=int)
@click.option("--to", "to_code", required=True, help="Person code of the new owner.")
@by_option
@click.option("--reason")
@today_option
@pass_ctx
def reassign(
    c: Ctx, item_id: int, to_code: str, by: str, reason: str | None, today: datetime | None
) -> None:
    """Give an open item to another person of the school."""
    with c.unit() as s:
        item = core.get_item(s, item_id)
        to = get_person(s, item.run.school, to_code)
        msg = core.reassign(s, item=item, to=to, by=by, now=c.now(today), reason=reason)
    click.echo(f"item {item_id}: {msg}")


@click.command()
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why the item is not needed.")
@by_option
@today_option
@pass_ctx
def waive(c: Ctx, item_id: int, reason: str, by: str, today: datetime | None) -> None:
    """Waive an open item, with a reason."""
    _act(c, item_id, core.waive, None, by=by, now=c.now(today), reason=reason)
