"""``houqin plans``: the plan templates, and ``preview``, the deadlines a launch would set."""

from __future__ import annotations

from pathlib import Path

import click

from houqin import tables
from houqin.cli.context import Ctx, pass_ctx
from houqin.launch import plan_items
from houqin.people import get_school
from houqin.periods import parse_period
from houqin.plan_templates import builtin_plans_dir, load_templates
from houqin.recurrence import series_key
from houqin.roles import ROLES
from houqin.school_profiles import check_applies
from houqin.sources import get_plan, load_calendars, load_plans


@click.group()
def plans() -> None:
    """Plan templates: the built-in seasonal plans and the school's own."""


@plans.command("list")
@pass_ctx
def plans_list(c: Ctx) -> None:
    """List the plan templates."""
    rows = [
        [t.key, t.title(c.lang), t.season or "", t.period, str(len(t.items)), t.version]
        for t in sorted(load_plans(c.settings).values(), key=lambda t: t.key)
    ]
    click.echo(tables.render(["key", "title", "season", "period", "items", "version"], rows))


@plans.command("show")
@click.argument("key")
@click.option("--school", help="With --period: show each item's owner and deadline.")
@click.option("--period", help="School year (2026-2027) or term (2026-2027/2).")
@pass_ctx
def plans_show(c: Ctx, key: str, school: str | None, period: str | None) -> None:
    """Show a template's phases and items; with --school and --period, the real deadlines."""
    t = get_plan(c.settings, key)
    click.echo(f"{t.title(c.lang)}  [{t.key} {t.version}]  {t.path}")
    planned: dict[str, str] = {}
    if school and period:
        planned = preview(c, key, school, period)
    elif school or period:
        raise click.UsageError("--school and --period go together")
    for phase in t.phases:
        click.echo(f"\n{phase.title(c.lang)}")
        for item in (i for i in t.items if i.phase == phase.key):
            when = str(item.due) if item.repeat is None else f"{item.due}, {item.repeat}"
            if planned and item.repeat is None:
                when = planned[item.key]
            click.echo(f"  - {item.title(c.lang)}  [{t.role(item.role).label(c.lang)}]  {when}")
            for occurrence, at in planned.items():  # a recurring item: each occurrence
                if item.repeat is not None and series_key(occurrence) == item.key:
                    click.echo(f"      @{occurrence.partition('@')[2]}: {at}")
            for n, step in enumerate(item.steps, 1):
                click.echo(f"      {n}. {step.label(c.lang)}")


def preview(c: Ctx, key: str, school_code: str, period: str) -> dict[str, str]:
    """Each item's deadline and owner as a launch would set them; nothing is written."""
    t = get_plan(c.settings, key)
    with c.unit() as s:
        school = get_school(s, school_code)
        check_applies(t, school)
        planned = plan_items(
            s,
            template=t,
            school=school,
            period=parse_period(period, t.period),
            book=load_calendars(c.settings),
        )
        return {
            p.key: tables.when(p.due_at, school.timezone)
            + (" (暂定)" if p.due_provisional else "")
            + f" → {p.owner.name}"
            for p in planned
        }


@plans.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@pass_ctx
def plans_validate(c: Ctx, files: tuple[Path, ...]) -> None:
    """Check plan files (default: the built-in and the school's own); list every problem."""
    defaults = (builtin_plans_dir(), c.settings.plans_dir)
    found = load_templates(list(files) or [p for p in defaults if p is not None])
    click.echo(
        f"ok: {len(found)} plan templates, {sum(len(t.items) for t in found.values())} items"
    )


@plans.command("roles")
def plans_roles() -> None:
    """List the role keys a roster and a plan can use."""
    rows = [[r.key, r.zh, r.en] for r in ROLES.values()]
    click.echo(tables.render(["key", "中文", "English"], rows))
