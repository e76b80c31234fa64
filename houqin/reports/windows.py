"""Assessment periods as time windows: quarters (``2027Q1``), terms and school years.

A term here is a half of the school year (Aug–Jan, Feb–Jul), not the calendar's teaching weeks:
the two halves tile the year, so every item and repair counts in exactly one term, and work done
just before term starts (opening preparation) or after it ends (the term-end asset count) counts
in the term it serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from houqin.clock import moment
from houqin.errors import UserError

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_SCHOOL = re.compile(r"^(\d{4})-(\d{4})(?:/([12]))?$")


@dataclass(frozen=True)
class Window:
    """A period label and its dates: ``start`` inclusive, ``end`` exclusive (local dates)."""

    label: str
    kind: str  # quarter | term | school_year
    start: date
    end: date

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """The window as aware instants: local midnight to local midnight."""
        return moment(self.start, "00:00", tz), moment(self.end, "00:00", tz)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)


def parse_window(text: str) -> Window:
    label = text.strip()
    if m := _QUARTER.match(label):
        year, q = int(m[1]), int(m[2])
        start = date(year, 3 * q - 2, 1)
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return Window(label, "quarter", start, end)
    m = _SCHOOL.match(label)
    if m and int(m[2]) == int(m[1]) + 1:
        first = int(m[1])
        if m[3] is None:
            return Window(label, "school_year", date(first, 8, 1), date(first + 1, 8, 1))
        if m[3] == "1":
            return Window(label, "term", date(first, 8, 1), date(first + 1, 2, 1))
        return Window(label, "term", date(first + 1, 2, 1), date(first + 1, 8, 1))
    raise UserError(
        f"period {text!r}: expected a quarter such as 2027Q1, a term such as 2026-2027/1 "
        "(autumn) or 2026-2027/2 (spring), or a school year such as 2026-2027"
    )
