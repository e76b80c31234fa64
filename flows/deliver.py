"""Delivery on its own, every few minutes in working hours (prefect.yaml: deployment ``deliver``),
so a retry goes out at its backoff time instead of waiting for the next sweep.

The run ends Failed, with what needs a person in its message, when something failed, became
unconfirmed, or a school's settings are unusable; everything else has gone out by then.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import pendulum
from prefect import flow, get_run_logger
from prefect.states import Failed, State

from houqin import clock, delivery
from houqin.db import make_engine
from houqin.settings import get_settings


@flow(name="deliver")
def deliver(now: datetime | None = None) -> dict[str, Any] | State:
    """Send what is due in the outbox: new messages, retries whose time has come."""
    settings = get_settings()
    moment = pendulum.instance(now) if now else clock.now(settings.timezone)
    engine = make_engine(settings)
    try:
        report = delivery.deliver(engine, now=moment, settings=settings)
    except delivery.LedgerUnavailable as exc:
        return Failed(message=str(exc))
    finally:
        engine.dispose()  # a flow run is short: leave no pooled connections behind
    summary = asdict(report)
    get_run_logger().info("deliver %s: %s", moment.isoformat(), report.line())
    trouble = report.trouble()
    if trouble:
        return Failed(message=trouble, data=summary)
    return summary
