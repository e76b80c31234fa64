"""Sweep: one full ``plan_reminders`` against the single-statement SQL baseline.

Each repeat starts from an empty outbox and an empty twin table; the order alternates (SQL first,
then Houqin first) so neither always runs on the cache the other warmed. The fastest repeat of
each counts. The last repeat's rows stay, for the row comparison and for delivery.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pendulum
from sqlalchemy import Engine, text

from bench.sweep_sql import build_calendar_tables, differences, make_twin, sweep_by_sql
from calendars import CalendarBook
from houqin.db import unit_of_work
from houqin.reminders import HORIZON_WORKDAYS, PlanReport, plan_reminders

TWIN = "bench_outbox_sql"


@dataclass
class SweepFigures:
    candidates: int
    written: int
    houqin_s: float
    sql_rows: int
    sql_s: float
    only_sql: int
    only_houqin: int
    runs_houqin: list[float]
    runs_sql: list[float]


def horizon_of(now: datetime, book: CalendarBook) -> datetime:
    """The bound ``plan_reminders`` puts on due dates (the same arithmetic, for the SQL)."""
    today = pendulum.instance(now).in_tz("Asia/Shanghai").date()
    h = book.add_workdays(today, HORIZON_WORKDAYS) + timedelta(days=2)
    return pendulum.datetime(h.year, h.month, h.day)


def prepare(engine: Engine, book: CalendarBook) -> None:
    with engine.connect() as conn:
        first, last = conn.execute(
            text(
                "SELECT min(due_at AT TIME ZONE 'UTC')::date, max(due_at AT TIME ZONE 'UTC')::date "
                "FROM item"
            )
        ).one()
    build_calendar_tables(engine, book, first - timedelta(days=60), last + timedelta(days=60))
    make_twin(engine, TWIN)


def run_houqin(engine: Engine, *, now: datetime, book: CalendarBook) -> tuple[PlanReport, float]:
    start = time.perf_counter()
    with unit_of_work(engine) as s:
        report = plan_reminders(s, now=now, book=book)
    return report, time.perf_counter() - start


def run_sql(engine: Engine, *, now: datetime, horizon: datetime) -> tuple[int, float]:
    start = time.perf_counter()
    rows = sweep_by_sql(engine, TWIN, now=now, horizon=horizon)
    return rows, time.perf_counter() - start


def measure(engine: Engine, *, now: datetime, book: CalendarBook, repeats: int) -> SweepFigures:
    prepare(engine, book)
    horizon = horizon_of(now, book)
    runs_h: list[float] = []
    runs_s: list[float] = []
    report = PlanReport()
    rows = 0
    for repeat in range(repeats):
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE outbox, {TWIN}"))
        if repeat % 2 == 0:
            rows, s_sql = run_sql(engine, now=now, horizon=horizon)
            report, s_h = run_houqin(engine, now=now, book=book)
        else:
            report, s_h = run_houqin(engine, now=now, book=book)
            rows, s_sql = run_sql(engine, now=now, horizon=horizon)
        runs_h.append(s_h)
        runs_s.append(s_sql)
    only_sql, only_houqin = differences(engine, TWIN)
    return SweepFigures(
        candidates=report.candidates,
        written=report.written,
        houqin_s=min(runs_h),
        sql_rows=rows,
        sql_s=min(runs_s),
        only_sql=only_sql,
        only_houqin=only_houqin,
        runs_houqin=runs_h,
        runs_sql=runs_s,
    )


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
