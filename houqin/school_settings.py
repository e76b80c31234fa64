"""A school's stored settings as the sweep and delivery use them: its time zone, its quiet hours
and its channels, with the problem named when a stored value is unusable.

Rosters are checked when imported (houqin/people.py); this is the check at run time, for values
that reached the database some other way. A school whose settings are broken is failed alone,
visibly (the outbox, the flow run's summary), and every other school goes on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import pendulum

from houqin.models import School
from notifications.channels import Channel, ChannelConfigError, get_channel

HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class SchoolSettingsError(ValueError):
    """A school's stored setting is unusable; the text names the school and the field."""

    def __init__(self, school: School, problem: str) -> None:
        super().__init__(f"school {school.code}: {problem}")
        self.school_code = school.code


def zone(school: School) -> ZoneInfo:
    try:
        return ZoneInfo(school.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise SchoolSettingsError(
            school, f"timezone: {school.timezone!r} is not a time zone (e.g. Asia/Shanghai)"
        ) from None


def quiet_hours(school: School) -> tuple[time, time]:
    hours = []
    for field in ("quiet_start", "quiet_end"):
        value = getattr(school, field)
        if not isinstance(value, str) or not HHMM.fullmatch(value):
            raise SchoolSettingsError(school, f"{field}: {value!r} is not a time of day (HH:MM)")
        hours.append(time.fromisoformat(value))
    return hours[0], hours[1]


def check(school: School) -> None:
    """Raise ``SchoolSettingsError`` if the zone or the quiet hours are unusable (the first)."""
    zone(school)
    quiet_hours(school)


def quiet_until(now: datetime, school: School) -> datetime:
    """``now``, or the end of the school's quiet hours if ``now`` falls inside them."""
    tz = zone(school)
    start, end = quiet_hours(school)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return now
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return pendulum.datetime(day.year, day.month, day.day, end.hour, end.minute, tz=tz.key)


def channel_config(school: School, name: str) -> Mapping[str, Any]:
    """The school's settings for channel ``name``; raises if it is not on or not a mapping."""
    channels = school.channels
    if not isinstance(channels, Mapping):
        raise SchoolSettingsError(school, "channels: must map channel names to their settings")
    if name not in channels:
        on = ", ".join(sorted(channels)) or "none"
        raise SchoolSettingsError(school, f"channels: {name} is not on (on: {on})")
    config = channels[name]
    if not isinstance(config, Mapping):
        raise SchoolSettingsError(school, f"channels: {name}: must map fields to values")
    return config


def build_channel(
    school: School, name: str, *, transport: httpx.BaseTransport | None = None
) -> Channel:
    """The school's channel ``name``, built from its settings, or the problem named."""
    config = channel_config(school, name)
    try:
        return get_channel(name, config, transport=transport)
    except ChannelConfigError as exc:
        raise SchoolSettingsError(school, f"channels: {exc}") from None


def problems(school: School) -> list[str]:
    """Every unusable setting of ``school``, for the pages that show them (empty: all usable)."""
    found = []
    for step in (zone, quiet_hours):
        try:
            step(school)
        except SchoolSettingsError as exc:
            found.append(str(exc))
    names = sorted(school.channels) if isinstance(school.channels, Mapping) else [""]
    for name in names:
        try:
            build_channel(school, name)
        except SchoolSettingsError as exc:
            found.append(str(exc))
    return found
