"""Launching, one task per school: its failure is its own, visible under the school's name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import State, Task, get_run_logger, task
from prefect.client.schemas.objects import TaskRun
from prefect.events import emit_event

from houqin.db import transaction
from houqin.errors import UserError
from houqin.launch import announcement, launch
from houqin.people import get_school
from houqin.settings import get_settings
from houqin.sources import get_plan, load_calendars


def _transient(task: Task[..., Any], run: TaskRun, state: State[Any]) -> bool:
    """Retry a lost connection, never a mistake in the data (a retry would fail the same way)."""
    try:
        state.result()
    except (UserError, SchoolFailed):
        return False
    except Exception:
        return True
    return False


class SchoolFailed(RuntimeError):
    """Some launches of a school failed; the message names each plan and why."""


@task(
    name="launch-school",
    task_run_name="{school}",
    retries=2,
    retry_delay_seconds=5,
    retry_condition_fn=_transient,
)
def launch_school(
    school: str,
    launches: list[tuple[str, str]],
    by: str,
    now: datetime,
    flow_run_id: str | None,
) -> dict[str, Any]:
    """Launch each (template, period) for ``school``, each in its own transaction (launching
    is idempotent, so a retry is safe); raise SchoolFailed naming those that failed."""
    settings = get_settings()
    book = load_calendars(settings)
    results: dict[str, Any] = {}
    errors = []
    for template, period in launches:
        plan = get_plan(settings, template)
        try:
            with transaction(settings) as session:
                result = launch(
                    session,
                    template=plan,
                    school=get_school(session, school),
                    period=period,
                    book=book,
                    by=by,
                    now=now,
                    flow_run_id=flow_run_id,
                )
                run_id, run_period = result.run.id, result.run.period
                event = announcement(result, plan, school)
        except UserError as exc:
            errors.append(f"{template} {period}: {exc}")
            continue
        get_run_logger().info("%s: %s", school, result.message)
        if result.created:
            emit_event(**event)
        results[f"{template} {run_period}"] = {
            "run_id": run_id,
            "created": result.created,
            "items": result.items,
            "message": result.message,
        }
    if errors:
        raise SchoolFailed("; ".join(errors))
    return results
