"""Launch every plan that is due and not yet launched (``houqin launch --due``, and the
``launch-due`` deployment, hourly in the day and when ``make up`` starts).

Level-triggered: a plan's one-time schedule is lost while the system is down (Prefect drops
the runs of a paused deployment), so this check launches whatever the ledger lacks.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from prefect import State, flow, get_run_logger
from prefect.context import get_run_context
from prefect.runtime import flow_run
from prefect.utilities.asyncutils import run_coro_as_sync

from flows.runs import acts_at, outcome
from houqin.db import transaction
from houqin.schedules import due_launches
from houqin.settings import get_settings
from houqin.sources import load_calendars, load_plans
from tasks.launch import launch_school


def _run_name() -> str:
    return f"launch due {acts_at(flow_run.parameters.get('today'), None, '08:00'):%Y-%m-%d %H:%M}"


@flow(name="launch-due", flow_run_name=_run_name)
async def launch_due(
    today: date | None = None, launched_by: str = "prefect"
) -> dict[str, Any] | State[Any]:
    """Each school's due launches in one task named for the school; Failed naming any school
    whose launches failed (the others still launched)."""
    settings = get_settings()
    now = acts_at(today, None, "08:00")
    with transaction(settings) as session:
        due = due_launches(session, load_plans(settings).values(), load_calendars(settings), now)
    by_school: dict[str, list[tuple[str, str]]] = {}
    for d in due:
        by_school.setdefault(d.school, []).append((d.template, d.period))
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for school, launches in by_school.items():
        try:
            results[school] = launch_school(school, launches, launched_by, now, flow_run_id)
        except Exception as exc:
            failures[school] = str(exc)
    get_run_logger().info(
        "%d launches due for %d schools; %d schools failed", len(due), len(by_school), len(failures)
    )
    return outcome(results, failures, "launch due")


def run_launch_due(**parameters: Any) -> State[dict[str, Any]]:
    """``launch_due`` from synchronous code (the CLI), as ``run_launch_plan``."""
    awaited = launch_due(**parameters, return_state=True)
    return cast(State[dict[str, Any]], run_coro_as_sync(cast(Any, awaited)))
