"""The per-person digest: one message per person per sweep, listing all their due items.

``render_digest`` turns plan groups of ``DigestLine`` into (subject, text, html). Python does the
arithmetic (time zones, days overdue, counts); the wording lives in the Jinja2 templates in
``templates/``, one text and one HTML template per language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

KINDS = ("remind", "due_today", "overdue", "escalation", "moved")
LANGS = ("zh-CN", "en")
ZH_WEEKDAYS = "一二三四五六日"
EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: that follows the locale


@dataclass(frozen=True)
class DigestLine:
    title: str
    due_at: datetime  # time-zone aware
    kind: str  # "remind" | "due_today" | "overdue" | "escalation" | "moved" (re-planned only)
    owner: str  # the owner's name; for an escalation, the person escalated about
    link: str  # signed link that opens the item for tick-off
    provisional: bool = False  # deadline rests on a guessed (unpublished) holiday calendar
    moved_from: date | None = None  # the deadline's day before the calendar moved it


@dataclass(frozen=True)
class DigestGroup:
    plan_title: str
    school: str
    lines: tuple[DigestLine, ...]


@dataclass(frozen=True)
class _Line:
    """A ``DigestLine`` prepared for the template: local deadline, day counts."""

    title: str
    kind: str
    owner: str
    link: str
    provisional: bool
    moved_from: str  # the earlier day, formatted; "" when the deadline did not move
    deadline: str  # local, formatted for the language
    days_left: int  # calendar days from today to the due date (local)
    days_overdue: int


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates ship with the code: no stat() per message
    )


def _lang(lang: str) -> str:
    if lang.lower().startswith("zh"):
        return "zh-CN"
    if lang.lower().startswith("en"):
        return "en"
    raise ValueError(f"unsupported language {lang!r} (supported: {', '.join(LANGS)})")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def format_deadline(moment: datetime, lang: str, timezone: str = "Asia/Shanghai") -> str:
    """``2027-06-04(周五)18:00`` in zh-CN, ``Fri 2027-06-04 18:00`` in en, in ``timezone``."""
    if moment.tzinfo is None:  # as the ledger stores instants: UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(_zone(timezone))
    if _lang(lang) == "zh-CN":
        return f"{local:%Y-%m-%d}(周{ZH_WEEKDAYS[local.weekday()]}){local:%H:%M}"
    return f"{EN_WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"


def _day(day: date | None, lang: str) -> str:
    if day is None:
        return ""
    if lang == "zh-CN":
        return f"{day:%Y-%m-%d}(周{ZH_WEEKDAYS[day.weekday()]})"
    return f"{EN_WEEKDAYS[day.weekday()]} {day:%Y-%m-%d}"


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be time-zone aware, got {value.isoformat()}")


def render_digest(
    *,
    recipient: str,
    lang: str,
    groups: Sequence[DigestGroup],
    now: datetime,
    timezone: str = "Asia/Shanghai",
    manages: bool = False,
) -> tuple[str, str, str]:
    """(subject, text, html) of one person's digest. Lines are shown by plan, earliest first."""
    lang = _lang(lang)
    _require_aware(now, "now")
    zone = _zone(timezone)
    today = now.astimezone(zone).date()
    prepared: list[dict[str, Any]] = []
    for group in groups:
        lines = []
        for line in sorted(group.lines, key=lambda ln: (ln.due_at, ln.title)):
            if line.kind not in KINDS:
                raise ValueError(f"unknown digest line kind {line.kind!r} (known: {KINDS})")
            _require_aware(line.due_at, f"due_at of {line.title!r}")
            due_day = line.due_at.astimezone(zone).date()
            days = (due_day - today).days
            lines.append(
                _Line(
                    title=line.title,
                    kind=line.kind,
                    owner=line.owner,
                    link=line.link,
                    provisional=line.provisional,
                    moved_from=_day(line.moved_from, lang),
                    deadline=format_deadline(line.due_at, lang, timezone),
                    days_left=max(days, 0),
                    days_overdue=max(-days, 0),
                )
            )
        if lines:
            prepared.append(
                {"plan_title": group.plan_title, "school": group.school, "lines": lines}
            )
    all_lines = [line for group in prepared for line in group["lines"]]
    if not all_lines:
        raise ValueError(f"nothing to tell {recipient}: the digest has no lines")
    own = [line for line in all_lines if line.kind != "escalation"]
    counts = {
        "own": len(own),
        "overdue": sum(line.kind == "overdue" for line in own),
        "escalations": len(all_lines) - len(own),
        "moved": sum(bool(line.moved_from) for line in all_lines),
    }
    context = {
        "recipient": recipient,
        "groups": prepared,
        "counts": counts,
        "now": format_deadline(now, lang, timezone),
        "manages": manages,  # the school's head: a follow-up may also reassign or waive
    }
    env = _environment()
    # The text template also defines the subject ({% set subject %}), so that each language's
    # wording lives in one file; rendering it as a module yields both.
    module = env.get_template(f"digest.{lang}.txt.j2").make_module(context)
    subject = " ".join(str(vars(module)["subject"]).split())
    html = env.get_template(f"digest.{lang}.html.j2").render(context)
    return subject, str(module), html
