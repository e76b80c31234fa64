"""What the profiles showed where a figure fell short, appended to RESULTS.md by every run.

These are findings from profiling runs (pyinstrument, py-spy) on 2026-11-23, not measurements of
the run above; the run's own rows show the before/after figures where the fix could be measured
here. Update this text when the code it describes changes.
"""

FINDINGS = """\
## Profiles, changes made, and changes still proposed (profiled 2026-11-23)

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
Still proposed: the owner tally lists every owner with an overdue item (38,692 at 1,000,188
items, most of the page's 3.9 MiB) — show the top 50 and a count.

### Tick-off — `houqin/web/links.py`, `web/ticks.py`, `web/staff.py` (target: p99 < 100 ms at 50)
Sequentially a link tick costs ~14 ms: 20 SQL statements (2.9 ms in PostgreSQL) and ~10 ms of
Python; py-spy (`--gil`) under load: SQLAlchemy execution ~36% of the GIL time (lazy loads
17%), flush/commit 15%, `item_context` re-reading the item, the school's people, evidence and
history 23%. One process serves 48–69 ticks/s; two 63–95/s across runs, as they share the two
cores with PostgreSQL and the load client (04518bb added `houqin serve --workers`). Fifty clients
sending back to back keep 50 requests in flight, so by Little's law p50 ≈ 50 / 60 s ≈ 0.8 s:
p99 < 100 ms there would need > 500 ticks/s on two cores, which a Python web process doing 20
statements per tick cannot reach — that row is missed by design of the load, not by a defect.
Fifty people who pause ~5 s between ticks got p99 39–102 ms over eight runs (under 100 ms in
seven). Still proposed: after a link tick render a short confirmation instead of the whole item
page (`item_context`), and load item, run, school and template in one query — about half the
statements, which would move both the capacity and that tail.

### Delivery — `houqin/delivery.py`, `notifications/email.py` (no target)
At 500 schools, 2,000 messages: `compose` 11 s, `deliver_due` 21 s (~10 ms per message: claim,
send and record are three transactions, and each message opens a new SMTP connection and builds
its MIME parts). Raw smtplib over one connection sends 1,200+ messages/s to the same sink, and
~650/s opening a connection per message. Still proposed: keep one SMTP connection open per
claimed batch (a `send_many` on the channel, or a connection cache in `EmailChannel`), and record
outcomes per batch. 2,000 messages in ~28 s is adequate for a district's sweep.

### Launch — `houqin/launch.py` (no target)
15–18× a raw INSERT ... SELECT. pyinstrument, 10 schools: the batched item INSERT's client side
(insertmanyvalues statements re-parsed by psycopg, pendulum values, JSON) ~40%; per plan run,
five lookups and a savepoint (`_find_run`, `_template_version`, `role_bindings`, the run's
flush) ~45%; due-date arithmetic ~4%. 180 ms per school for 22 plan runs is fast enough for a
scheduled launch; the sweep's unnest insert would remove most of the first part if it matters.
"""
