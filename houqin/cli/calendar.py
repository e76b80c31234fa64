"""``houqin calendar``: the school-year calendar files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import make_url

from calendars import CalendarBook, load_book
from calendars.entry import NoticeEntry, apply_notice, preview_notice
from calendars.notice import parse_notice
from houqin.cli.context import Ctx, pass_ctx
from houqin.cli.replan import describe, describe_addition
from houqin.errors import SetupError
from houqin.replan import replan
from houqin.text_files import decode


@click.group()
def calendar() -> None:
    """School calendars: terms, breaks, exam dates, holidays and 调休."""


@calendar.command("check")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Calendar directory.")
@pass_ctx
def calendar_check(c: Ctx, directory: Path | None) -> None:
    """Validate the calendar files; warn about years whose official 调休 are not entered yet."""
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
    _would_move(c, book, listed=False)


@calendar.command("notice")
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True, dir_okay=False))
@click.option("--preview", is_flag=True, help="Show the year and what changes; write nothing.")
@click.option("--json", "as_json", is_flag=True, help='Print {"year", "days_off", "workdays"}.')
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Calendar directory.")
@pass_ctx
def calendar_notice(
    c: Ctx, file: Path, preview: bool, as_json: bool, directory: Path | None
) -> None:
    """Enter a State Council holiday notice (FILE, or - for standard input) as published."""
    name = "<stdin>" if str(file) == "-" else str(file)
    data = sys.stdin.buffer.read() if name == "<stdin>" else file.read_bytes()
    notice = parse_notice(decode(data, name), name)
    book = load_book(directory or c.settings.calendar_dir)
    entry = (preview_notice if preview else apply_notice)(book, notice)
    if as_json:
        click.echo(json.dumps(entry.as_json(), ensure_ascii=False))
        return
    _show(entry)
    if entry.written:
        _would_move(c, load_book(directory or c.settings.calendar_dir), listed=True)


def _would_move(c: Ctx, book: CalendarBook, *, listed: bool) -> None:
    """What ``houqin replan`` would move with these files (nothing is written)."""
    url = make_url(c.settings.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        click.echo("尚无台账，未对照已下发事项 / no ledger yet: no launched items to compare")
        return
    try:
        with c.unit() as s:
            report = replan(s, book=book, now=c.now(None), apply=False)
    except SetupError as exc:
        click.echo(f"未对照台账 / launched items not compared (no usable ledger): {exc}")
        return
    if listed:
        for move in report.moves:
            click.echo(f"  {describe(move, c.lang)}")
        for addition in report.added:
            click.echo(f"  {describe_addition(addition, c.lang)}")
    for why in report.skipped:
        click.echo(f"  skipped: {why}")
    moved, added = len(report.moves), len(report.added)
    then = (
        "运行 houqin replan 调整（定时巡检也会自动调整）/ run houqin replan (the sweep also "
        "does it by itself)"
        if moved or added
        else "无需调整 / nothing to re-plan"
    )
    click.echo(
        f"已下发事项：{report.checked} 项未完成中 {moved} 项截止日期将调整，将新增 {added} 项；"
        f"{then} / launched items: {moved} of {report.checked} open items would move, "
        f"{added} would be added"
        + ("" if listed or not (moved or added) else " (houqin replan --preview lists them)")
    )


def _show(entry: NoticeEntry) -> None:
    notice, arrangement = entry.notice, entry.arrangement
    click.echo(f"{arrangement.year} 年放假安排 / holidays of {arrangement.year}: {notice.source}")
    for h in arrangement.holidays:
        days = f"{h.days_off[0]}..{h.days_off[-1]}" if len(h.days_off) > 1 else str(h.days_off[0])
        worked = f"；上班 {'、'.join(str(d) for d in h.workdays)}" if h.workdays else ""
        click.echo(f"  {h.name}：放假 {days}（{len(h.days_off)} 天）{worked}")
    against = entry.path or "chinese-calendar"
    if entry.changes:
        click.echo(f"与 {against} 相比变化的日子 / days that change against {against}:")
        for change in entry.changes:
            click.echo(f"  {change}")
    else:
        click.echo(f"与 {against} 一致，没有变化 / no day changes against {against}")
    if entry.written:
        click.echo(f"已写入 / written: {entry.path} (status: official)")
    elif entry.path is not None:
        click.echo("预览，未写入 / preview: nothing written")
