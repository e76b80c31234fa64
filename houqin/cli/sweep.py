"""``houqin sweep``: the scheduled reminder sweep, on demand or replayed."""

from __future__ import annotations

from datetime import datetime

import click

from houqin.cli.context import Ctx, pass_ctx, today_option
from houqin.sources import load_calendars


@click.command()
@click.option(
    "--now",
    "now_",
    type=click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]),
    help="Sweep as of this local time (YYYY-MM-DD HH:MM), to replay a day.",
)
@click.option("--school", help="Only this school.")
@click.option("--force", is_flag=True, help="Sweep even on a day off.")
@today_option
@pass_ctx
def sweep(
    c: Ctx, now_: datetime | None, school: str | None, force: bool, today: datetime | None
) -> None:
    """Send due reminders and escalations now (the scheduled sweep, on demand)."""
    at = None
    if now_ is not None:
        today, at = now_, f"{now_:%H:%M}"
    # Checked before a flow run starts, so a mistake is one line, not a failed run's traceback:
    # the ledger's schema, and a calendar that holds the day (not a guessed working day).
    c.engine()
    load_calendars(c.settings).is_workday(c.now(today, at).date())
    where = c.orchestrator()
    from flows.runs import summary_of  # deliberate: imports Prefect, only to run a flow
    from flows.sweep import sweep as sweep_flow  # deliberate: as above

    state = sweep_flow(
        today=today.date() if today else None, at=at, school=school, force=force, return_state=True
    )
    result = state.result() if not state.is_failed() else summary_of(state)
    if not isinstance(result, dict):  # failed before it had a summary: the state says why
        raise click.ClickException(state.message or "the sweep failed")
    if result.get("skipped"):
        click.echo("not a working day: nothing sent (use --force to sweep anyway)")
    else:
        click.echo(
            f"{result['outbox_rows']} reminders/escalations queued, {result['messages']} messages, "
            f"{result['sent']} sent, {result['retrying']} to retry, {result['failed']} failed, "
            f"{result['unconfirmed']} unconfirmed ({result['unconfirmed_waiting']} in all, "
            "waiting for a person: houqin outbox)"
        )
        for error in result["errors"]:
            click.echo(f"  failed: {error}")
        for problem in result["school_errors"].values():
            click.echo(f"  unusable setting, that school's reminders stopped: {problem}")
    click.echo(where.describe(state.state_details.flow_run_id))
    if state.is_failed():
        raise click.ClickException(f"the sweep ended Failed: {state.message}")
