"""The sweep's steps, each one batched task over the whole ledger (never one per item)."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from houqin import delivery, progress, reminders
from houqin.db import make_engine, transaction
from houqin.settings import get_settings
from houqin.sources import load_calendars


@task(name="plan-reminders")
def plan_reminders(now: datetime, school: str | None) -> reminders.PlanReport:
    settings = get_settings()
    with transaction(settings) as session:
        return reminders.plan_reminders(
            session, now=now, book=load_calendars(settings), school=school
        )


@task(name="compose-messages")
def compose_messages(now: datetime) -> int:
    settings = get_settings()
    with transaction(settings) as session:
        return delivery.compose(session, now=now, settings=settings)


@task(name="deliver-outbox")
def deliver_outbox(now: datetime) -> delivery.DeliverReport:
    engine = make_engine(get_settings())
    try:
        return delivery.deliver_due(engine, now=now)
    finally:
        engine.dispose()


@task(name="collect-progress")
def collect_progress(now: datetime, overdue_ids: list[int]) -> progress.Progress:
    with transaction(get_settings()) as session:
        return progress.collect(session, now=now, overdue_ids=overdue_ids)
