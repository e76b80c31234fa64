"""``houqin report``, ``houqin repair`` and ``houqin score``: reports and what feeds the score.

Registered on the main group in houqin/cli.py (``cli.add_command``). Like the rest of the CLI:
parse, open a unit of work, call one core function, print; bad arguments raise UserError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.orm import Session

from houqin.db import unit_of_work
from houqin.errors import UserError

if TYPE_CHECKING:
    from houqin.cli import Ctx

DATE = click.DateTime(formats=["%Y-%m-%d"])
today_option = click.option(
    "--today", type=DATE, help="Act as if today were this date (YYYY-MM-DD), to replay a season."
)
at_option = click.option("--at", "at", metavar="HH:MM", help="With --today: the time of day.")
format_option = click.option(
    "--format", "fmt", type=click.Choice(["html", "pdf", "xlsx"]), default="html",
    show_default=True, help="Output format.",
)  # fmt: skip
out_option = click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False),
    help="Output file (default: <data dir>/reports/<report>.<format>).",
)  # fmt: skip
standard_option = click.option(
    "--standard", default="primary_school", show_default=True,
    help="Assessment standard (a file in plans/standards/).",
)  # fmt: skip


def _ctx() -> Ctx:
    """The main group's context object, or a fresh one when a group runs on its own."""
    from houqin.cli import Ctx

    root = click.get_current_context().find_root()
    if not isinstance(root.obj, Ctx):
        root.obj = Ctx("zh-CN")
    return root.obj


@contextmanager
def _unit(c: Ctx) -> Iterator[Session]:
    """One unit of work on an engine of its own, closed after: a command is one transaction."""
    engine = c.engine()
    try:
        with unit_of_work(engine) as session:
            yield session
    finally:
        engine.dispose()


def _out(c: Ctx, out: Path | None, name: str, fmt: str) -> Path:
    return out or c.settings.data_dir / "reports" / f"{name}.{fmt}"


# -- reports --------------------------------------------------------------------------------


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
def report_completion(
    run_id: int | None, school: str | None, plan: str | None, period: str | None, fmt: str,
    out: Path | None, today: datetime | None,
) -> None:  # fmt: skip
    """How a plan run went: done on time / late / open / waived, evidence, waivers."""
    from houqin.reports import completion, output

    c = _ctx()
    with _unit(c) as s:
        run_id = run_id if run_id is not None else _find_run(s, school, plan, period)
        built = completion.build(s, run_id=run_id, now=c.now(today), photo_root=c.settings.data_dir)
    path = output.write(built, fmt, _out(c, out, f"completion-{run_id}", fmt), c.lang)
    click.echo(f"{path}  ({built.totals.total} items, on time {built.totals.on_time_rate}%)")


@report.command("overdue")
@click.option("--school", help="One school's digest (school code).")
@click.option("--district", help="A district's digest, across its schools.")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "pdf", "xlsx", "txt"]), default="txt",
    show_default=True, help="Output format; txt is the e-mail body.",
)  # fmt: skip
@out_option
@click.option("--sent", is_flag=True, help="Record this digest as sent: the next compares to it.")
@click.option("--limit", type=int, default=200, show_default=True, help="Items listed at most.")
@today_option
@at_option
def report_overdue(
    school: str | None, district: str | None, fmt: str, out: Path | None, sent: bool,
    limit: int, today: datetime | None, at: str | None,
) -> None:  # fmt: skip
    """Open overdue items by owner and age, what changed since the last digest, worst plans."""
    from houqin.reports import output, overdue

    c = _ctx()
    scope = overdue.scope_of(school=school, district=district)
    with _unit(c) as s:
        digest = overdue.build(s, scope=scope, now=c.now(today, at), sent=sent, limit=limit)
    if fmt == "txt" and out is None:
        subject, body = output.digest_text(digest, c.lang)
        click.echo(f"{subject}\n\n{body}", nl=False)
        return
    name = f"overdue-{scope.replace(':', '-')}"
    if fmt == "txt":
        path = _out(c, out, name, fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(output.digest_text(digest, c.lang)), encoding="utf-8")
    else:
        path = output.write(digest, fmt, _out(c, out, name, fmt), c.lang)
    click.echo(f"{path}  ({digest.total} overdue, {digest.newly_count} new)")


@report.command("assessment")
@click.option("--school", required=True, help="School code.")
@click.option("--period", required=True, help="2027Q1, 2026-2027/1 (a term) or 2026-2027.")
@standard_option
@format_option
@out_option
@today_option
def report_assessment(
    school: str, period: str, standard: str, fmt: str, out: Path | None, today: datetime | None
) -> None:
    """Score a school against a standard for a quarter or a term, showing every step."""
    from houqin.people import get_school
    from houqin.reports import output
    from houqin.reports.assessment import assess
    from houqin.standards import get_standard

    c = _ctx()
    std = get_standard(standard)
    with _unit(c) as s:
        result = assess(s, standard=std, school=get_school(s, school), period=period,
                        now=c.now(today))  # fmt: skip
    name = f"assessment-{school}-{result.window.label.replace('/', '-')}"
    path = output.write(result, fmt, _out(c, out, name, fmt), c.lang)
    veto = f", veto: {', '.join(v.veto.key for v in result.fired)}" if result.fired else ""
    click.echo(f"{path}  ({result.total:g} points, {result.band.key}{veto})")


