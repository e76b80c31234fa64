"""The sweep's steps, each one batched task over the whole ledger (never one per item)."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from houqin import delivery, progress, reminders, replan
from houqin.db import make_engine, transaction
from houqin.settings import get_settings
from houqin.sources import load_calendars


@task(name="plan-reminders")
def plan_reminders(now: datetime, school: str | None) -> reminders.PlanReport:
    settings = get_settings()
    book = load_calendars(settings)
    with transaction(settings) as session:
        replan.follow_calendar(session, book=book, now=now)  # an edited calendar first
        return reminders.plan_reminders(session, now=now, book=book, school=school)


@task(name="deliver-outbox")
def deliver_outbox(now: datetime) -> delivery.DeliverReport:
    """Everything due in the outbox: what was just planned and what earlier runs left."""
    settings = get_settings()
    engine = make_engine(settings)
    try:
        return delivery.deliver(engine, now=now, settings=settings)
    finally:
        engine.dispose()


@task(name="collect-progress")
def collect_progress(now: datetime, overdue_ids: list[int]) -> progress.Progress:
    with transaction(get_settings()) as session:
        return progress.collect(session, now=now, overdue_ids=overdue_ids)
