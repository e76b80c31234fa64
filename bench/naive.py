"""The naive design, for comparison: one Prefect task run per checklist item.

Run in its own process (``python -m bench.naive``) so Prefect's import, its test server and its
threads stay out of the other measurements. Each task does one item's share of the sweep (read
the item, work out its step and recipients, insert its outbox rows with the same de-duplication
key) in its own transaction, into a twin table. Prints one ``BENCH-JSON`` line (``bench.proc``):

- ``direct_s``: the same per-item function in a plain loop, without Prefect;
- ``flow_s``: the flow run over the slice (client time);
- ``loop_s``: inside that flow, the loop over the slice's task runs (the per-item cost);
- ``recorded_s``: from the slice's flow start until the server has recorded every task run.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text

from bench.proc import emit
from calendars import CalendarBook, load_book
from houqin.db import make_engine, unit_of_work
from houqin.models import Item, Person, RoleBinding, School
from houqin.reminders import current_step, steps_for
from houqin.roles import LEADERSHIP_ROLES
from houqin.school_settings import quiet_until

INSERT = (
    "INSERT INTO {table} (dedup_key, school_id, recipient_id, item_id, kind, status, attempts, "
    "created_at, next_attempt_at) VALUES (:key, :school, :person, :item, :kind, 'pending', 0, "
    ":now, :send_at) ON CONFLICT (dedup_key) DO NOTHING"
)


def remind_one(engine: Engine, book: CalendarBook, table: str, item_id: int, now: datetime) -> int:
    """One item's reminder or escalation, as a per-item design would write it."""
    import pendulum

    with unit_of_work(engine) as s:
        item, supervisor_id, school = s.execute(
            select(Item, Person.supervisor_id, School)
            .join(Person, Person.id == Item.owner_id)
            .join(School, School.id == Item.school_id)
            .where(Item.id == item_id)
        ).one()
        local_now = pendulum.instance(now).in_tz(school.timezone)
        due_day = pendulum.instance(item.due_at).in_tz(school.timezone).date()
        step = current_step(steps_for(due_day, item.remind, item.escalate, book), local_now.date())
        if step is None or (step.kind.startswith("remind") and item.due_at <= now):
            return 0
        if step.kind.startswith("remind"):
            recipients = [item.owner_id]
        elif step.kind == "escalate:L1" and supervisor_id is not None:
            recipients = [supervisor_id]
        else:
            leaders = s.scalars(
                select(RoleBinding.person_id)
                .where(
                    RoleBinding.school_id == school.id, RoleBinding.role_key.in_(LEADERSHIP_ROLES)
                )
                .order_by(RoleBinding.role_key.desc())
            ).all()
            recipients = list(dict.fromkeys(p for p in leaders if p != item.owner_id))
            recipients = recipients or [item.owner_id]
        send_at = quiet_until(now, school)
        for person_id in recipients:
            s.execute(
                text(INSERT.format(table=table)),
                {
                    "key": f"{item.id}:{step.kind}:{person_id}",
                    "school": school.id,
                    "person": person_id,
                    "item": item.id,
                    "kind": step.kind,
                    "now": now,
                    "send_at": send_at,
                },
            )
        return len(recipients)


def _count_completed(flow_run_id: Any) -> int:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        response = client._client.post(
            "/task_runs/count",
            json={
                "flow_runs": {"id": {"any_": [str(flow_run_id)]}},
                "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            },
        )
        response.raise_for_status()
        return int(response.json())


def measure(url: str, table: str, ids: list[int], now: datetime, wait_s: float) -> dict[str, Any]:
    engine = make_engine(url)
    book = load_book()
    truncate = text(f"TRUNCATE {table}")

    start = time.perf_counter()
    for item_id in ids:
        remind_one(engine, book, table, item_id, now)
    direct_s = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(truncate)

    from prefect import flow, task
    from prefect.testing.utilities import prefect_test_harness

    @task(name="remind-one")
    def remind_task(item_id: int) -> int:
        return remind_one(engine, book, table, item_id, now)

    loop_s: list[float] = []

    @flow(name="naive-sweep")
    def naive_sweep(item_ids: list[int]) -> int:
        start = time.perf_counter()
        written = sum(remind_task(i) for i in item_ids)
        loop_s.append(time.perf_counter() - start)
        return written

    with prefect_test_harness(server_startup_timeout=90):
        naive_sweep([ids[0]])  # the first flow and task runs pay one-off setup: not counted
        with engine.begin() as conn:
            conn.execute(truncate)
        start = time.perf_counter()
        state = naive_sweep(ids, return_state=True)
        flow_s = time.perf_counter() - start
        written = state.result()
        recorded = 0
        while time.perf_counter() - start < flow_s + wait_s:
            recorded = _count_completed(state.state_details.flow_run_id)
            if recorded >= len(ids):
                break
            time.sleep(0.2)
        recorded_s = time.perf_counter() - start
    engine.dispose()
    return {
        "items": len(ids),
        "written": written,
        "direct_s": direct_s,
        "flow_s": flow_s,
        "loop_s": loop_s[-1],
        "recorded": recorded,
        "recorded_s": recorded_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--now", required=True, help="ISO instant of the sweep")
    parser.add_argument("--ids", required=True, help="comma-separated item ids")
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        help="at most this long for the server to record the task runs",
    )
    args = parser.parse_args()
    ids = [int(x) for x in args.ids.split(",") if x]
    found = measure(args.db, args.table, ids, datetime.fromisoformat(args.now), args.wait)
    emit(found)


def environment(home: str) -> dict[str, str]:
    """A private Prefect home and no telemetry (shared/notes/prefect.md)."""
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": home,
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    return env


if __name__ == "__main__":
    main()