def _find_run(s: Any, school: str | None, plan: str | None, period: str | None) -> int:
    from sqlalchemy import select

    from houqin.models import PlanRun, School

    if not (school and plan and period):
        raise UserError("give --run, or all of --school, --plan and --period")
    run_id = s.scalar(
        select(PlanRun.id).join(School, School.id == PlanRun.school_id)
        .where(School.code == school, PlanRun.template_key == plan, PlanRun.period == period)
    )  # fmt: skip
    if run_id is None:
        raise UserError(f"no run of {plan!r} for school {school!r} and period {period!r}")
    return int(run_id)


# -- repairs --------------------------------------------------------------------------------


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
def repair_add(
    school: str, location: str, description: str, by: str, today: datetime | None,
    at: str | None,
) -> None:  # fmt: skip
    """Record a repair request as reported now (or --today --at)."""
    from houqin import repairs
    from houqin.clock import as_local
    from houqin.people import get_school

    c = _ctx()
    with _unit(c) as s:
        r = repairs.report(s, school=get_school(s, school), location=location,
                           description=description, by=by, now=c.now(today, at))  # fmt: skip
        when = as_local(r.reported_at, c.settings.timezone)
        click.echo(f"repair {r.id}: reported at {when:%Y-%m-%d %H:%M}")


@repair.command("respond")
@click.argument("repair_id", type=int)
@click.option("--by", required=True, help="Who answered.")
@today_option
@at_option
def repair_respond(repair_id: int, by: str, today: datetime | None, at: str | None) -> None:
    """Record the first answer to a repair request."""
    from houqin import repairs

    c = _ctx()
    with _unit(c) as s:
        r = repairs.respond(s, repair_id=repair_id, by=by, now=c.now(today, at))
        minutes = (r.responded_at - r.reported_at).total_seconds() / 60  # type: ignore[operator]
    click.echo(f"repair {repair_id}: answered after {minutes:.0f} minutes")


@repair.command("close")
@click.argument("repair_id", type=int)
@click.option("--by", required=True, help="Who fixed it.")
@today_option
@at_option
def repair_close(repair_id: int, by: str, today: datetime | None, at: str | None) -> None:
    """Record that the repair is done."""
    from houqin import repairs

    c = _ctx()
    with _unit(c) as s:
        r = repairs.complete(s, repair_id=repair_id, by=by, now=c.now(today, at))
        hours = (r.completed_at - r.reported_at).total_seconds() / 3600  # type: ignore[operator]
    click.echo(f"repair {repair_id}: closed after {hours:.1f} hours")


# -- scores ---------------------------------------------------------------------------------


@click.group()
def score() -> None:
    """Scores entered by people: inspections (daily / special / third-party), vetoes, findings."""


@score.command("add")
@click.option("--school", required=True, help="School code.")
@click.option("--period", required=True, help="2027Q1, 2026-2027/1 or 2026-2027.")
@click.option("--kpi", required=True, help="KPI, veto or deduction key (see: score keys).")
@click.option(
    "--source", required=True, type=click.Choice(["daily", "special", "third_party"]),
    help="日常检查 daily, 专项督查 special, 第三方评估 third_party.",
)  # fmt: skip
@click.option("--score", "value", required=True, type=float, help="The score or count.")
@click.option("--note", help="What was found; required to withdraw (a negative count).")
@click.option("--by", required=True, help="Who entered it.")
@standard_option
@today_option
def score_add(
    school: str, period: str, kpi: str, source: str, value: float, note: str | None, by: str,
    standard: str, today: datetime | None,
) -> None:  # fmt: skip
    """Enter one inspection score, veto incident or deduction finding."""
    from houqin import scores
    from houqin.people import get_school
    from houqin.standards import get_standard

    c = _ctx()
    std = get_standard(standard)
    with _unit(c) as s:
        entry = scores.enter(s, standard=std, school=get_school(s, school), period=period,
                             kpi=kpi, source=source, score=value, by=by, now=c.now(today),
                             note=note)  # fmt: skip
        click.echo(f"score {entry.id}: {kpi} {source} {value:g} for {entry.period}")


@score.command("keys")
@standard_option
def score_keys(standard: str) -> None:
    """List what can be entered by hand for a standard."""
    from houqin import scores
    from houqin.standards import get_standard

    c = _ctx()
    std = get_standard(standard)
    for key in scores.enterable(std):
        found = std.entry(key)
        title = found.title.label(c.lang) if found is not None else ""
        click.echo(f"{key:32} {title}")
