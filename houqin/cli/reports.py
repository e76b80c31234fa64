"""``houqin report``: plan completion, the overdue digest, the assessment score."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.cli.context import Ctx, at_option, pass_ctx, today_option
from houqin.errors import UserError
from houqin.models import PlanRun, School
from houqin.people import get_school
from houqin.reports import assessment_text, completion, overdue
from houqin.reports.assessment import assess
from houqin.standards import get_standard, standard_for

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf", "xlsx"]),
    default="html",
    show_default=True,
    help="Output format.",
)
out_option = click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Output file (default: <data dir>/reports/<report>.<format>).",
)
standard_option = click.option(
    "--standard",
    help="Assessment standard (a file in plans/standards/); default: the school's kind's.",
)


@click.group()
def report() -> None:
    """Reports: plan completion, the overdue digest, the assessment score."""


@report.command("completion")
@click.option("--run", "run_id", type=int, help="Plan run id (or --school, --plan, --period).")
@click.option("--school", help="School code, with --plan and --period.")
@click.option("--plan", help="Plan template key, with --school and --period.")
@click.option("--period", help="The run's period (2026-2027 or 2026-2027/2).")
@format_option
@out_option
@today_option
@pass_ctx
def report_completion(
    c: Ctx,
    run_id: int | None,
    school: str | None,
    plan: str | None,
    period: str | None,
    fmt: str,
    out: Path | None,
    today: datetime | None,
) -> None:
    """How a plan run went: done on time / late / open / waived, evidence, waivers."""
    from houqin.reports import output  # deliberate: WeasyPrint and matplotlib take seconds

    with c.unit() as s:
        run_id = run_id if run_id is not None else _find_run(s, school, plan, period)
        built = completion.build(s, run_id=run_id, now=c.now(today), photo_root=c.settings.data_dir)
    path = output.write(built, fmt, c.out(out, f"completion-{run_id}", fmt), c.lang)
    click.echo(f"{path}  ({built.totals.total} items, on time {built.totals.on_time_rate}%)")


@report.command("overdue")
@click.option("--school", help="One school's digest (school code).")
@click.option("--district", help="A district's digest, across its schools.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf", "xlsx", "txt"]),
    default="txt",
    show_default=True,
    help="Output format; txt is the e-mail body.",
)
@out_option
@click.option("--sent", is_flag=True, help="Record this digest as sent: the next compares to it.")
@click.option("--limit", type=int, default=200, show_default=True, help="Items listed at most.")
@today_option
@at_option
@pass_ctx
def report_overdue(
    c: Ctx,
    school: str | None,
    district: str | None,
    fmt: str,
    out: Path | None,
    sent: bool,
    limit: int,
    today: datetime | None,
    at: str | None,
) -> None:
    """Open overdue items by owner and age, what changed since the last digest, worst plans."""
    from houqin.reports import output  # deliberate: WeasyPrint and matplotlib take seconds

    scope = overdue.scope_of(school=school, district=district)
    with c.unit() as s:
        digest = overdue.build(s, scope=scope, now=c.now(today, at), sent=sent, limit=limit)
    if fmt == "txt" and out is None:
        subject, body = output.digest_text(digest, c.lang)
        click.echo(f"{subject}\n\n{body}", nl=False)
        return
    name = f"overdue-{scope.replace(':', '-')}"
    if fmt == "txt":
        path = c.out(out, name, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(output.digest_text(digest, c.lang)), encoding="utf-8")
    else:
        path = output.write(digest, fmt, c.out(out, name, fmt), c.lang)
    click.echo(f"{path}  ({digest.total} overdue, {digest.newly_count} new)")


@report.command("assessment")
@click.option("--school", required=True, help="School code.")
@click.option("--period", required=True, help="2027Q1, 2026-2027/1 (a term) or 2026-2027.")
@standard_option
@format_option
@out_option
@today_option
@pass_ctx
def report_assessment(
    c: Ctx,
    school: str,
    period: str,
    standard: str | None,
    fmt: str,
    out: Path | None,
    today: datetime | None,
) -> None:
    """Score a school against a standard for a quarter or a term, showing every step."""
    from houqin.reports import output  # deliberate: WeasyPrint and matplotlib take seconds

    with c.unit() as s:
        target = get_school(s, school)
        std = get_standard(standard) if standard else standard_for(target)
        result = assess(s, standard=std, school=target, period=period, now=c.now(today))
    name = f"assessment-{school}-{result.window.label.replace('/', '-')}"
    path = output.write(result, fmt, c.out(out, name, fmt), c.lang)
    # the result in the user's language: a band and its total, or 数据不足 and why
    click.echo(f"{path}  ({assessment_text.line(result, c.lang)})")


def _find_run(s: Session, school: str | None, plan: str | None, period: str | None) -> int:
    if not (school and plan and period):
        raise UserError("give --run, or all of --school, --plan and --period")
    run_id = s.scalar(
        select(PlanRun.id)
        .join(School, School.id == PlanRun.school_id)
        .where(School.code == school, PlanRun.template_key == plan, PlanRun.period == period)
    )
    if run_id is None:
        raise UserError(f"no run of {plan!r} for school {school!r} and period {period!r}")
    return int(run_id)
