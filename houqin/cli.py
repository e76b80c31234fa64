"""The ``houqin`` command. Thin: parse, open a unit of work, call one core function, print.

Bad arguments exit 2 with a one-line message; a rejected file (plan, roster, calendar) exits 1
listing every problem with its file, line and field.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from houqin import clock, tables
from houqin.db import make_engine, unit_of_work
from houqin.errors import UserError, ValidationFailed
from houqin.settings import Settings, get_settings

DATE = click.DateTime(formats=["%Y-%m-%d"])


class Ctx:
    def __init__(self, lang: str):
        self.lang = lang
        self.settings: Settings = get_settings()
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        """One engine per command, disposed when the command ends."""
        if self._engine is None:
            self._engine = make_engine(self.settings)
            click.get_current_context().call_on_close(self._engine.dispose)
        return self._engine

    def now(self, today: datetime | None, at: str | None = None) -> datetime:
        """The instant a command acts at: ``--today`` (replayed, at ``--at`` or 09:00) or now."""
        if today is None:
            return clock.now(self.settings.timezone)
        return clock.moment(today.date(), at or "09:00", self.settings.timezone)


pass_ctx = click.make_pass_decorator(Ctx)
today_option = click.option(
    "--today", type=DATE, help="Act as if today were this date (YYYY-MM-DD), to replay a season."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(["zh-CN", "en"]),
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


@cli.command()
@pass_ctx
def init(c: Ctx) -> None:
    """Create or upgrade the ledger database to the newest schema."""
    from houqin.migrate import upgrade

    engine = c.engine()
    upgrade(engine)
    click.echo(f"ledger ready: {engine.url.render_as_string(hide_password=True)}")


# -- calendars ------------------------------------------------------------------------------------


@cli.group()
def calendar() -> None:
    """School calendars: terms, breaks, exam dates, holidays and 调休."""


@calendar.command("check")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Calendar directory.")
@pass_ctx
def calendar_check(c: Ctx, directory: Path | None) -> None:
    """Validate the calendar files; warn about years whose official 调休 are not entered yet."""
    from calendars import load_book

    book = load_book(directory or c.settings.calendar_dir)
    for key, year in sorted(book.school_years.items()):
        a = year.anchors
        click.echo(
            f"{key}  ({year.path})  第一学期 {a['autumn_term.start']}–{a['autumn_term.end']}  "
            f"第二学期 {a['spring_term.start']}–{a['spring_term.end']}  "
            f"高考 {a['gaokao.start']}  中考 {a['zhongkao.start']}"
        )
    for issue in book.check():
        click.echo(f"{issue.level}: {issue.message}")


# -- people ---------------------------------------------------------------------------------------


@cli.group()
def people() -> None:
    """Staff rosters: names, contact addresses, supervisors, roles."""


@people.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--school", "school_code", help="School code (or give school.code in a YAML roster).")
@click.option("--school-name", help="Create the school with this name if it does not exist.")
@click.option("--by", default="cli", show_default=True, help="Who is importing (for the audit).")
@today_option
@pass_ctx
def people_import(
    c: Ctx,
    file: Path,
    school_code: str | None,
    school_name: str | None,
    by: str,
    today: datetime | None,
) -> None:
    """Import a roster (CSV or YAML); every row is checked before anything is written."""
    from houqin.people import import_roster
    from houqin.sources import load_plans

    extra = [r for t in load_plans(c.settings).values() for r in t.roles.values()]
    with unit_of_work(c.engine()) as s:
        r = import_roster(
            s,
            file,
            school_code=school_code,
            school_name=school_name,
            now=c.now(today),
            actor=by,
            timezone=c.settings.timezone,
            extra_roles=extra,
        )
    click.echo(
        f"{r.school}: {r.created} people added, {r.updated} updated, {r.bound} roles bound"
        + (f", {r.moved_items} open items moved to new role holders" if r.moved_items else "")
    )


# -- plans ----------------------------------------------------------------------------------------


@cli.group()
def plans() -> None:
    """Plan templates: the built-in seasonal plans and the school's own."""


@plans.command("list")
@pass_ctx
def plans_list(c: Ctx) -> None:
    """List the plan templates."""
    from houqin.sources import load_plans

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
    from houqin.sources import get_plan

    t = get_plan(c.settings, key)
    click.echo(f"{t.title(c.lang)}  [{t.key} {t.version}]  {t.path}")
    planned: dict[str, Any] = {}
    if school and period:
        planned = _preview(c, key, school, period)
    elif school or period:
        raise click.UsageError("--school and --period go together")
    for phase in t.phases:
        click.echo(f"\n{phase.title(c.lang)}")
        for item in (i for i in t.items if i.phase == phase.key):
            when = planned[item.key] if planned else str(item.due)
            click.echo(f"  - {item.title(c.lang)}  [{t.role(item.role).label(c.lang)}]  {when}")
            for n, step in enumerate(item.steps, 1):
                click.echo(f"      {n}. {step.label(c.lang)}")


