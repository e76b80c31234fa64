"""``houqin calendar``: the school-year calendar files."""

from __future__ import annotations

from pathlib import Path

import click

from calendars import load_book
from houqin.cli.context import Ctx, pass_ctx


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
