"""Reports to files: Jinja2 HTML (autoescaped), PDF through WeasyPrint, plain text for mail.

The font is named in the three places WeasyPrint needs it (``<html lang>``, the html rule and
``@page``, in ``templates/base.html.j2``), or Chinese falls back to serif or Japanese glyphs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from houqin.clock import as_local
from houqin.reports.fonts import cjk_font_files
from houqin.reports.labels import pick_lang, words

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("html", "pdf", "xlsx")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(local=_local, day=_day, pct=_pct, num=num)
    return env


def render(template: str, *, lang: str, timezone: str, **context: Any) -> str:
    """Render ``template`` with the words of ``lang`` as ``w`` and the zone as ``tz``."""
    lang = pick_lang(lang)
    return (
        environment().get_template(template).render(context, w=words(lang), lang=lang, tz=timezone)
    )


def write_pdf(html: str, out: Path) -> Path:
    """Print ``html`` to ``out`` (about 0.4 s a page)."""
    cjk_font_files()  # without it Pango crashes the process rather than drawing boxes
    from weasyprint import HTML  # deliberate: WeasyPrint takes a second to import

    # WeasyPrint logs every CSS property it skips at WARNING; the templates use none on purpose.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    out.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(out)
    return out


def write_text(text: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def _local(instant: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if instant is None else as_local(instant, tz).strftime(fmt)


def _day(value: datetime | date | None, tz: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return as_local(value, tz).strftime("%Y-%m-%d")
    return value.isoformat()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def num(value: float | None, digits: int = 2) -> str:
    """A number without trailing zeros: 6.40 -> 6.4, 8.00 -> 8."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
