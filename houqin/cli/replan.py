"""``houqin replan``: open items' deadlines brought in line with the calendar files."""

from __future__ import annotations

from datetime import datetime

import click

from houqin.bilingual import pick
from houqin.cli.context import Ctx, by_option, pass_ctx, today_option
from houqin.people import get_school
from houqin.periods import parse_period
from houqin.replan import Addition, Move, ReplanReport, replan
from houqin.sources import load_calendars
from notifications.render import format_deadline


@click.command("replan")
@click.option("--school", help="Only this school (code).")
@click.option("--period", help="Only runs of this period (2026-2027, 2026-2027/2).")
@click.option("--preview", is_flag=True, help="List what would move; change nothing.")
@by_option
@today_option
@pass_ctx
def replan_command(
    c: Ctx,
    school: str | None,
    period: str | None,
    preview: bool,
    by: str,
    today: datetime | None,
) -> None:
    """Re-plan open items after a calendar change (new deadlines, 暂定 cleared, owners told)."""
    if period is not None:  # a mistyped period is an error too
        year, _, term = period.partition("/")
        parse_period(year)
        if term not in ("", "1", "2"):
            raise click.BadParameter(f"{period!r}: the term is /1 or /2", param_hint="--period")
    with c.unit() as s:
        if school is not None:
            get_school(s, school)  # a mistyped code is an error, not "nothing to move"
        report = replan(
            s,
            book=load_calendars(c.settings),
            now=c.now(today),
            school=school,
            period=period,
            apply=not preview,
            by=by,
        )
        show(report, c.lang)


def show(report: ReplanReport, lang: str) -> None:
    for move in report.moves:
        click.echo(describe(move, lang))
    for addition in report.added:
        click.echo(describe_addition(addition, lang))
    for why in report.skipped:
        click.echo(f"  skipped: {why}")
    moved, added = len(report.moves), len(report.added)
    if not report.applied:
        click.echo(
            f"预览：{report.checked} 项未完成事项中 {moved} 项将调整，将新增 {added} 项，"
            f"未作任何更改 / preview: {moved} of {report.checked} open items would change, "
            f"{added} would be added; nothing was changed"
        )
    else:
        click.echo(
            f"已调整 {moved} 项（共检查 {report.checked} 项），新增 {added} 项，"
            f"撤回 {report.withdrawn} 条旧提醒，通知负责人 {report.told} 条 / {moved} of "
            f"{report.checked} open items re-planned, {added} added, {report.withdrawn} "
            f"reminders for old deadlines withdrawn, {report.told} owners' notices queued"
        )


def describe_addition(addition: Addition, lang: str) -> str:
    """One line: school, plan, period, title, owner: + the new item's deadline, and the cause."""
    p = addition.planned
    mark = pick("（暂定）", " (provisional)", lang) if p.due_provisional else ""
    return (
        f"{addition.school} {addition.plan} {addition.period} · "
        f"{pick(p.title_zh, p.title_en, lang)} · {p.owner.name}: + "
        f"{format_deadline(p.due_at, lang)}{mark} · {pick('原因', 'cause', lang)}: "
        f"{'; '.join(addition.causes)}"
    )


def describe(move: Move, lang: str) -> str:
    """One line: school, plan, period, title, owner: old → new deadline, and the cause."""

    def when(at: datetime, provisional: bool) -> str:
        mark = pick("（暂定）", " (provisional)", lang) if provisional else ""
        return format_deadline(at, lang) + mark

    title = pick(move.title_zh, move.title_en, lang)
    because = pick("原因", "cause", lang)
    return (
        f"{move.school} {move.plan} {move.period} · {title} · {move.owner}: "
        f"{when(move.old_at, move.old_provisional)} → {when(move.new_at, move.new_provisional)}"
        f" · {because}: {'; '.join(move.causes)}"
    )
