"""A year's national holiday arrangement: each holiday's days off and its 调休 make-up workdays.

Both a State Council notice (calendars/notice.py) and a prediction from the published principles
(calendars/prediction.py) come out as an ``Arrangement``; calendars/entry.py writes one into a
school-year file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class Holiday:
    """One holiday of a year: its days off, its make-up working days and, for a guess, why."""

    name: str  # 春节, or "国庆节、中秋节" when the notice gives them together
    days_off: tuple[date, ...]
    workdays: tuple[date, ...] = ()
    note: str = ""  # how a prediction placed these days; written beside the entry
    line: int | None = field(default=None, compare=False)  # where a notice gives it

    @property
    def workday_name(self) -> str:
        return f"{self.name}调休上班"


@dataclass(frozen=True)
class Arrangement:
    """The holidays of one calendar year (days may reach into the December before it)."""

    year: int
    holidays: tuple[Holiday, ...]

    @property
    def days_off(self) -> dict[date, str]:
        return {d: h.name for h in self.holidays for d in h.days_off}

    @property
    def workdays(self) -> dict[date, str]:
        return {d: h.workday_name for h in self.holidays for d in h.workdays}

    def amended(self, by: Arrangement) -> Arrangement:
        """This year with the holidays a later notice names replaced (or added) by its own."""
        names = {h.name for h in by.holidays}
        kept = tuple(h for h in self.holidays if h.name not in names)
        return Arrangement(self.year, kept + by.holidays)

    def is_workday(self, d: date) -> bool:
        """The answer this arrangement alone gives: its days, then Monday to Friday."""
        if d in self.days_off:
            return False
        return d in self.workdays or d.weekday() < 5

    def span(self) -> tuple[date, date]:
        """The days this arrangement can speak for: its year, and the December before it."""
        return arrangement_start(self.year), date(self.year, 12, 31)

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "days_off": [d.isoformat() for d in sorted(self.days_off)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
        }


def arrangement_start(year: int) -> date:
    """Notices reach back into December: the 2019 元旦 break began on 2018-12-30."""
    return date(year - 1, 12, 1)


def days(start: date, end: date) -> tuple[date, ...]:
    return tuple(start + timedelta(days=i) for i in range((end - start).days + 1))
