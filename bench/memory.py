"""Peak memory (RSS) of one sweep, or of one district overdue report, each in its own process.

``python -m bench.memory sweep|proposed|report|idle --db URL --now ISO``. The sweep runs in a
transaction that first empties the outbox (so every row is written again, as in the measured
sweep) and is rolled back, leaving the ledger as it was. ``idle`` imports the same modules and
opens a connection: the floor every process pays. Peak RSS is ``ru_maxrss`` of the process.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import proposed_sweep
from bench.proc import emit
from calendars import load_book
from houqin.db import make_engine
from houqin.reminders import plan_reminders
from houqin.reports import output, overdue

SCOPE = "district:bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=("sweep", "proposed", "report", "idle"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--now", required=True)
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    engine = make_engine(args.db)
    book = load_book()
    found: dict[str, float] = {}
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        start = time.perf_counter()
        if args.what in ("sweep", "proposed"):
            session.execute(text("TRUNCATE outbox"))
            sweep = plan_reminders if args.what == "sweep" else proposed_sweep.plan_reminders
            report = sweep(session, now=now, book=book)
            found["candidates"], found["written"] = report.candidates, report.written
        elif args.what == "report":
            digest = overdue.build(session, scope=SCOPE, now=now)
            subject, body = output.digest_text(digest)
            page = output.html(digest)
            found["overdue"], found["chars"] = digest.total, len(body) + len(page)
        else:
            session.execute(text("SELECT 1"))
        found["seconds"] = time.perf_counter() - start
        session.close()
        outer.rollback()
    engine.dispose()
    found["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit(found)


if __name__ == "__main__":
    main()
