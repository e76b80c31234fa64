"""The sweep's baseline: the same outbox rows from one hand-written SQL statement.

Working-day arithmetic uses two precomputed tables built from the calendar book (as a
production SQL sweep would keep them): ``bench_cal`` gives each calendar day the number of
working days before it (``rank_lt``) and up to it (``rank_le``), ``bench_wd`` each working day by
its rank. Then, for a due day d: ``d - k workdays`` is ``wd[rank_lt(d) - k + 1]``, ``d + n
workdays`` is ``wd[rank_le(d) + n]``, and the due morning (``0``: d, or the next working day)
is ``wd[rank_lt(d) + 1]`` — exactly ``CalendarBook.add_workdays``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text

from calendars import CalendarBook
from houqin.roles import LEADERSHIP_ROLES

OUTBOX_COLUMNS = "dedup_key, school_id, recipient_id, item_id, kind, next_attempt_at"


def build_calendar_tables(engine: Engine, book: CalendarBook, first: date, last: date) -> int:
    rows_cal, rows_wd = [], []
    rank = 0
    day = first
    while day <= last:
        work = book.is_workday(day)
        rank_lt = rank
        if work:
            rank += 1
            rows_wd.append({"rank": rank, "d": day})
        rows_cal.append({"d": day, "work": work, "lt": rank_lt, "le": rank})
        day += timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_cal, bench_wd"))
        conn.execute(
            text(
                "CREATE TABLE bench_cal (d date PRIMARY KEY, is_work boolean NOT NULL, "
                "rank_lt int NOT NULL, rank_le int NOT NULL)"
            )
        )
        conn.execute(text("CREATE TABLE bench_wd (rank int PRIMARY KEY, d date NOT NULL)"))
        conn.execute(text("INSERT INTO bench_cal VALUES (:d, :work, :lt, :le)"), rows_cal)
        conn.execute(text("INSERT INTO bench_wd VALUES (:rank, :d)"), rows_wd)
        conn.execute(text("ANALYZE bench_cal"))
        conn.execute(text("ANALYZE bench_wd"))
    return len(rows_cal)


def make_twin(engine: Engine, table: str) -> None:
    """An empty table shaped like the outbox: same columns, defaults, indexes, UNIQUE key."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(text(f"CREATE TABLE {table} (LIKE outbox INCLUDING ALL)"))
        for column, target in (
            ("school_id", "school"),
            ("recipient_id", "person"),
            ("item_id", "item"),
        ):
            conn.execute(
                text(f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) REFERENCES {target} (id)")
            )


