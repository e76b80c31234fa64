"""Plain-text tables for the terminal, aligned for Chinese (double-width) characters."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime

from houqin.clock import as_local
from houqin.models import Item

WEEKDAYS_ZH = "一二三四五六日"
ITEM_HEADERS = {
    "zh-CN": ["编号", "学校", "计划", "阶段", "事项", "负责人", "截止", "状态"],
    "en": ["id", "school", "plan", "phase", "item", "owner", "due", "status"],
}
STATUS = {
    "zh-CN": {"open": "未完成", "done": "已完成", "waived": "已免除", "overdue": "已逾期"},
    "en": {"open": "open", "done": "done", "waived": "waived", "overdue": "OVERDUE"},
}


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
    if not lang.startswith("zh"):
        return f"{local:%a %Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d}(周{WEEKDAYS_ZH[local.weekday()]}){local:%H:%M}"


def item_row(item: Item, now: datetime, lang: str) -> list[str]:
    tz = item.run.school.timezone
    zh = lang.startswith("zh")
    status = item.status
    if status == "open" and item.due_at < now:
        status = "overdue"
    label = STATUS["zh-CN" if zh else "en"][status]
    if status == "done" and item.late:
        label += "(逾期完成)" if zh else " (late)"
    due = when(item.due_at, tz, lang) + (" 暂定" if zh else " prov.") * item.due_provisional
    return [
        str(item.id),
        item.run.school.code,
        item.run.template_key,
        clip((item.phase_zh if zh else item.phase_en or item.phase_zh), 16),
        clip((item.title_zh if zh else item.title_en or item.title_zh), 40),
        item.owner.name,
        due,
        label,
    ]
