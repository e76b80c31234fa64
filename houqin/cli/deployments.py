"""``houqin deployments``: list the scheduled launches, or (re)generate prefect.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from houqin.cli.context import Ctx, pass_ctx
from houqin.deployments import generate
from houqin.schedules import launch_schedules
from houqin.sources import load_calendars, load_plans


@click.command("deployments")
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("prefect.yaml"),
    show_default=True,
    help="The prefect.yaml to write or check.",
)
@click.option("--write", is_flag=True, help="(Re)write the file.")
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from what --write writes.")
@pass_ctx
def deployments(c: Ctx, path: Path, write: bool, check: bool) -> None:
    """Generate prefect.yaml: each plan's launches, the sweep and the weekly digest.

    Without --write or --check, list every scheduled launch.
    """
    if write and check:
        raise click.UsageError("give --write or --check, not both")
    if not (write or check):
        found = launch_schedules(load_plans(c.settings).values(), load_calendars(c.settings))
        for s in sorted(found, key=lambda s: (s.at, s.template)):
            click.echo(f"{s.at:%Y-%m-%d %a %H:%M}  {s.template:<26} {s.period}")
        return
    text = generate(c.settings)
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == text:
        click.echo(f"{path} is up to date")
    elif check:
        what = "is missing" if current is None else "is out of date"
        click.echo(f"{path} {what}; run: houqin deployments --write", err=True)
        raise click.exceptions.Exit(1)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
