"""The web measurements: tick-off under load, and the overdue page for a district account.

Both run against ``bench.serve`` (``ticks.Server``): first one server process for the levels
in ``Config.tick_requests`` (back to back, then people pausing between ticks) and the overdue
page, then a server with ``Config.extra_workers`` processes for the first level again. Each
back-to-back level is also run without the web layer (``tick_sql``: the tick's own statements
from as many raw connections, and one statement per tick), which is the machine's limit.
"""

from __future__ import annotations

import time
from datetime import datetime

from argon2 import PasswordHasher

from bench import district, memory, overdue, tick_sql, ticks
from bench.config import Config, Log
from bench.results import Section
from houqin.accounts import create_account
from houqin.db import unit_of_work

DISTRICT_LOGIN = ("bench-district", "bench-district-password")
WARM_UP = 20  # tick requests per server process before measuring


def measure(d: district.District, config: Config, sec: Section, rev: Section, log: Log) -> None:
    now = d.moment("09:00")
    with unit_of_work(d.engine) as s:
        create_account(
            s,
            username=DISTRICT_LOGIN[0],
            password=DISTRICT_LOGIN[1],
            role="district",
            school=None,
            district=district.DISTRICT,
            now=now,
            actor="bench",
            hasher=PasswordHasher(time_cost=1, memory_cost=1024),
        )
    server = ticks.Server(d.url, now)
    extra = None
    try:
        # (users, requests, think time): back to back first, then people pausing to read and type
        plan = [(u, n, 0.0) for u, n in config.tick_requests.items()]
        paced = int(config.paced_s / config.think_s) + 1
        plan += [(u, u * paced, config.think_s) for u in config.tick_requests]
        if config.extra_workers:
            plan.append(plan[0])
        warm = WARM_UP * (1 + config.extra_workers)
        # a back-to-back level on one process also ticks as many items twice without the web
        copies = [
            3 if not think and i < len(config.tick_requests) else 1
            for i, (_, _, think) in enumerate(plan)
        ]
        wanted = sum(n * c for (_, n, _), c in zip(plan, copies, strict=True))
        items = ticks.pick_items(d.engine, now, wanted + warm)
        warming, items = items[:warm], items[warm:]
        share = min(1.0, len(items) / wanted)  # a tiny district has fewer items than asked for
        batches = []
        for (users, asked, think), c in zip(plan, copies, strict=True):
            n = max(users, int(asked * share))
            batches.append((users, think, [items[i * n : (i + 1) * n] for i in range(c)]))
            items = items[n * c :]
        extra = batches.pop() if config.extra_workers else None
        _warm_up(server, warming[:WARM_UP], now)
        for users, think, (batch, *raw) in batches:
            limit = _sql_level(d, sec, config, log, raw, users) if raw else None
            _tick_level(d, server, sec, config, log, batch, users, think, limit)
        _review_page(d, server, rev, log)
    finally:
        server.stop()
    if extra is not None:
        # the same closed loop against a server with more worker processes (uvicorn --workers)
        server = ticks.Server(d.url, now, workers=config.extra_workers)
        try:
            _warm_up(server, warming[WARM_UP:], now)
            _tick_level(d, server, sec, config, log, extra[2][0], extra[0], 0.0)
        finally:
            server.stop()


def _warm_up(server: ticks.Server, items: list[tuple[int, int]], now: datetime) -> None:
    """A fresh server compiles templates and statements on its first requests: not measured."""
    if items:
        ticks.run_load(server.base, ticks.tick_jobs(server, items, now), 4 * server.workers, 60)


def _sql_level(
    d: district.District,
    sec: Section,
    config: Config,
    log: Log,
    batches: list[list[tuple[int, int]]],
    users: int,
) -> ticks.Load:
    """The same ticks without the web layer: the app's statements, then one statement each.

    A connection per client, as far as the server's ``max_connections`` allows (the web app
    itself holds at most 15 per process, so 200 clients share them).
    """
    found = {}
    users = min(users, tick_sql.free_connections(d.url))
    for how, batch in zip(("statements", "one statement"), batches, strict=True):
        load = tick_sql.run_load(d.url, batch, users, config.tick_cap_s, how)
        found[how] = load
        log(f"raw SQL ({how}), {users} connections: p50 {load.p50:.0f}, p99 {load.pct(99):.0f} ms")
    five, one = found["statements"], found["one statement"]
    sec.add(
        f"p99 latency of the tick's own SQL without the web layer (the same 5 statements + "
        f"COMMIT), {users} raw connections, back to back ({len(five.latencies_ms)} ticks)",
        five.pct(99),
        "ms",
        baseline=f"one statement per tick (a CTE doing every write): p99 {one.pct(99):.1f} ms",
        ratio=five.pct(99) / one.pct(99),
    )
    sec.notes.append(
        f"The database's limit at {users} connections back to back: the tick's 5 statements "
        f"{five.ok / five.elapsed_s:.0f} ticks/s (p50 {five.p50:.1f} ms, "
        f"p99 {five.pct(99):.1f} ms); "
        f"one statement per tick {one.ok / one.elapsed_s:.0f} ticks/s (p50 {one.p50:.1f} ms, "
        f"p99 {one.pct(99):.1f} ms); statuses {dict(five.statuses)} and {dict(one.statuses)}."
    )
    return five


