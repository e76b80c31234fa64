"""``houqin launch``: a plan launched for a school and period, as a Prefect flow run; or with
``--due``, every plan whose launch time has passed and that a school does not have yet."""

from __future__ import annotations

from datetime import datetime

import click

from flows.recorded_run import NotRecorded, RecordedRun, needs_credentials
from houqin import launch as launching
from houqin.cli.context import Ctx, by_option, pass_ctx, today_option
from houqin.cli.plans import preview
from houqin.errors import SetupError, UserError
from houqin.people import get_school
from houqin.prefect_env import Orchestrator
from houqin.schedules import due_launches
from houqin.sources import get_plan, load_calendars, load_plans


@click.command()
@click.argument("template", required=False)
@click.option("--school", help="School code.")
@click.option("--period", help="School year (2026-2027) or term (2026-2027/2).")
@click.option(
    "--due",
    is_flag=True,
    help="Launch every plan whose launch time has passed, for each school that lacks it.",
)
@by_option
@click.option(
    "--preview", "show", is_flag=True, help="Show the items and deadlines; write nothing."
)
@today_option
@pass_ctx
def launch(
    c: Ctx,
    template: str | None,
    school: str | None,
    period: str | None,
    due: bool,
    by: str,
    show: bool,
    today: datetime | None,
) -> None:
    """Launch a plan for a school and period, as a Prefect flow run (idempotent)."""
    if due:
        if template or school or period:
            raise click.UsageError(
                "--due launches every due plan: give no TEMPLATE, --school, --period"
            )
        _launch_due(c, by, show, today)
        return
    if not (template and school and period):
        raise click.UsageError("give TEMPLATE, --school and --period (or --due)")
    if show:
        for key, when in preview(c, template, school, period).items():
            click.echo(f"{key}: {when}")
        return
    # Everything a launch needs is checked here, before a flow run starts: a mistake is one
    # message, not a failed run's traceback; a plan already launched needs no run at all.
    with c.unit() as s:
        already = launching.check_launch(
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
    if where.api_url and not needs_credentials():
        _launch_recorded(c, where, template, school, period, by, today)
        return
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


def _launch_recorded(
    c: Ctx,
    where: Orchestrator,
    template: str,
    school: str,
    period: str,
    by: str,
    today: datetime | None,
) -> None:
    """The launch done in this process and recorded on the server as a run of the
    ``launch-plan`` flow, without importing Prefect (flows/recorded_run.py says why)."""
    assert where.api_url is not None  # the caller's condition
    plan = get_plan(c.settings, template)
    try:
        run = RecordedRun.start(
            where.api_url,
            flow="launch-plan",
            name=f"launch {template} · {school} · {period}",
            parameters={
                "template": template,
                "period": period,
                "school": school,
                "launched_by": by,
                "today": today.date().isoformat() if today else None,
            },
            tags=["houqin", "plan", f"plan:{template}"],
        )
    except NotRecorded as exc:
        raise NotRecorded(f"{exc}; nothing launched") from exc
    recorded = where.describe(run.id)
    try:
        with c.unit() as s:
            result = launching.launch(
                s,
                template=plan,
                school=get_school(s, school),
                period=period,
                book=load_calendars(c.settings),
                by=by,
                now=c.now(today, "08:00"),
                flow_run_id=run.id,
            )
            event = launching.announcement(result, plan, school)
    except Exception as exc:  # nothing was written; the run says why, with the traceback
        try:
            run.fail(exc)
        except NotRecorded as lost:
            click.echo(f"houqin: {lost}", err=True)
        click.echo(recorded, err=True)
        if isinstance(exc, UserError):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""  # a database error's SQL follows
        raise SetupError(f"nothing launched: {type(exc).__name__}: {first}") from exc
    click.echo(result.message)
    try:
        run.log(f"{school}: {result.message}")
        if result.created:
            run.event(**event)
        run.complete(result.message)
    except NotRecorded as exc:  # the launch stands; only its record is incomplete
        click.echo(f"houqin: launched, but {exc}; the run may still show Running", err=True)
    click.echo(recorded)


def _launch_due(c: Ctx, by: str, show: bool, today: datetime | None) -> None:
    now = c.now(today, "08:00")
    with c.unit() as s:
        due = due_launches(s, load_plans(c.settings).values(), load_calendars(c.settings), now)
    for d in due:
        click.echo(f"due: {d.template} · {d.school} · {d.period} (since {d.at:%Y-%m-%d %H:%M})")
    if show or not due:
        click.echo(f"{len(due)} launches due at {now:%Y-%m-%d %H:%M}")
        return
    where = c.orchestrator()
    from flows.launch_due import run_launch_due  # deliberate: imports Prefect, to run a flow

    state = run_launch_due(launched_by=by, today=now.date())
    click.echo(where.describe(state.state_details.flow_run_id))
    if state.is_failed():
        raise click.ClickException(state.message or "launch --due failed")
    for school, launched in state.result().items():
        for line in launched.values():
            click.echo(f"{school}: {line['message']}")
