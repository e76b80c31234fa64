"""Launch a plan for a school (or every school) and a period, one task per school."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, cast

from prefect import State, flow
from prefect.context import get_run_context
from prefect.runtime import flow_run
from prefect.utilities.asyncutils import run_coro_as_sync
from pydantic import Field
from sqlalchemy import select

from flows.runs import every_school, outcome
from houqin import clock
from houqin.db import transaction
from houqin.models import School
from houqin.school_profiles import applies_to, refusal
from houqin.settings import get_settings
from houqin.sources import get_plan
from tasks.launch import launch_school

Period = Annotated[str, Field(pattern=r"^\d{4}-\d{4}(/[12])?$")]  # 2026-2027, 2026-2027/2


def _run_name() -> str:
    """``launch gaokao_security · demo · 2026-2027`` (``all schools`` for every school)."""
    given = flow_run.parameters
    school = given.get("school")
    who = "all schools" if every_school(school) else school
    return f"launch {given['template']} · {who} · {given['period']}"


@flow(name="launch-plan", flow_run_name=_run_name)
async def launch_plan(
    template: str,
    period: Period,
    school: str | None = None,
    launched_by: str = "prefect",
    today: date | None = None,
) -> dict[str, Any] | State[Any]:
    """Instantiate ``template`` for ``school`` (None: every school) and ``period``; launching
    again changes nothing.

    Async only because Prefect ends a sync flow run with a ~1 s heartbeat join and an async one
    without (shared/notes/prefect.md): `houqin launch` waits for it. The work inside is the
    ledger's, a few statements, and blocks as it would in a sync flow.

    Each school is its own task: a school with an unbound role fails alone, the others go
    ahead, and the run ends Failed naming it.
    """
    settings = get_settings()
    now = clock.moment(today, "08:00", settings.timezone) if today else clock.now(settings.timezone)
    flow_run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    if every_school(school):  # only the schools the plan is for (kind and facts, school_profiles)
        plan = get_plan(settings, template)
        with transaction(settings) as session:
            codes = []
            for each in session.scalars(select(School).order_by(School.code)):
                if applies_to(plan, each):
                    codes.append(each.code)
                else:
                    results[each.code] = {"skipped": str(refusal(plan, each, code=each.code))}
    else:
        codes = [cast(str, school)]
    for code in codes:
        try:
            done = launch_school(code, [(template, period)], launched_by, now, flow_run_id)
        except Exception as exc:  # the task run is Failed with its traceback; the run says so
            failures[code] = str(exc)
            results[code] = {"error": str(exc)}
            continue
        results[code] = next(iter(done.values()))
    if not every_school(school):
        return outcome(results[codes[0]], failures, f"launch {template} {period}")
    return outcome(results, failures, f"launch {template} {period}")


def run_launch_plan(**parameters: Any) -> State[dict[str, Any]]:
    """Run ``launch_plan`` from synchronous code (the CLI, the demo) and return its final state.

    On Prefect's own event loop thread, whose API client outlives the call (``asyncio.run``
    would close the loop under the client's open connections).
    """
    awaited = launch_plan(**parameters, return_state=True)
    return cast(State[dict[str, Any]], run_coro_as_sync(cast(Any, awaited)))
