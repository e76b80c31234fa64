"""zh-CN first, English second: the language of a request and the words the pages share.

Templates carry their own wording as pairs, ``t("我的事项", "My items")``, so a page reads
top to bottom in one file; only labels several pages share live here, as ``Bilingual`` texts
(houqin/bilingual.py holds the one rule for choosing the language).
"""

from __future__ import annotations

from datetime import datetime

from houqin.bilingual import DEFAULT_LANG, Bilingual, is_zh
from houqin.clock import as_local

DEFAULT = DEFAULT_LANG
COOKIE = "houqin_lang"
ZH_WEEKDAYS = "一二三四五六日"
EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: that follows the locale

STATUS: dict[str, Bilingual] = {
    "open": Bilingual("未完成", "open"),
    "done": Bilingual("已完成", "done"),
    "waived": Bilingual("已免除", "waived"),
    "overdue": Bilingual("已逾期", "overdue"),
    "late": Bilingual("逾期完成", "done late"),
}
DELIVERY: dict[str, Bilingual] = {
    "pending": Bilingual("待发送", "pending"),
    "claimed": Bilingual("排队中", "claimed"),
    "sending": Bilingual("发送中", "sending"),
    "sent": Bilingual("已发送", "sent"),
    "failed": Bilingual("发送失败", "failed"),
    "unconfirmed": Bilingual("未确认", "unconfirmed"),
    "dropped": Bilingual("无需发送", "not sent (stale)"),
}
EVIDENCE: dict[str, Bilingual] = {
    "none": Bilingual("无需凭证", "no evidence needed"),
    "note": Bilingual("文字说明", "a note"),
    "number": Bilingual("数字", "a number"),
    "photo": Bilingual("照片", "photos"),
}
ACTIONS: dict[str, Bilingual] = {
    "item.tick": Bilingual("完成", "completed"),
    "item.untick": Bilingual("重新打开", "reopened"),
    "step.tick": Bilingual("勾选步骤", "ticked a step"),
    "step.untick": Bilingual("取消步骤", "cleared a step"),
    "item.reassign": Bilingual("转交", "reassigned"),
    "item.waive": Bilingual("免除", "waived"),
    "item.replanned": Bilingual("按校历调整了截止日期", "moved the deadline with the calendar"),
    "item.added": Bilingual("按校历新增了此事项", "added with the calendar"),
    "item.photos": Bilingual("上传照片", "added photos"),
    "item.nudge": Bilingual("提醒负责人", "reminded the owner"),
    "item.handover": Bilingual("离线提交未生效，凭证已附上", "offline work kept as evidence"),
    "link.use": Bilingual("通过提醒链接操作", "used a reminder link"),
    "plan.launch": Bilingual("启动计划", "launched the plan"),
    "plan.signoff": Bilingual("签批", "signed off"),
}


def label(table: dict[str, Bilingual], key: str, lang: str) -> str:
    return table.get(key, Bilingual(key)).label(lang)


def normalize(value: str | None) -> str | None:
    """``zh``/``zh-CN``/``en``/``en-US`` -> ``zh-CN`` or ``en``, anything else -> None."""
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
    if is_zh(lang):
        text = f"{local:%Y-%m-%d}(周{ZH_WEEKDAYS[local.weekday()]})"
    else:
        text = f"{EN_WEEKDAYS[local.weekday()]} {local:%Y-%m-%d}"
    return f"{text} {local:%H:%M}" if time else text


def fmt_short(instant: datetime | None, tz: str) -> str:
    """``MM-DD HH:MM`` in the school's zone, the same in both languages."""
    return "" if instant is None else f"{as_local(instant, tz):%m-%d %H:%M}"
