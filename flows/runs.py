"""How a flow run that did part of its work ends: Failed, saying which schools and why.

Per-school work runs as one task per school (named for it), so one school's failure never
blocks the others; the run's own state then tells the operator, in the UI, what went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import pendulum
from prefect import State
from prefect.runtime import flow_run
from prefect.states import Failed

from houqin import clock
from houqin.settings import get_settings

R = TypeVar("R")

ALL = "*"  # the old spelling of "every school" (parameters of deployments before school=None)


def every_school(school: str | None) -> bool:
    """``None`` means every school; ``"*"`` is still accepted from older deployments."""
    return school is None or school == ALL


def outcome(result: R, failures: Mapping[str, str], what: str) -> R | State[Any]:
    """``result`` when nothing failed, else a Failed state listing each school and its reason
    (the summary is the state's data, so the UI still shows what did go through)."""
    if not failures:
        return result
    listed = "; ".join(f"{school}: {reason}" for school, reason in sorted(failures.items()))
    return Failed(message=f"{what} failed for {len(failures)}: {listed}", data=result)


def acts_at(today: date | str | None, at: str | None, default_time: str) -> pendulum.DateTime:
    """The instant a run acts as of: the replayed ``today``/``at`` when given, else the time
    the run was *scheduled* for (a run that starts late still acts as of 07:30), else now."""
    tz = get_settings().timezone
    if isinstance(today, str):  # as a run's parameters come back from the API
        today = date.fromisoformat(today)
    if today is not None:
        return clock.moment(today, at or default_time, tz)
    scheduled: datetime = flow_run.scheduled_start_time
    return pendulum.instance(scheduled).in_tz(tz)


def summary_of(state: State[Any]) -> Any:
    """What a run returned, Completed or Failed (a Failed state's data is its summary)."""
    data = state.data
    return getattr(data, "result", data)  # a ResultRecord once Prefect has stored it
