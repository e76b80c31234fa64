"""How late: whole days past a deadline, and the buckets every report counts them in."""

from __future__ import annotations

import math
from datetime import datetime

from houqin.bilingual import Bilingual

BUCKETS = ("on_time", "le1", "d2_3", "d4_7", "d8_30", "gt30")
BUCKET_LABELS = {
    "on_time": Bilingual("按时", "on time"),
    "le1": Bilingual("≤1天", "≤1 day"),
    "d2_3": Bilingual("2–3天", "2–3 days"),
    "d4_7": Bilingual("4–7天", "4–7 days"),
    "d8_30": Bilingual("8–30天", "8–30 days"),
    "gt30": Bilingual(">30天", ">30 days"),
}


def days_late(due_at: datetime, at: datetime) -> int:
    """Started days past the deadline: two hours late is 1 day, 25 hours is 2; on time is 0."""
    seconds = (at - due_at).total_seconds()
    return math.ceil(seconds / 86400) if seconds > 0 else 0


# The most started days late each bucket holds; later than the last is "gt30". The digest, the
# completion report and the web review all count by these (one set of buckets, one rule).
LIMITS = (("le1", 1), ("d2_3", 3), ("d4_7", 7), ("d8_30", 30))


def bucket(days: int) -> str:
    if days <= 0:
        return "on_time"
    return next((key for key, most in LIMITS if days <= most), "gt30")


def empty_buckets(with_on_time: bool = True) -> dict[str, int]:
    return {b: 0 for b in BUCKETS if with_on_time or b != "on_time"}
