"""The one place that reads the wall clock. Everything else takes ``now`` or ``today``."""

from __future__ import annotations

from datetime import date, datetime

import pendulum

DEFAULT_TZ = "Asia/Shanghai"


def now(tz: str = DEFAULT_TZ) -> pendulum.DateTime:
    return pendulum.now(tz)


def parse_today(value: str | date | None, tz: str = DEFAULT_TZ) -> date:
    """``--today`` as given (YYYY-MM-DD), or the current date in ``tz``."""
    if value is None:
        return now(tz).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def moment(today: date, at: str = "09:00", tz: str = DEFAULT_TZ) -> pendulum.DateTime:
    """An instant on a replayed day: ``today`` at local time ``at`` in ``tz``."""
    hour, minute = (int(x) for x in at.split(":"))
    return pendulum.datetime(today.year, today.month, today.day, hour, minute, tz=tz)


def as_local(instant: datetime, tz: str = DEFAULT_TZ) -> pendulum.DateTime:
    """An aware instant shown in ``tz`` (naive values are taken as UTC, as the ledger stores)."""
    return pendulum.instance(instant, tz="UTC").in_tz(tz)


def replayed(today: date | None, tz: str = DEFAULT_TZ) -> pendulum.DateTime:
    """Now, or the same time of day on a replayed ``today`` (a served demo season)."""
    real = now(tz)
    if today is None:
        return real
    return pendulum.datetime(
        today.year, today.month, today.day, real.hour, real.minute, real.second, tz=tz
    )