def _preview(c: Ctx, key: str, school_code: str, period: str) -> dict[str, str]:
    from houqin.launch import plan_items
    from houqin.people import get_school
    from houqin.periods import parse_period
    from houqin.sources import get_plan, load_calendars

    t = get_plan(c.settings, key)
    with unit_of_work(c.engine()) as s:
        school = get_school(s, school_code)
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
    from houqin.plan_templates import builtin_plans_dir, load_templates

    defaults = (builtin_plans_dir(), c.settings.plans_dir)
    found = load_templates(list(files) or [p for p in defaults if p is not None])
    click.echo(
        f"ok: {len(found)} plan templates, {sum(len(t.items) for t in found.values())} items"
    )


@plans.command("roles")
@pass_ctx
def plans_roles(c: Ctx) -> None:
    """List the role keys a roster and a plan can use."""
    from houqin.roles import ROLES

    rows = [[r.key, r.zh, r.en] for r in ROLES.values()]
    click.echo(tables.render(["key", "中文", "English"], rows))


# -- launching and items --------------------------------------------------------------------------


@cli.command()
@click.argument("template")
@click.option("--school", required=True, help="School code.")
@click.option("--period", required=True, help="School year (2026-2027) or term (2026-2027/2).")
@click.option("--by", default="cli", show_default=True, help="Who launches (for the audit).")
@click.option("--preview", is_flag=True, help="Show the items and deadlines; write nothing.")
@today_option
@pass_ctx
def launch(
    c: Ctx,
    template: str,
    school: str,
    period: str,
    by: str,
    preview: bool,
    today: datetime | None,
) -> None:
    """Launch a plan for a school and period, as a Prefect flow run (idempotent)."""
    if preview:
        for key, when in _preview(c, template, school, period).items():
            click.echo(f"{key}: {when}")
        return
    from flows.launch_plan import launch_plan

    result = launch_plan(
        template=template,
        school=school,
        period=period,
        launched_by=by,
        today=today.date() if today else None,
    )
    click.echo(result["message"])


@cli.command()
@click.option("--school", help="School code.")
@click.option("--run", "run_id", type=int, help="Plan run id.")
@click.option("--owner", help="Owner's person code.")
@click.option("--status", type=click.Choice(["open", "done", "waived"]))
@click.option("--overdue", is_flag=True, help="Only open items past their deadline.")
@click.option("--due-before", type=DATE, help="Only items due before this date.")
@today_option
@pass_ctx
def items(
    c: Ctx,
    school: str | None,
    run_id: int | None,
    owner: str | None,
    status: str | None,
    overdue: bool,
    due_before: datetime | None,
    today: datetime | None,
) -> None:
    """List checklist items, with filters."""
    from houqin.items import ItemFilter, list_items

    now = c.now(today)
    f = ItemFilter(
        school=school,
        run_id=run_id,
        owner=owner,
        status=status,
        overdue_at=now if overdue else None,
        due_before=c.now(due_before, "00:00") if due_before else None,
    )
    with unit_of_work(c.engine()) as s:
        found = list_items(s, f)
        rows = [tables.item_row(i, now, c.lang) for i in found]
    click.echo(tables.render(tables.ITEM_HEADERS[c.lang], rows))
    click.echo(f"{len(rows)} items")


def _act(c: Ctx, item_id: int, fn: Any, by_code: str | None = None, **kw: Any) -> None:
    from houqin.items import get_item
    from houqin.people import get_person

    with unit_of_work(c.engine()) as s:
        item = get_item(s, item_id)
        if by_code is not None:
            kw["by"] = get_person(s, item.run.school, by_code)
        message = fn(s, item=item, **kw)
    click.echo(f"item {item_id}: {message}")


@cli.command()
@click.argument("item_id", type=int)
@click.option("--by", required=True, help="Person code of who did it.")
@click.option("--note", help="Evidence: a note.")
@click.option("--number", type=float, help="Evidence: a number (e.g. headcount on duty).")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False), help="Evidence: a photo.")
@click.option("--step", type=int, help="Tick only this sub-step (1-based).")
@click.option("--at", "at", metavar="HH:MM", help="With --today: the time of day.")
@today_option
@pass_ctx
def tick(
    c: Ctx,
    item_id: int,
    by: str,
    note: str | None,
    number: float | None,
    photo: str | None,
    step: int | None,
    at: str | None,
    today: datetime | None,
) -> None:
    """Tick off an item (or one sub-step) with its evidence; recorded with who and when."""
    from houqin.items import tick as do_tick

    _act(
        c,
        item_id,
        do_tick,
        by,
        now=c.now(today, at),
        note=note,
        number=number,
        photo=photo,
        step=step,
    )


