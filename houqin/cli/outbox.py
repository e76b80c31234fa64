"""``houqin outbox``: messages and their states, what needs a person, and what a person does
about it (resend, mark delivered); ``outbox send`` delivers what is due now."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import func, select

from houqin import outbox as outbox_state
from houqin import school_settings, tables
from houqin.cli.context import Ctx, by_option, pass_ctx, today_option
from houqin.delivery import LedgerUnavailable, deliver
from houqin.errors import UserError
from houqin.models import Outbox, Person, School

SHOWN = ("unconfirmed", "failed", "pending", "claimed", "sending", "sent", "dropped")


@click.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(SHOWN))
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def outbox(ctx: click.Context, status: str | None, limit: int) -> None:
    """Messages and their states (with their errors), what needs a person first."""
    if ctx.invoked_subcommand is not None:
        return
    c = ctx.ensure_object(Ctx)
    with c.unit() as s:
        counts = outbox_state.counts(s)
        withdrawn = s.scalar(select(func.count()).where(Outbox.status == "withdrawn")) or 0
        schools = s.scalars(select(School).order_by(School.code))
        problems = [p for school in schools for p in school_settings.problems(school)]
        rows = []
        for d in outbox_state.list_deliveries(s, status=status, limit=limit):
            person = s.get(Person, d.recipient_id)
            assert person is not None
            when = tables.when(d.sent_at or d.next_attempt_at, c.settings.timezone)
            error = tables.clip(d.last_error or d.subject, 60)
            rows.append([str(d.id), person.name, d.channel, d.status, str(d.attempts), when, error])
    click.echo("  ".join(f"{state} {counts.get(state, 0)}" for state in SHOWN))
    if withdrawn:
        click.echo(
            f"{withdrawn} reminders withdrawn: their deadline moved with the calendar (houqin "
            "replan); the sweep plans the new deadline's reminders"
        )
    if counts.get("unconfirmed"):
        click.echo(
            f"{counts['unconfirmed']} unconfirmed: they may or may not have arrived; check with "
            "the recipient, then `houqin outbox resend ID` or `houqin outbox delivered ID`"
        )
    for problem in problems:
        click.echo(f"unusable setting, its messages fail until fixed: {problem}")
    headers = ["id", "to", "channel", "status", "tries", "when", "subject / error"]
    click.echo(tables.render(headers, rows))


def _act(c: Ctx, delivery_id: int, action: str, by: str, today: datetime | None) -> None:
    with c.unit() as s:
        message = outbox_state.act(
            s, delivery_id=delivery_id, action=action, now=c.now(today), by=by
        )
    click.echo(f"message {delivery_id}: {message}")


@outbox.command("resend")
@click.argument("delivery_id", type=int)
@by_option
@today_option
@pass_ctx
def outbox_resend(c: Ctx, delivery_id: int, by: str, today: datetime | None) -> None:
    """Queue a failed or unconfirmed message again; the next delivery run sends it."""
    _act(c, delivery_id, "resend", by, today)


@outbox.command("retry", hidden=True)
@click.argument("delivery_id", type=int)
@by_option
@today_option
@pass_ctx
def outbox_retry(c: Ctx, delivery_id: int, by: str, today: datetime | None) -> None:
    """The former name of `outbox resend`."""
    _act(c, delivery_id, "resend", by, today)


@outbox.command("delivered")
@click.argument("delivery_id", type=int)
@by_option
@today_option
@pass_ctx
def outbox_delivered(c: Ctx, delivery_id: int, by: str, today: datetime | None) -> None:
    """Mark an unconfirmed message delivered, once the recipient says it arrived."""
    _act(c, delivery_id, "delivered", by, today)


@outbox.command("send")
@click.option(
    "--now",
    "now_",
    type=click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]),
    help="Deliver as of this local time (YYYY-MM-DD HH:MM), to replay a day.",
)
@pass_ctx
def outbox_send(c: Ctx, now_: datetime | None) -> None:
    """Send what is due in the outbox now (the `deliver` deployment does it every 5 minutes).

    Exits 1 when something failed, became unconfirmed or a school's settings are unusable.
    """
    now = c.now(now_, f"{now_:%H:%M}") if now_ else c.now(None)
    try:
        report = deliver(c.engine(), now=now, settings=c.settings)
    except LedgerUnavailable as exc:
        raise UserError(str(exc)) from None
    click.echo(report.line())
    for error in report.errors:
        click.echo(f"  {error}")
    if report.trouble():
        raise click.exceptions.Exit(1)
