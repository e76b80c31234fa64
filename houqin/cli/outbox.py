"""``houqin outbox``: messages sent, waiting, failed or unconfirmed; a person's retry."""

from __future__ import annotations

from datetime import datetime

import click

from houqin import tables
from houqin.cli.context import Ctx, by_option, pass_ctx, today_option
from houqin.delivery import list_deliveries, retry
from houqin.models import Person


@click.group(invoke_without_command=True)
@click.option(
    "--status", type=click.Choice(["pending", "sending", "sent", "failed", "unconfirmed"])
)
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def outbox(ctx: click.Context, status: str | None, limit: int) -> None:
    """Messages sent, waiting and failed (with their errors); `outbox retry ID` sends again."""
    if ctx.invoked_subcommand is not None:
        return
    c = ctx.ensure_object(Ctx)
    with c.unit() as s:
        rows = []
        for d in list_deliveries(s, status=status, limit=limit):
            person = s.get(Person, d.recipient_id)
            assert person is not None
            when = tables.when(d.sent_at or d.next_attempt_at, c.settings.timezone)
            error = tables.clip(d.last_error or d.subject, 60)
            rows.append([str(d.id), person.name, d.channel, d.status, str(d.attempts), when, error])
    headers = ["id", "to", "channel", "status", "tries", "when", "subject / error"]
    click.echo(tables.render(headers, rows))


@outbox.command("retry")
@click.argument("delivery_id", type=int)
@by_option
@today_option
@pass_ctx
def outbox_retry(c: Ctx, delivery_id: int, by: str, today: datetime | None) -> None:
    """Queue a failed or unconfirmed message again; the next sweep sends it."""
    with c.unit() as s:
        message = retry(s, delivery_id=delivery_id, now=c.now(today), by=by)
    click.echo(f"message {delivery_id}: {message}")