@cli.command()
@click.argument("item_id", type=int)
@click.option("--by", required=True, help="Person code of who did it.")
@click.option("--step", type=int, help="Clear only this sub-step (1-based).")
@today_option
@pass_ctx
def untick(c: Ctx, item_id: int, by: str, step: int | None, today: datetime | None) -> None:
    """Reopen a done item, or clear a sub-step."""
    from houqin.items import untick as do_untick

    _act(c, item_id, do_untick, by, now=c.now(today), step=step)


@cli.command()
@click.argument("item_id", type=int)
@click.option("--to", "to_code", required=True, help="Person code of the new owner.")
@click.option("--by", default="cli", show_default=True)
@click.option("--reason")
@today_option
@pass_ctx
def reassign(
    c: Ctx, item_id: int, to_code: str, by: str, reason: str | None, today: datetime | None
) -> None:
    """Give an open item to another person of the school."""
    from houqin.items import get_item
    from houqin.items import reassign as do_reassign
    from houqin.people import get_person

    with unit_of_work(c.engine()) as s:
        item = get_item(s, item_id)
        to = get_person(s, item.run.school, to_code)
        msg = do_reassign(s, item=item, to=to, by=by, now=c.now(today), reason=reason)
    click.echo(f"item {item_id}: {msg}")


@cli.command()
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why the item is not needed.")
@click.option("--by", default="cli", show_default=True)
@today_option
@pass_ctx
def waive(c: Ctx, item_id: int, reason: str, by: str, today: datetime | None) -> None:
    """Waive an open item, with a reason."""
    from houqin.items import waive as do_waive

    _act(c, item_id, do_waive, by=by, now=c.now(today), reason=reason)


@cli.command()
@click.option(
    "--now",
    "now_",
    type=click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]),
    help="Sweep as of this local time (YYYY-MM-DD HH:MM), to replay a day.",
)
@click.option("--school", help="Only this school.")
@click.option("--force", is_flag=True, help="Sweep even on a day off.")
@today_option
@pass_ctx
def sweep(
    c: Ctx, now_: datetime | None, school: str | None, force: bool, today: datetime | None
) -> None:
    """Send due reminders and escalations now (the scheduled sweep, on demand)."""
    from flows.sweep import sweep as sweep_flow

    at = None
    if now_ is not None:
        today, at = now_, f"{now_:%H:%M}"
    result = sweep_flow(today=today.date() if today else None, at=at, school=school, force=force)
    if result.get("skipped"):
        click.echo("not a working day: nothing sent (use --force to sweep anyway)")
        return
    click.echo(
        f"{result['outbox_rows']} reminders/escalations queued, {result['messages']} messages, "
        f"{result['sent']} sent, {result['retrying']} to retry, {result['failed']} failed"
    )
    for error in result["errors"]:
        click.echo(f"  failed: {error}")


@cli.group(invoke_without_command=True)
@click.option(
    "--status", type=click.Choice(["pending", "sending", "sent", "failed", "unconfirmed"])
)
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def outbox(ctx: click.Context, status: str | None, limit: int) -> None:
    """Messages sent, waiting and failed (with their errors); `outbox retry ID` sends again."""
    if ctx.invoked_subcommand is not None:
        return
    from houqin.delivery import list_deliveries
    from houqin.models import Person

    c: Ctx = ctx.obj
    with unit_of_work(c.engine()) as s:
        rows = []
        for d in list_deliveries(s, status=status, limit=limit):
            person = s.get(Person, d.recipient_id)
            assert person is not None
            when = tables.when(d.sent_at or d.next_attempt_at, c.settings.timezone)
            error = tables.clip(d.last_error or d.subject, 60)
            rows.append([str(d.id), person.name, d.channel, d.status, str(d.attempts), when, error])
    headers = ["id", "to", "channel", "status", "tries", "when", "subject / error"]
    click.echo(tables.render(headers, rows))


@outbox.command("retry")
@click.argument("delivery_id", type=int)
@click.option("--by", default="cli", show_default=True)
@today_option
@pass_ctx
def outbox_retry(c: Ctx, delivery_id: int, by: str, today: datetime | None) -> None:
    """Queue a failed or unconfirmed message again; the next sweep sends it."""
    from houqin.delivery import retry

    with unit_of_work(c.engine()) as s:
        message = retry(s, delivery_id=delivery_id, now=c.now(today), by=by)
    click.echo(f"message {delivery_id}: {message}")


@cli.command()
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
    from houqin.demo import run_demo

    run_demo(out, lang=c.lang)


def _register_commands() -> None:
    """Commands that live beside their concept: reports, the web UI, deployments."""
    from houqin.deploy_cli import deployments
    from houqin.report_cli import repair, report, score
    from houqin.web_cli import ical, serve, user

    for command in (report, repair, score, user, serve, ical, deployments):
        cli.add_command(command)


_register_commands()


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
    except UserError as e:
        click.echo(f"houqin: {e}", err=True)
        return 2
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
