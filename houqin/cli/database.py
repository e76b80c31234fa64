"""``houqin init``: create or upgrade the ledger."""

from __future__ import annotations

import click

from houqin.cli.context import Ctx, pass_ctx
from houqin.migrate import upgrade


@click.command()
@pass_ctx
def init(c: Ctx) -> None:
    """Create or upgrade the ledger database to the newest schema."""
    engine = c.engine(check=False)
    upgrade(engine)
    click.echo(f"ledger ready: {engine.url.render_as_string(hide_password=True)}")