def _tick_level(
    d: district.District,
    server: ticks.Server,
    sec: Section,
    config: Config,
    log: Log,
    items: list[tuple[int, int]],
    users: int,
    think: float,
    limit: ticks.Load | None = None,
) -> None:
    now = d.moment("09:00")
    jobs = ticks.tick_jobs(server, items, now)
    cap = config.paced_s + 2 * think if think else config.tick_cap_s
    before = ticks.tick_audits(d.engine)
    load = ticks.run_load(server.base, jobs, users, cap, think)
    recorded = ticks.tick_audits(d.engine) - before
    static = ticks.run_load(server.base, ticks.static_jobs(len(jobs)), users, cap, think)
    lost = load.ok - recorded
    how = (
        f"{users} users pausing ~{think:g} s between ticks"
        if think
        else f"{users} concurrent clients, back to back"
    )
    if server.workers > 1:
        how += f", {server.workers} server processes"
    log(
        f"{how}: p50 {load.p50:.0f} ms, p99 {load.pct(99):.0f} ms, {load.ok} ok, "
        f"errors {load.errors}, lost {lost}"
    )
    judged = users == 50 and server.workers == 1
    base, base_p99 = f"static file, same load: p99 {static.pct(99):.1f} ms", static.pct(99)
    if limit is not None:
        base = f"the same SQL from {limit.clients} raw connections: p99 {limit.pct(99):.1f} ms"
        base_p99 = limit.pct(99)
    sec.add(
        f"p99 latency of POST /l/{{token}}, {how} ({sum(load.statuses.values())} requests)",
        load.pct(99),
        "ms",
        baseline=base,
        ratio=load.pct(99) / base_p99,
        target="< 100 ms, no errors, nothing lost" if judged else "",
        met=(load.pct(99) < 100 and load.errors == 0 and lost == 0 and not load.unsent)
        if judged
        else None,
    )
    sec.add(
        f"p50 latency, {how}",
        load.p50,
        "ms",
        baseline=f"static file: p50 {static.p50:.1f} ms",
        ratio=load.p50 / static.p50,
    )
    sec.notes.append(
        f"{how}: {load.ok} ticks in {load.elapsed_s:.1f} s ({load.ok / load.elapsed_s:.0f}/s); "
        f"statuses {dict(load.statuses)}; {load.unsent} not sent within the {cap:.0f} s cap; "
        f"audit events written {recorded} for {load.ok} successful requests — "
        + ("nothing lost." if lost == 0 else f"{lost} LOST.")
        + f" Static file, same load: {static.ok / static.elapsed_s:.0f} requests/s, "
        f"p50 {static.p50:.1f} ms, p99 {static.pct(99):.1f} ms."
    )


def _review_page(d: district.District, server: ticks.Server, rev: Section, log: Log) -> None:
    client = ticks.login(server.base, *DISTRICT_LOGIN)
    try:
        start = time.perf_counter()
        r = client.get("/review")
        page_s = time.perf_counter() - start
    finally:
        client.close()
    hwm = memory.peak_rss_mb(server.proc.pid)
    total, sql_s = overdue.baseline(d.engine, district=district.DISTRICT, now=d.moment("09:00"))
    log(f"/review {page_s:.2f} s, status {r.status_code}")
    failed = "" if r.status_code == 200 else f" — FAILED: HTTP {r.status_code}"
    rev.add(
        f"web overdue page /review, district account ({total:,} overdue items){failed}",
        page_s,
        "s",
        baseline=f"one aggregate SQL statement over the same rows: {sql_s:.3f} s",
        ratio=page_s / sql_s,
    )
    rev.notes.append(
        f"/review answered {r.status_code} with {len(r.content) / 2**20:.1f} MiB of HTML; the "
        f"web server's peak RSS after it: {hwm:.0f} MB (the server runs with its address space "
        f"capped at {ticks.SERVER_MEMORY_MB:,} MB, so a page that loads the district fails "
        "rather than take the shared machine down)."
    )
