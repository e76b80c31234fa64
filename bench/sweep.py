"""Sweep: one full ``plan_reminders`` against the single-statement SQL baseline.

Each repeat empties the twin table and runs the SQL baseline first, then Houqin's sweep and the
proposed one (``bench/proposed_sweep.py``) in alternating order, each on an emptied outbox and
each checked row for row against the baseline. The fastest repeat of each counts; the last run's
rows stay in the outbox for delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pendulum
from sqlalchemy import Engine, text

from bench import proposed_sweep
from bench.sweep_sql import build_calendar_tables, differences, make_twin, sweep_by_sql
from calendars import CalendarBook
from houqin import reminders
from houqin.db import unit_of_work
from houqin.reminders import HORIZON_WORKDAYS, PlanReport

TWIN = "bench_outbox_sql"
Sweep = Callable[..., PlanReport]
SWEEPS: dict[str, Sweep] = {
    "houqin": reminders.plan_reminders,
    "proposed": proposed_sweep.plan_reminders,
}


@dataclass
class Run:
    seconds: list[float] = field(default_factory=list)
    report: PlanReport = field(default_factory=PlanReport)
    differences: tuple[int, int] = (0, 0)  # rows only in the SQL baseline, only in this sweep

    @property
    def best(self) -> float:
        return min(self.seconds)


@dataclass
class SweepFigures:
    sql: Run
    sql_rows: int
    sweeps: dict[str, Run]

    @property
    def candidates(self) -> int:
        return self.sweeps["houqin"].report.candidates


def horizon_of(now: datetime, book: CalendarBook) -> datetime:
    """The bound ``plan_reminders`` puts on due dates (the same arithmetic, for the SQL)."""
    today = pendulum.instance(now).in_tz("Asia/Shanghai").date()
    h = book.add_workdays(today, HORIZON_WORKDAYS) + timedelta(days=2)
    return pendulum.datetime(h.year, h.month, h.day)


def prepare(engine: Engine, book: CalendarBook) -> None:
    with engine.connect() as conn:
        first, last = conn.execute(
            text("SELECT min(due_at)::date, max(due_at)::date FROM item")
        ).one()
    build_calendar_tables(engine, book, first - timedelta(days=60), last + timedelta(days=60))
    make_twin(engine, TWIN)


def _timed(
    engine: Engine, sweep: Sweep, now: datetime, book: CalendarBook
) -> tuple[PlanReport, float]:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE outbox"))
    start = time.perf_counter()
    with unit_of_work(engine) as s:
        report = sweep(s, now=now, book=book)
    return report, time.perf_counter() - start


def measure(engine: Engine, *, now: datetime, book: CalendarBook, repeats: int) -> SweepFigures:
    prepare(engine, book)
    horizon = horizon_of(now, book)
    sql = Run()
    runs = {name: Run() for name in SWEEPS}
    rows = 0
    for repeat in range(repeats):
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {TWIN}"))
        start = time.perf_counter()
        rows = sweep_by_sql(engine, TWIN, now=now, horizon=horizon)
        sql.seconds.append(time.perf_counter() - start)
        order = list(SWEEPS) if repeat % 2 == 0 else list(reversed(SWEEPS))
        for name in order:
            run = runs[name]
            run.report, seconds = _timed(engine, SWEEPS[name], now, book)
            run.seconds.append(seconds)
            found = differences(engine, TWIN)
            run.differences = max(run.differences, found)
    return SweepFigures(sql=sql, sql_rows=rows, sweeps=runs)


def sample_candidates(engine: Engine, *, now: datetime, book: CalendarBook, n: int) -> list[int]:
    """``n`` candidate items spread evenly over the ledger (for the naive-design slice)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn, "
                    "count(*) OVER () AS c FROM item WHERE status = 'open' AND due_at < :h) x "
                    "WHERE rn % greatest(c / :n, 1) = 0 ORDER BY id LIMIT :n"
                ),
                {"h": horizon_of(now, book), "n": n},
            ).scalars()
        )
