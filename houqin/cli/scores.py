"""``houqin score``: inspection scores, veto incidents and findings entered by people."""

from __future__ import annotations

from datetime import datetime

import click

from houqin import scores
from houqin.cli.context import Ctx, pass_ctx, today_option
from houqin.cli.reports import standard_option
from houqin.people import get_school
from houqin.standards import get_standard, standard_for


@click.group()
def score() -> None:
    """Scores entered by people: inspections (daily / special / third-party), vetoes, findings."""


@score.command("add")
@click.option("--school", required=True, help="School code.")
@click.option("--period", required=True, help="2027Q1, 2026-2027/1 or 2026-2027.")
@click.option("--kpi", required=True, help="KPI, veto or deduction key (see: score keys).")
@click.option(
    "--source",
    required=True,
    type=click.Choice(["daily", "special", "third_party"]),
    help="日常检查 daily, 专项督查 special, 第三方评估 third_party.",
)
@click.option("--score", "value", required=True, type=float, help="The score or count.")
@click.option("--note", help="What was found; required to withdraw (a negative count).")
@click.option("--by", required=True, help="Who entered it.")
@standard_option
@today_option
@pass_ctx
def score_add(
    c: Ctx,
    school: str,
    period: str,
    kpi: str,
    source: str,
    value: float,
    note: str | None,
    by: str,
    standard: str | None,
    today: datetime | None,
) -> None:
    """Enter one inspection score, veto incident or deduction finding."""
    with c.unit() as s:
        target = get_school(s, school)
        entry = scores.enter(
            s,
            standard=get_standard(standard) if standard else standard_for(target),
            school=target,
            period=period,
            kpi=kpi,
            source=source,
            score=value,
            by=by,
            now=c.now(today),
            note=note,
        )
        click.echo(f"score {entry.id}: {kpi} {source} {value:g} for {entry.period}")


@score.command("keys")
@standard_option
@click.option("--school", help="School code: its kind's standard (without --standard).")
@pass_ctx
def score_keys(c: Ctx, standard: str | None, school: str | None) -> None:
    """List what can be entered by hand for a standard."""
    if standard:
        std = get_standard(standard)
    elif school:
        with c.unit() as s:
            std = standard_for(get_school(s, school))
    else:
        raise click.UsageError("give --standard KEY or --school CODE")
    for key in scores.enterable(std):
        found = std.entry(key)
        title = found.title.label(c.lang) if found is not None else ""
        click.echo(f"{key:32} {title}")
