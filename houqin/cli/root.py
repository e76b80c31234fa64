"""The root group, ``houqin``, and ``main``: every command registered, every error one line.

Exit status: 0 done; 2 a bad argument or a name that does not exist (one line, with where to
look for help); 1 a rejected file (every problem with its file, line and field) or an
installation problem such as a ledger at another schema (one line saying what to do).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from houqin.bilingual import LANGS
from houqin.cli.context import Ctx
from houqin.errors import SetupError, UserError, ValidationFailed

# Every command, by name -> "module:object". Loaded on first use, so `houqin launch` imports
# what launching needs and not the reports, the web stack or the accounts (click's lazy group).
COMMANDS = {
    "init": "houqin.cli.database:init",
    "calendar": "houqin.cli.calendar:calendar",
    "people": "houqin.cli.people:people",
    "plans": "houqin.cli.plans:plans",
    "launch": "houqin.cli.launch:launch",
    "items": "houqin.cli.items:items",
    "tick": "houqin.cli.items:tick",
    "untick": "houqin.cli.items:untick",
    "reassign": "houqin.cli.items:reassign",
    "waive": "houqin.cli.items:waive",
    "replan": "houqin.cli.replan:replan_command",
    "sweep": "houqin.cli.sweep:sweep",
    "outbox": "houqin.cli.outbox:outbox",
    "report": "houqin.cli.reports:report",
    "repair": "houqin.cli.repairs:repair",
    "score": "houqin.cli.scores:score",
    "user": "houqin.cli.accounts:user",
    "serve": "houqin.cli.web:serve",
    "ical": "houqin.cli.web:ical",
    "deployments": "houqin.cli.deployments:deployments",
    "demo": "houqin.cli.demo:demo",
}


class CommandRegistry(click.Group):
    """A group whose commands are imported when they are asked for (``COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, name = target.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command), target
        return command


@click.group(cls=CommandRegistry, context_settings={"help_option_names": ["-h", "--help"]})
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
