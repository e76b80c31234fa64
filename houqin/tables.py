"""Plain-text tables for the terminal, aligned for Chinese (double-width) characters."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime

from houqin.bilingual import Bilingual, is_zh, pick
from houqin.clock import as_local
from houqin.models import Item

WEEKDAYS_ZH = "一二三四五六日"
ITEM_COLUMNS = (
    Bilingual("编号", "id"),
    Bilingual("学校", "school"),
    Bilingual("计划", "plan"),
    Bilingual("阶段", "phase"),
    Bilingual("事项", "item"),
    Bilingual("负责人", "owner"),
    Bilingual("截止", "due"),
    Bilingual("状态", "status"),
)
STATUS = {
    "open": Bilingual("未完成", "open"),
    "done": Bilingual("已完成", "done"),
    "waived": Bilingual("已免除", "waived"),
    "overdue": Bilingual("已逾期", "OVERDUE"),
}
LATE = Bilingual("(逾期完成)", " (late)")
PROVISIONAL = Bilingual(" 暂定", " prov.")


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, limit: int) -> str:
    if width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > limit - 1:
            return out + "…"
        out += ch
    return out


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)]).rstrip()


def when(instant: datetime, tz: str, lang: str = "zh-CN") -> str:
    local = as_local(instant, tz)
    if not is_zh(lang):
        return f"{local:%a %Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d}(周{WEEKDAYS_ZH[local.weekday()]}){local:%H:%M}"


def item_row(item: Item, now: datetime, lang: str) -> list[str]:
    tz = item.run.school.timezone
    status = item.status
    if status == "open" and item.due_at < now:
        status = "overdue"
    label = STATUS[status].label(lang)
    if status == "done" and item.late:
        label += LATE.label(lang)
    due = when(item.due_at, tz, lang) + PROVISIONAL.label(lang) * item.due_provisional
    return [
        str(item.id),
        item.run.school.code,
        item.run.template_key,
        clip(pick(item.phase_zh, item.phase_en, lang), 16),
        clip(pick(item.title_zh, item.title_en, lang), 40),
        item.owner.name,
        due,
        label,
    ]
