"""How late: whole days past a deadline, and the buckets every report counts them in."""

from __future__ import annotations

import math
from datetime import datetime

BUCKETS = ("on_time", "le1", "d2_3", "d4_7", "d8_30", "gt30")
BUCKET_LABELS = {
    "zh-CN": {
        "on_time": "按时", "le1": "≤1天", "d2_3": "2–3天", "d4_7": "4–7天",
        "d8_30": "8–30天", "gt30": ">30天",
    },
    "en": {
        "on_time": "on time", "le1": "≤1 day", "d2_3": "2–3 days", "d4_7": "4–7 days",
        "d8_30": "8–30 days", "gt30": ">30 days",
    },
}  # fmt: skip


def days_late(due_at: datetime, at: datetime) -> int:
    """Started days past the deadline: two hours late is 1 day, 25 hours is 2; on time is 0."""
    seconds = (at - due_at).total_seconds()
    return math.ceil(seconds / 86400) if seconds > 0 else 0


def bucket(days: int) -> str:
    if days <= 0:
        return "on_time"
    if days <= 1:
        return "le1"
    if days <= 3:
        return "d2_3"
    if days <= 7:
        return "d4_7"
    return "d8_30" if days <= 30 else "gt30"


def empty_buckets(with_on_time: bool = True) -> dict[str, int]:
    return {b: 0 for b in BUCKETS if with_on_time or b != "on_time"}
