"""Sweep: one full ``plan_reminders`` against the single-statement SQL baseline.

Each repeat starts from an empty outbox and an empty twin table; the order alternates (SQL first,
then Houqin first) so neither always finds the caches the other warmed. Every repeat checks the
outbox row for row against the baseline. The fastest repeat of each counts; the last repeat's
rows stay in the outbox for delivery.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
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
    report: PlanReport = field(default_factory=PlanReport)
    sql_rows: int = 0
    houqin_s: list[float] = field(default_factory=list)
    sql_s: list[float] = field(default_factory=list)
    differences: tuple[int, int] = (0, 0)  # rows only in the SQL baseline, only in the outbox

    @property
    def candidates(self) -> int:
        return self.report.candidates

    @property
    def same_rows(self) -> bool:
        return self.differences == (0, 0) and self.report.written == self.sql_rows


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


def measure(engine: Engine, *, now: datetime, book: CalendarBook, repeats: int) -> SweepFigures:
    prepare(engine, book)
    horizon = horizon_of(now, book)
    f = SweepFigures()

    def houqin() -> None:
        start = time.perf_counter()
        with unit_of_work(engine) as s:
            f.report = plan_reminders(s, now=now, book=book)
        f.houqin_s.append(time.perf_counter() - start)

    def sql() -> None:
        start = time.perf_counter()
        f.sql_rows = sweep_by_sql(engine, TWIN, now=now, horizon=horizon)
        f.sql_s.append(time.perf_counter() - start)

    for repeat in range(repeats):
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE outbox, {TWIN}"))
        for step in (sql, houqin) if repeat % 2 == 0 else (houqin, sql):
            step()
        f.differences = max(f.differences, differences(engine, TWIN))
    return f


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
