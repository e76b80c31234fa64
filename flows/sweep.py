"""The sweep: due reminders and escalations into the outbox, then delivered; events out."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from prefect import State, flow, get_run_logger
from prefect.events import emit_event
from prefect.runtime import flow_run
from prefect.states import Failed
from pydantic import Field

from flows.completion_report import completion_report
from flows.runs import acts_at
from houqin.settings import get_settings
from houqin.sources import load_calendars
from tasks.sweep import collect_progress, deliver_outbox, plan_reminders


def _run_name() -> str:
    """``sweep 2027-06-03 07:30``: the time it acts as of (scheduled or replayed); `· school`."""
    given = flow_run.parameters
    school = given.get("school")
    return f"sweep {acts_at(given.get('today'), given.get('at'), '07:30'):%Y-%m-%d %H:%M}" + (
        f" · {school}" if school else ""
    )


@flow(name="sweep", flow_run_name=_run_name)
def sweep(
    today: date | None = None,
    at: Annotated[str | None, Field(pattern=r"^\d{2}:\d{2}$")] = None,
    school: str | None = None,
    force: bool = False,
) -> dict[str, Any] | State[Any]:
    """Acts as of its scheduled time (a late start changes nothing), or ``today``/``at`` when
    replayed. Its deployment runs on working days only; run by hand on another day, it skips
    unless forced. Ends Failed, naming schools and messages, when something needs a person."""
    settings = get_settings()
    now = acts_at(today, at, "07:30")
    if not force and not load_calendars(settings).is_workday(now.date()):
        get_run_logger().info("%s is not a working day: nothing to do", now.date())
        return {"skipped": True}
    planned = plan_reminders(now, school)
    delivered = deliver_outbox(now)
    done = collect_progress(now, planned.escalated)
    for item_id, school_code, plan, owner in done.overdue_items:
        _emit(
            "houqin.item.overdue",
            f"houqin.item.{item_id}",
            {"school": school_code, "plan": plan, "person": owner},
        )
    for item_id, school_code, plan, owner in done.completed_items:
        _emit(
            "houqin.item.completed",
            f"houqin.item.{item_id}",
            {"school": school_code, "plan": plan, "person": owner},
        )
    reports: dict[int, dict[str, str]] = {}
    for run_id, school_code, plan, period in done.completed_runs:
        _emit(
            "houqin.plan.completed",
            f"houqin.plan-run.{run_id}",
            {"school": school_code, "plan": plan},
            period=period,
        )
        # the run's last item was closed: its completion report is written now
        reports[run_id] = completion_report(run_id=run_id, today=now.date())
    summary = {
        "now": now.isoformat(),
        "candidates": planned.candidates,
        "outbox_rows": planned.written,
        "messages": delivered.messages,
        "sent": delivered.sent,
        "retrying": delivered.retrying,
        "failed": delivered.failed,
        "unconfirmed": delivered.unconfirmed,
        "unconfirmed_waiting": delivered.waiting_for_a_person,
        "dropped": delivered.dropped,
        "held": delivered.held,
        "errors": delivered.errors,
        "school_errors": planned.school_errors | delivered.school_errors,
        "newly_overdue": len(done.overdue_items),
        "completed_items": len(done.completed_items),
        "completed_plans": len(done.completed_runs),
        "reports": reports,
    }
    get_run_logger().info("sweep %s", summary)
    trouble = [f"school {code}: {why}" for code, why in sorted(planned.school_errors.items())]
    if delivered.trouble():
        trouble.append(str(delivered.trouble()))
    if delivered.retrying and not delivered.sent:
        trouble.append(f"nothing sent, {delivered.retrying} to retry (is the mail server down?)")
    if trouble:
        return Failed(message="; ".join(trouble), data=summary)
    return summary


def _emit(event: str, resource_id: str, related: dict[str, str], **payload: Any) -> None:
    emit_event(
        event=event,
        resource={"prefect.resource.id": resource_id},
        related=[
            {"prefect.resource.id": f"houqin.{role}.{value}", "prefect.resource.role": role}
            for role, value in related.items()
        ],
        payload=payload,
    )
