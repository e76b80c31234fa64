"""``houqin backup DEST`` and ``houqin restore SOURCE``: the ledger and the data directory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from houqin.backup import backup as write_backup
from houqin.backup import restore as read_backup
from houqin.cli.context import Ctx, pass_ctx, today_option


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@today_option
@pass_ctx
def backup(c: Ctx, dest: Path, today: datetime | None) -> None:
    """Copy the ledger and the data directory (photos, reports, secret key) into DEST, a new
    folder. Stop the sweep and the web UI first for a consistent copy (docs/backup.md)."""
    done = write_backup(c.engine(), c.settings.data_dir, dest, now=c.now(today))
    click.echo(f"backup in {dest}: {sum(done.rows.values())} rows, {done.files} files")


@click.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@pass_ctx
def restore(c: Ctx, source: Path) -> None:
    """Fill a new, empty ledger (HOUQIN_DATABASE_URL) and data directory from SOURCE."""
    done = read_backup(source, c.engine(check=False), c.settings.data_dir)
    where = c.engine(check=False).url.render_as_string(hide_password=True)
    click.echo(f"restored into {where} and {c.settings.data_dir}: "
               f"{sum(done.rows.values())} rows, {done.files} files")  # fmt: skip
