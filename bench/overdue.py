"""Overdue review at district scale: the leadership digest, the web page, and raw SQL.

The baseline is one aggregate statement over the same rows (overdue open items of the
district, tallied per owner and per plan run, with the total), fetched in full: what the
database needs to answer the question at all.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Engine, text

from houqin.db import unit_of_work
from houqin.reports import output, overdue

BASELINE_SQL = """
SELECT i.school_id, i.owner_id, i.run_id, count(*) AS n,
       sum(floor(extract(epoch FROM CAST(:now AS timestamptz) - i.due_at) / 86400)) AS days,
       max(floor(extract(epoch FROM CAST(:now AS timestamptz) - i.due_at) / 86400)) AS oldest
FROM item i
JOIN school s ON s.id = i.school_id
JOIN person p ON p.id = i.owner_id
JOIN plan_run r ON r.id = i.run_id
WHERE s.district = :district AND i.status = 'open' AND i.due_at < CAST(:now AS timestamptz)
GROUP BY GROUPING SETS ((i.school_id, i.owner_id), (i.run_id), ())
"""


def report(engine: Engine, *, district: str, now: datetime) -> tuple[int, float, float]:
    """(overdue items, seconds to build the digest, seconds to render its text and HTML)."""
    start = time.perf_counter()
    with unit_of_work(engine) as s:
        digest = overdue.build(s, scope=f"district:{district}", now=now)
    built = time.perf_counter() - start
    start = time.perf_counter()
    output.digest_text(digest)
    output.html(digest)
    return digest.total, built, time.perf_counter() - start


def baseline(engine: Engine, *, district: str, now: datetime) -> tuple[int, float]:
    start = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(text(BASELINE_SQL), {"now": now, "district": district}).all()
    seconds = time.perf_counter() - start
    total = next(int(r.n) for r in rows if r.school_id is None and r.run_id is None)
    return total, seconds
