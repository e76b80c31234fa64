"""The root group, ``houqin``, and ``main``: every command registered, every error one line.

Exit status: 0 done; 2 a bad argument or a name that does not exist (one line, with where to
look for help); 1 a rejected file (every problem with its file, line and field) or an
installation problem such as a ledger at another schema (one line saying what to do).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from houqin.cli.accounts import user
from houqin.cli.calendar import calendar
from houqin.cli.context import LANGS, Ctx
from houqin.cli.database import init
from houqin.cli.demo import demo
from houqin.cli.deployments import deployments
from houqin.cli.items import items, reassign, tick, untick, waive
from houqin.cli.launch import launch
from houqin.cli.outbox import outbox
from houqin.cli.people import people
from houqin.cli.plans import plans
from houqin.cli.repairs import repair
from houqin.cli.reports import report
from houqin.cli.scores import score
from houqin.cli.sweep import sweep
from houqin.cli.web import ical, serve
from houqin.errors import SetupError, UserError, ValidationFailed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default="zh-CN",
    show_default=True,
    envvar="HOUQIN_LANG",
    help="Language of titles and labels.",
)
@click.version_option(package_name="houqin")
@click.pass_context
def cli(ctx: click.Context, lang: str) -> None:
    """Houqin (后勤): seasonal logistics plans as checklists with owners and deadlines."""
    ctx.obj = Ctx(lang)


COMMANDS = (
    init,
    calendar,
    people,
    plans,
    launch,
    items,
    tick,
    untick,
    reassign,
    waive,
    sweep,
    outbox,
    report,
    repair,
    score,
    user,
    serve,
    ical,
    deployments,
    demo,
)
for command in COMMANDS:
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="houqin", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.UsageError as e:
        where = e.ctx.command_path if e.ctx else "houqin"
        click.echo(f"{where}: {e.format_message()} (see {where} --help)", err=True)
        return 2
    except ValidationFailed as e:
        click.echo(f"rejected, nothing was changed ({len(e.problems)} problems):", err=True)
        for p in e.problems:
            click.echo(f"  {p}", err=True)
        return 1
    except SetupError as e:
        click.echo(f"houqin: {e}", err=True)
        return 1
    except UserError as e:
        click.echo(f"houqin: {e}", err=True)
        return 2
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