# One statement: candidates; their steps, computed once per distinct (due day, reminders,
# escalations) as a tuned SQL sweep would; the latest step that has come; its recipients; the
# quiet-hours send time; inserted with the same de-duplication key and ON CONFLICT as the sweep.
SWEEP_SQL = """
WITH leaders AS MATERIALIZED (
    SELECT school_id, array_agg(DISTINCT person_id) AS people
    FROM role_binding WHERE role_key = ANY(:leadership) GROUP BY school_id
),
cand AS (
    SELECT i.id, i.school_id, i.owner_id, i.due_at, p.supervisor_id, x.people,
           i.remind::text AS remind, i.escalate::text AS escalate,
           (i.due_at AT TIME ZONE s.timezone)::date AS due_day,
           (CAST(:now AS timestamptz) AT TIME ZONE s.timezone) AS local_now,
           s.timezone, s.quiet_start::time AS qs, s.quiet_end::time AS qe
    FROM item i
    JOIN person p ON p.id = i.owner_id
    JOIN school s ON s.id = i.school_id
    LEFT JOIN leaders x ON x.school_id = i.school_id
    WHERE i.status = 'open' AND i.due_at < :horizon
),
rules AS MATERIALIZED (
    SELECT DISTINCT due_day, remind, escalate, local_now::date AS today FROM cand
),
latest AS MATERIALIZED (
    SELECT r.*, st.kind
    FROM rules r
    JOIN bench_cal cal ON cal.d = r.due_day
    CROSS JOIN LATERAL (
        SELECT x.kind FROM (
            SELECT CASE WHEN k.k::int = 0 THEN 'remind:T0' ELSE 'remind:T-' || k.k END AS kind,
                   (SELECT w.d FROM bench_wd w
                    WHERE w.rank = cal.rank_lt + 1 - k.k::int) AS day,
                   k.ord AS ord
            FROM json_array_elements_text(r.remind::json) WITH ORDINALITY k(k, ord)
            UNION ALL
            SELECT 'escalate:L' || e.ord,
                   (SELECT w.d FROM bench_wd w WHERE w.rank = cal.rank_le + e.n::int),
                   1000 + e.ord
            FROM json_array_elements_text(r.escalate::json) WITH ORDINALITY e(n, ord)
        ) x
        WHERE x.day <= r.today
        ORDER BY x.day DESC, x.ord DESC
        LIMIT 1
    ) st
),
due AS (
    SELECT c.*, l.kind,
           l.kind LIKE 'remind%' AS is_remind,
           l.kind = 'escalate:L1' AND c.supervisor_id IS NOT NULL AS to_supervisor,
           CASE WHEN c.qs > c.qe
                THEN c.local_now::time >= c.qs OR c.local_now::time < c.qe
                ELSE c.local_now::time >= c.qs AND c.local_now::time < c.qe END AS quiet
    FROM cand c
    JOIN latest l ON l.due_day = c.due_day AND l.remind = c.remind
                 AND l.escalate = c.escalate AND l.today = c.local_now::date
    WHERE NOT (l.kind LIKE 'remind%' AND c.due_at <= CAST(:now AS timestamptz))
),
rcpt AS (
    SELECT d.*, r.person_id
    FROM due d
    CROSS JOIN LATERAL (
        SELECT d.owner_id AS person_id WHERE d.is_remind
        UNION ALL
        SELECT d.supervisor_id WHERE d.to_supervisor
        UNION ALL
        SELECT p FROM unnest(d.people) p
        WHERE NOT d.is_remind AND NOT d.to_supervisor AND p <> d.owner_id
        UNION ALL
        SELECT d.owner_id WHERE NOT d.is_remind AND NOT d.to_supervisor
            AND NOT EXISTS (SELECT 1 FROM unnest(d.people) p WHERE p <> d.owner_id)
    ) r
)
INSERT INTO {table} (dedup_key, school_id, recipient_id, item_id, kind, status, attempts,
                     created_at, next_attempt_at)
SELECT id || ':' || kind || ':' || person_id, school_id, person_id, id, kind, 'pending', 0,
       CAST(:now AS timestamptz),
       CASE WHEN NOT quiet THEN CAST(:now AS timestamptz)
            ELSE ((CASE WHEN local_now::time < qe THEN local_now::date
                        ELSE local_now::date + 1 END) + qe) AT TIME ZONE timezone END
FROM rcpt
ON CONFLICT (dedup_key) DO NOTHING
"""


def sweep_by_sql(engine: Engine, table: str, *, now: datetime, horizon: datetime) -> int:
    with engine.begin() as conn:
        # the planner misjudges the JSON functions' row counts and would spend more time
        # JIT-compiling than running; a tuned production statement would run without JIT
        conn.execute(text("SET LOCAL jit = off"))
        return conn.execute(
            text(SWEEP_SQL.format(table=table)),
            {"now": now, "horizon": horizon, "leadership": list(LEADERSHIP_ROLES)},
        ).rowcount


def differences(engine: Engine, table: str, other: str = "outbox") -> tuple[int, int]:
    """Rows only in ``table`` and rows only in ``other``, on the columns the sweep decides."""
    with engine.connect() as conn:
        only = [
            conn.execute(
                text(
                    f"SELECT count(*) FROM (SELECT {OUTBOX_COLUMNS} FROM {a} "
                    f"EXCEPT SELECT {OUTBOX_COLUMNS} FROM {b}) x"
                )
            ).scalar_one()
            for a, b in ((table, other), (other, table))
        ]
    return only[0], only[1]
