"""``houqin init``: create or upgrade the ledger, and make the secret key if there is none."""

from __future__ import annotations

import click

from houqin.cli.context import Ctx, pass_ctx
from houqin.migrate import upgrade
from houqin.secret_key import ensure_key
from houqin.secret_key import rotate_key as new_key


@click.command()
@click.option(
    "--rotate-key",
    is_flag=True,
    help="Replace the secret key in the data directory with a new random one: every reminder "
    "link, session and open form signed with the old key stops working.",
)
@pass_ctx
def init(c: Ctx, rotate_key: bool) -> None:
    """Create or upgrade the ledger database to the newest schema, and make a random secret
    key in the data directory unless one is there or HOUQIN_SECRET_KEY is set."""
    engine = c.engine(check=False)
    upgrade(engine)
    click.echo(f"ledger ready: {engine.url.render_as_string(hide_password=True)}")
    if rotate_key:
        path = new_key(c.settings)
        click.echo(f"secret key: {path} replaced; every link and session signed before is void")
        return
    source = ensure_key(c.settings)
    state = "made, mode 0600" if source.created else "kept"
    if source.where == "HOUQIN_SECRET_KEY":
        state = "set in the environment; nothing written"
    click.echo(f"secret key: {source.where} ({state})")
