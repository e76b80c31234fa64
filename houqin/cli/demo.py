"""``houqin demo``: a season replayed end to end."""

from __future__ import annotations

from pathlib import Path

import click

from houqin.cli.context import Ctx, pass_ctx


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Where the demo writes its database and files.",
)
@pass_ctx
def demo(c: Ctx, out: Path) -> None:
    """Replay a season end to end on a fresh embedded database and say what happened."""
    from houqin.demo import run_demo  # deliberate: runs flows, so it imports Prefect

    run_demo(out, lang=c.lang)
