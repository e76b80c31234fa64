"""Launch a plan for a school (or every school, ``*``) and a period, one batch per school."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from prefect import State, flow, get_run_logger
from prefect.context import get_run_context
from prefect.events import emit_event
from prefect.utilities.asyncutils import run_coro_as_sync
from sqlalchemy import select

from houqin import clock
from houqin.db import transaction
from houqin.errors import UserError
from houqin.launch import launch
from houqin.models import School
from houqin.people import get_school
from houqin.school_profiles import applies_to, refusal
from houqin.settings import get_settings
from houqin.sources import get_plan, load_calendars


@flow(name="launch-plan", flow_run_name="launch {template} · {school} · {period}")
async def launch_plan(
    template: str,
    school: str,
    period: str,
    launched_by: str = "prefect",
    today: date | None = None,
) -> dict[str, Any]:
    """Instantiate ``template`` for ``school`` and ``period``; launching again changes nothing.

    Async only because Prefect ends a sync flow run with a ~1 s heartbeat join and an async one
    without (shared/notes/prefect.md): `houqin launch` waits for it. The work inside is the
    ledger's, a few statements, and blocks as it would in a sync flow.

    With ``school="*"`` (the scheduled deployments) every school is launched in its own
    transaction: a school with an unbound role is reported and the others still go ahead.
    """
    settings = get_settings()
    plan = get_plan(settings, template)
    book = load_calendars(settings)
    now = clock.moment(today, "08:00", settings.timezone) if today else clock.now(settings.timezone)
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    results: dict[str, Any] = {}
    if school == "*":  # only the schools the plan is for (kind and facts, school_profiles)
        with transaction(settings) as session:
            codes = []
            for each in session.scalars(select(School).order_by(School.code)):
                if applies_to(plan, each):
                    codes.append(each.code)
                else:
                    results[each.code] = {"skipped": refusal(plan, each, code=each.code)}
    else:
        codes = [school]
    for code in codes:
        try:
            with transaction(settings) as session:
                result = launch(
                    session,
                    template=plan,
                    school=get_school(session, code),
                    period=period,
                    book=book,
                    by=launched_by,
                    now=now,
                    flow_run_id=flow_run_id,
                )
                run_id, run_period = result.run.id, result.run.period
        except UserError as exc:
            if school != "*":
                raise
            get_run_logger().warning("%s: %s", code, exc)
            results[code] = {"error": str(exc)}
            continue
        get_run_logger().info(result.message)
        if result.created:
            emit_event(
                event="houqin.plan.launched",
                resource={"prefect.resource.id": f"houqin.plan-run.{run_id}"},
                related=[
                    {
                        "prefect.resource.id": f"houqin.school.{code}",
                        "prefect.resource.role": "school",
                    },
                    {
                        "prefect.resource.id": f"houqin.plan.{template}",
                        "prefect.resource.role": "plan",
                    },
                ],
                payload={"period": run_period, "items": result.items, "version": plan.version},
            )
        results[code] = {
            "run_id": run_id,
            "created": result.created,
            "items": result.items,
            "message": result.message,
        }
    return results[school] if school != "*" else results


def run_launch_plan(**parameters: Any) -> State[dict[str, Any]]:
    """Run ``launch_plan`` from synchronous code (the CLI, the demo) and return its final state.

    On Prefect's own event loop thread, whose API client outlives the call (``asyncio.run``
    would close the loop under the client's open connections).
    """
    awaited = launch_plan(**parameters, return_state=True)
    return cast(State[dict[str, Any]], run_coro_as_sync(cast(Any, awaited)))
