"""The physical limit of a tick: the database work alone, from N raw connections at once.

Each tick here is what ``POST /l/{token}`` asks of PostgreSQL, written by hand and sent by
psycopg's async connections with nothing else in between (no HTTP, no ORM, no templates):

- ``statements``: the same five statements in one transaction — read the item with its plan
  run, school, template and person; record the link's nonce (``ON CONFLICT DO NOTHING``); the
  conditional UPDATE of the item; the evidence rows; the audit event — then COMMIT.
- ``one statement``: the least any durable, audited tick can cost: one statement doing all the
  writes (a CTE), then COMMIT.

Both write real rows; their audit events say ``bench.raw-tick`` so they never count as ticks.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import psycopg
from sqlalchemy.engine import make_url

from bench.ticks import Load

ACTION = "bench.raw-tick"

READ = """
SELECT i.revision, i.status, i.school_id, i.run_id, s.timezone, t.title_zh, p.code, p.active
FROM item i
JOIN plan_run r ON r.id = i.run_id
JOIN school s ON s.id = r.school_id
JOIN plan_template t ON t.id = r.template_id
JOIN person p ON p.id = %(person)s
WHERE i.id = %(item)s
"""
USE_LINK = """
INSERT INTO used_link (nonce, item_id, used_at) VALUES (%(nonce)s, %(item)s, now())
ON CONFLICT (nonce) DO NOTHING RETURNING id
"""
UPDATE = """
UPDATE item SET status = 'done', completed_by_id = %(person)s, completed_at = now(),
    late = false, revision = revision + 1
WHERE id = %(item)s AND revision = %(revision)s
"""
EVIDENCE = """
INSERT INTO evidence (item_id, kind, note, number, path, actor, created_at)
VALUES (%(item)s, 'note', %(note)s, NULL, NULL, %(actor)s, now()),
       (%(item)s, 'number', NULL, 1, NULL, %(actor)s, now())
RETURNING id
"""
AUDIT = f"""
INSERT INTO audit_event (at, actor, action, school_id, run_id, item_id, details)
VALUES (now(), %(actor)s, '{ACTION}', %(school)s, %(run)s, %(item)s, '{{}}')
RETURNING id
"""
ONE_STATEMENT = f"""
WITH link AS (
    INSERT INTO used_link (nonce, item_id, used_at) VALUES (%(nonce)s, %(item)s, now())
    ON CONFLICT (nonce) DO NOTHING RETURNING id
), done AS (
    UPDATE item SET status = 'done', completed_by_id = %(person)s, completed_at = now(),
        late = false, revision = revision + 1
    WHERE id = %(item)s AND status = 'open' AND EXISTS (SELECT 1 FROM link)
    RETURNING id, school_id, run_id
), evidence AS (
    INSERT INTO evidence (item_id, kind, note, number, path, actor, created_at)
    SELECT id, 'note', %(note)s, NULL, NULL, %(actor)s, now() FROM done
)
INSERT INTO audit_event (at, actor, action, school_id, run_id, item_id, details)
SELECT now(), %(actor)s, '{ACTION}', school_id, run_id, id, '{{}}' FROM done
RETURNING id
"""


async def _statements(conn: psycopg.AsyncConnection, args: dict[str, object]) -> bool:
    async with conn.transaction():
        row = await (await conn.execute(READ, args)).fetchone()
        if row is None or row[1] != "open":
            return False
        if await (await conn.execute(USE_LINK, args)).fetchone() is None:
            return False
        updated = await conn.execute(UPDATE, {**args, "revision": row[0]})
        if updated.rowcount != 1:
            return False
        await conn.execute(EVIDENCE, args)
        await conn.execute(AUDIT, {**args, "school": row[2], "run": row[3]})
    return True


async def _one_statement(conn: psycopg.AsyncConnection, args: dict[str, object]) -> bool:
    async with conn.transaction():
        return await (await conn.execute(ONE_STATEMENT, args)).fetchone() is not None


async def _run(url: str, items: list[tuple[int, int]], users: int, cap_s: float, how: str) -> Load:
    tick = _one_statement if how == "one statement" else _statements
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conns = [await psycopg.AsyncConnection.connect(dsn) for _ in range(users)]
    load = Load(clients=users)
    queue = list(reversed(items))
    deadline = time.monotonic() + cap_s

    async def user(conn: psycopg.AsyncConnection) -> None:
        while queue and time.monotonic() < deadline:
            item_id, person_id = queue.pop()
            args = {
                "item": item_id,
                "person": person_id,
                "nonce": secrets.token_urlsafe(9),
                "note": "已检查完毕（压测）",
                "actor": "bench",
            }
            start = time.perf_counter()
            ok = await tick(conn, args)
            load.latencies_ms.append((time.perf_counter() - start) * 1000)
            load.statuses["200" if ok else "refused"] += 1

    start = time.perf_counter()
    try:
        await asyncio.gather(*(user(c) for c in conns))
    finally:
        load.elapsed_s = time.perf_counter() - start
        for conn in conns:
            await conn.close()
    load.unsent = len(queue)
    return load


def free_connections(url: str, spare: int = 10) -> int:
    """How many more connections the server accepts, keeping ``spare`` for everyone else."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        most = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        used = int(conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0])  # type: ignore[index]
    return max(1, most - used - spare)


def run_load(
    url: str, items: list[tuple[int, int]], users: int, cap_s: float, how: str = "statements"
) -> Load:
    """``users`` connections ticking ``items`` back to back; ``how``: "statements" (the
    app's five) or "one statement"."""
    return asyncio.run(_run(url, items, users, cap_s, how))
