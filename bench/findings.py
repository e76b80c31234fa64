"""What the profiles showed where a figure fell short, appended to RESULTS.md by every run.

These are findings from profiling runs (pyinstrument, py-spy) on 2026-11-23, not measurements of
the run above; the run's own rows show the before/after figures where the fix could be measured
here. Update this text when the code it describes changes.
"""

FINDINGS = """\
## Profiles, changes made, and changes still proposed (profiled 2026-11-23, two sessions)

### Sweep — `houqin/reminders.py` (targets: within 2× of raw SQL; ≥ 100× faster than naive)
Before (core as of 4451892): 12.0 s at 500 schools (43,500 candidates: 8.6× the SQL baseline's
1.39 s, and only 30× faster than one Prefect task per item), 50.9 s at 1,000,188 items (179,045
candidates: 8.4× the SQL's 6.03 s, 24× faster than naive); peak RSS 121 MB and 152 MB. Both
targets missed. pyinstrument, 20 schools, 1,655 candidates, 0.70 s profiled: `_insert` 0.41 s —
psycopg dumping pendulum `DateTime`s (pendulum's `__sub__` builds an `Interval` per value)
0.135 s, psycopg re-parsing SQLAlchemy's insertmanyvalues statements (a new multi-row VALUES text
per 1,000 rows, too long for psycopg's cache) 0.126 s, `UTCDateTime` binds 0.04 s; `steps_for`
0.157 s (per item, each step walking the calendar day by day); per-item
`pendulum.instance(...).in_tz(...)` and `quiet_until` 0.077 s. Ablation on the same data: steps
cached per (due day, rules, today) and school-level work done once: 0.43 → 0.28 s; plain
`datetime`s: → 0.20 s; one `INSERT ... SELECT FROM unnest(arrays)` per chunk: → 0.09 s. With
the JSON rules parsed once per distinct text, the change measured 1.93 s at 500 schools and
8.23 s at 1,000,188 items (1.39× and 1.36× the SQL baseline, 184× and 148× faster than naive;
peak RSS 90 MB and 92 MB), writing exactly the baseline's rows. The lead applied it to the core
(f726184); the rows above measure the core as it is now.

### Overdue page — `houqin/web/review.py` (no target; a district account's page)
Before a46373b: at 500 schools (30,500 overdue items) 36–42 s, 11.7 MiB of HTML, 3.0 GB peak
RSS in the web server; at 1,000,188 items it failed (HTTP 500, MemoryError at the benchmark's
6 GB address-space cap, 5 GB resident). With `plan_template.body` emptied in the database the
500-school page took 19.9 s and 483 MB: `joinedload(Item.run).joinedload(PlanRun.template)`
loaded and parsed the ~15 KB template JSON once per overdue item; the rest was 30,000 ORM
objects and every overdue item rendered. After a46373b (counts in the database, the oldest 200
listed): 12.9 s at 500 schools, 57 s and 636 MB at 1,000,188 items. py-spy (`--gil`) on that
version at 1,000,188 items: 85% of the CPU in `completion_series`, which fetched (due_at,
completed_at, status) of every item of the district and converted each instant with `as_local`
(pendulum, 58%) after `UTCDateTime` had converted it once already (11%); the page's SQL took
2.7 s in all. Since then: 04518bb defers `PlanTemplateVersion.body` (loaded only when read) and
9905e48 counts the chart's days before the window in SQL; the run above measures that code.
The owner tally listed every owner with an overdue item (38,692 at 1,000,188 items, most of the
page's 3.9 MiB); since 9809023 each tally shows the 50 largest and counts the rest.

### Tick-off — `houqin/web/links.py`, `ticks.py`, `deps.py`, `items.py` (target: p99 < 100 ms)
Before 9809023 (RESULTS of c1b5bb5, 500 schools): 50 clients back to back p99 1,796 ms, p50
905 ms, 54 ticks/s on one process (two: p99 1,543 ms, 95/s). A link tick issued 20 SQL
statements: the item, the person and the used-link check as three reads, the link recorded
inside a savepoint (SAVEPOINT, INSERT, RELEASE), each core action inside another savepoint, the
item read back after its conditional UPDATE, and the whole item page re-rendered with the
school's people, the evidence and the history (`item_context`), none of which the link page
shows. Changed (2026-11-23, second session):
- item, plan run, school, template title and person in one query; the link recorded with one
  `INSERT … ON CONFLICT DO NOTHING RETURNING` (a concurrent second use waits on the unique nonce
  and is refused); no savepoints (every core action's conditional UPDATE is its first write, so
  a refused action has written nothing); the UPDATE's values put on the object instead of a
  re-read; the link page gets only what it shows. Now 5 statements + COMMIT.
- SQLAlchemy logged `[no key]` for the dialect `insert().on_conflict_do_nothing()` construct: it
  was compiled on every tick. It is a `text()` statement now (cached like the rest).
- 40 threads per process (anyio's default) fought over the GIL: on one process 40 threads gave
  68 ticks/s with p99 1,755 ms, 8 threads 70/s and p99 970 ms, 2 threads 80/s and 847 ms (60
  schools, the same load). Default now 8 (`HOUQIN_WEB_THREADS`): report downloads take seconds
  and must not hold every thread.
- The request's unit of work is an async dependency that commits in one thread hop (a sync
  generator costs two, ~0.3 ms each here). Its first version committed through the shared
  thread pool and deadlocked under a burst with few threads (every thread a route waiting for a
  connection, every connection held by a request waiting to commit); the commit now has its own
  limiter and tests/web/test_concurrency.py holds 12 requests against 2 threads and 2
  connections (it fails on the first version).
What bounds it now, measured on this machine: one PostgreSQL round trip from psycopg costs
~0.6 ms (`SELECT 1`, autocommit) and BEGIN + SELECT + COMMIT 1.6 ms; a tick costs the web
process ~12 ms of user CPU and ~3 ms of system CPU (psutil over 1,000 ticks), spread evenly
over the ORM (loading five entities with their JSON columns, the flush), psycopg, FastAPI's
dependency solving and form parsing, and the template — no single hot spot is left. And the
database alone cannot meet the target here: the rows above run the tick's own statements from
50 raw psycopg connections without any web layer, and one statement per tick (a CTE doing
every write); both have a p99 above 100 ms on these two cores. Fifty clients that never pause
keep 50 ticks in flight, so p99 < 100 ms would need well over 500 durable, audited writes a
second from two shared cores; it is missed by the machine, and the web path's distance from
that limit is the ratio in the table. At a human pace (50 people pausing ~5 s) it is met.

### Delivery — `houqin/delivery.py`, `notifications/email.py` (target: 3× raw smtplib)
Before issue 13 (500 schools, 2,000 messages): three transactions, a new SMTP connection and an
`EmailMessage` per message, 17.6× raw smtplib. Issue 13: one connection per run and server, one
statement per message (the last outcome and this start), outcomes alone without waiting for
the disk: 5.6–7.4× on a quiet machine. Branch h13 (cProfile of `deliver`, statements counted
with an SQLAlchemy listener: 1.5 a message): the `email` generator's MIME 1.0 ms a message →
written directly, 0.2 ms; itsdangerous deriving the signing key for each of a message's 13
links → once per message; gathering's statement per outbox line → two `unnest` statements;
an ORM session per message's statement → none; the commit overlapped with MAIL and RCPT (the
message's DATA waits for it). About a quarter more messages a second under the same load. Not
reached: 3×. Houqin's CPU alone is 4.1–4.8 ms a message against the baseline's 1.6–3.3 ms of
wall time, a floor of about 3.3× with composing at the message's turn and a durable commit
before each hand-over (docs/reliability.md, "What this costs").

### Launch — `houqin/launch.py` (no target)
15–18× a raw INSERT ... SELECT. pyinstrument, 10 schools: the batched item INSERT's client side
(insertmanyvalues statements re-parsed by psycopg, pendulum values, JSON) ~40%; per plan run,
five lookups and a savepoint (`_find_run`, `_template_version`, `role_bindings`, the run's
flush) ~45%; due-date arithmetic ~4%. 180 ms per school for 22 plan runs is fast enough for a
scheduled launch; the sweep's unnest insert would remove most of the first part if it matters.
"""
