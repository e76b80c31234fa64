"""zh-CN first, English second: the language of a request and the words the pages share.

Templates carry their own wording as pairs, ``t("我的事项", "My items")``, so a page reads
top to bottom in one file; only labels several pages share live here.
"""

from __future__ import annotations

from datetime import datetime

from houqin.clock import as_local

LANGS = ("zh-CN", "en")
DEFAULT = "zh-CN"
COOKIE = "houqin_lang"
ZH_WEEKDAYS = "一二三四五六日"
EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: that follows the locale

STATUS = {
    "open": ("未完成", "open"),
    "done": ("已完成", "done"),
    "waived": ("已免除", "waived"),
    "overdue": ("已逾期", "overdue"),
    "late": ("逾期完成", "done late"),
}
DELIVERY = {
    "pending": ("待发送", "pending"),
    "sending": ("发送中", "sending"),
    "sent": ("已发送", "sent"),
    "failed": ("发送失败", "failed"),
    "unconfirmed": ("未确认", "unconfirmed"),
}
EVIDENCE = {
    "none": ("无需凭证", "no evidence needed"),
    "note": ("文字说明", "a note"),
    "number": ("数字", "a number"),
    "photo": ("照片", "photos"),
}
ACTIONS = {
    "item.tick": ("完成", "completed"),
    "item.untick": ("重新打开", "reopened"),
    "step.tick": ("勾选步骤", "ticked a step"),
    "step.untick": ("取消步骤", "cleared a step"),
    "item.reassign": ("转交", "reassigned"),
    "item.waive": ("免除", "waived"),
    "item.photos": ("上传照片", "added photos"),
    "link.use": ("通过提醒链接操作", "used a reminder link"),
    "plan.launch": ("启动计划", "launched the plan"),
    "plan.signoff": ("签批", "signed off"),
}


def pick(lang: str, zh: str, en: str) -> str:
    return zh if lang.startswith("zh") else en


def label(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    zh, en = table.get(key, (key, key))
    return pick(lang, zh, en)


def normalize(value: str | None) -> str | None:
    """``zh``/``zh-CN``/``en``/``en-US`` -> one of LANGS, anything else -> None."""
    if not value:
        return None
    value = value.strip().lower()
    if value.startswith("zh"):
        return "zh-CN"
    if value.startswith("en"):
        return "en"
    return None


def fmt_when(instant: datetime | None, tz: str, lang: str, *, time: bool = True) -> str:
    """A deadline or an event time in the school's zone: 2026-11-25(周三)18:00."""
    if instant is None:
        return ""
    local = as_local(instant, tz)
    if lang.startswith("zh"):
        text = f"{local:%Y-%m-%d}(周{ZH_WEEKDAYS[local.weekday()]})"
    else:
        text = f"{EN_WEEKDAYS[local.weekday()]} {local:%Y-%m-%d}"
    return f"{text} {local:%H:%M}" if time else text
