"""Peak memory (RSS) of one sweep, or of one district overdue report, each in its own process.

``python -m bench.memory sweep|report --db URL --now ISO``. The sweep runs in a
transaction that first empties the outbox (so every row is written again, as in the measured
sweep) and is rolled back, leaving the ledger as it was. Before the work, once the process has
imported what it needs and opened a connection, its high-water mark so far is the idle floor
(``idle_mb``) that the work adds to.
Peak RSS is the process's ``VmHWM`` (not ``ru_maxrss``: Linux carries that over from the parent
across fork and exec, so a child would report the benchmark's own size).
"""

from __future__ import annotations

import argparse
import importlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.proc import emit
from calendars import load_book
from houqin.db import make_engine

SCOPE = "district:bench"
MODULES = {  # what each measurement needs, imported before the floor is taken
    "sweep": ["houqin.reminders"],
    "report": ["houqin.reports.overdue", "houqin.reports.output"],
}


def work(what: str, session: Session, now: datetime) -> dict[str, float]:
    if what == "sweep":
        module = importlib.import_module(MODULES[what][0])
        session.execute(text("TRUNCATE outbox"))
        report = module.plan_reminders(session, now=now, book=load_book())
        return {"candidates": report.candidates, "written": report.written}
    overdue: Any = importlib.import_module("houqin.reports.overdue")
    output: Any = importlib.import_module("houqin.reports.output")
    digest = overdue.build(session, scope=SCOPE, now=now)
    _subject, body = output.digest_text(digest)
    page = output.html(digest)
    return {"overdue": digest.total, "chars": len(body) + len(page)}


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=sorted(MODULES))
    parser.add_argument("--db", required=True)
    parser.add_argument("--now", required=True)
    args = parser.parse_args()
    for name in MODULES[args.what]:
        importlib.import_module(name)
    now = datetime.fromisoformat(args.now)
    engine = make_engine(args.db)
    found: dict[str, float] = {}
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        session.execute(text("SELECT 1"))
        found["idle_mb"] = peak_rss_mb()
        start = time.perf_counter()
        found.update(work(args.what, session, now))
        found["seconds"] = time.perf_counter() - start
        session.close()
        outer.rollback()
    engine.dispose()
    found["maxrss_mb"] = peak_rss_mb()
    emit(found)


if __name__ == "__main__":
    main()
