"""``houqin launch``: a plan launched for a school and period, as a Prefect flow run."""

from __future__ import annotations

from datetime import datetime

import click

from houqin.cli.context import Ctx, by_option, pass_ctx, today_option
from houqin.cli.plans import preview
from houqin.launch import check_launch
from houqin.people import get_school
from houqin.sources import get_plan, load_calendars


@click.command()
@click.argument("template")
@click.option("--school", required=True, help="School code.")
@click.option("--period", required=True, help="School year (2026-2027) or term (2026-2027/2).")
@by_option
@click.option(
    "--preview", "show", is_flag=True, help="Show the items and deadlines; write nothing."
)
@today_option
@pass_ctx
def launch(
    c: Ctx,
    template: str,
    school: str,
    period: str,
    by: str,
    show: bool,
    today: datetime | None,
) -> None:
    """Launch a plan for a school and period, as a Prefect flow run (idempotent)."""
    if show:
        for key, when in preview(c, template, school, period).items():
            click.echo(f"{key}: {when}")
        return
    # Everything a launch needs is checked here, before a flow run starts: a mistake is one
    # message, not a failed run's traceback; a plan already launched needs no run at all.
    with c.unit() as s:
        already = check_launch(
            s,
            template=get_plan(c.settings, template),
            school=get_school(s, school),
            period=period,
            book=load_calendars(c.settings),
        )
    if already is not None:
        click.echo(already.message)
        return
    where = c.orchestrator()
    from flows.launch_plan import run_launch_plan  # deliberate: imports Prefect, to run a flow

    state = run_launch_plan(
        template=template,
        school=school,
        period=period,
        launched_by=by,
        today=today.date() if today else None,
    )
    result = state.result()
    click.echo(result["message"])
    click.echo(where.describe(state.state_details.flow_run_id))
