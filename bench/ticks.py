"""Tick-off under load: staff completing items through their reminder links, N at a time.

Each request is ``POST /l/{token}`` (the signed link in a reminder; no login needed) with the
CSRF double-submit pair a browser would send: the cookie secret and the form field signed with
the server's key (computed here, as the page would hand it out). Every request ticks a different
open item. The baseline is the same number of requests at the same concurrency for a static file
from the same server: the floor of HTTP on loopback with this client. Nothing lost: the audit
events ``item.tick`` / ``step.tick`` written during the run must equal the successful requests.
"""

from __future__ import annotations

import asyncio
import random
import re
import resource
import secrets
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine, text

from bench.delivery import free_port
from houqin.links import make_token
from houqin.settings import Settings

SECRET = "houqin-bench-" + secrets.token_hex(16)
STATIC = "/static/houqin.css"
SERVER_MEMORY_MB = 6144  # address-space cap of each server process
KEEPALIVE_S = 2.0  # below uvicorn's timeout_keep_alive (5 s)


@dataclass
class Load:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    unsent: int = 0  # requests not started before the time cap
    clients: int = 0  # how many sent them at once

    @property
    def ok(self) -> int:
        return self.statuses["200"]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    def pct(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, round(p / 100 * (len(data) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


class Server:
    """``bench.serve`` in a subprocess, its address space capped at ``memory_mb`` per process;
    stopped (by its pid) on exit."""

    def __init__(self, url: str, now: datetime, *, workers: int = 1, memory_mb: int = 0) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.data_dir = tempfile.TemporaryDirectory(prefix="houqin-bench-web-")
        limit = (memory_mb or SERVER_MEMORY_MB) * 2**20

        def bounded() -> None:
            # a page that loads the whole district must fail, not take the shared machine down
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.serve",
                "--db",
                url,
                "--port",
                str(self.port),
                "--now",
                now.isoformat(),
                "--secret",
                SECRET,
                "--data-dir",
                self.data_dir.name,
                "--workers",
                str(workers),
            ],
            preexec_fn=bounded,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + STATIC, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the web server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.data_dir.cleanup()

    def settings(self) -> Settings:
        return Settings(secret_key=SECRET, base_url=self.base, _env_file=None)


def pick_items(engine: Engine, now: datetime, n: int) -> list[tuple[int, int]]:
    """Open items anyone may complete with a note or a number: no photo, no dependencies, no
    sub-steps."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, owner_id FROM item WHERE status = 'open' AND due_at > :now "
                "AND evidence_kind IN ('none', 'note', 'number') AND depends_on::text = '[]' "
                "AND steps::text = '[]' "  # a completion needs its sub-steps ticked: none here
                "ORDER BY md5(id::text) LIMIT :n"
            ),
            {"now": now, "n": n},
        ).all()
    return [(int(a), int(b)) for a, b in rows]


def tick_audits(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM audit_event WHERE action IN ('item.tick', 'step.tick')")
            ).scalar_one()
        )


Job = tuple[str, str, dict[str, str] | None, dict[str, str]]  # method, path, form, headers


async def _run(base: str, jobs: list[Job], users: int, cap_s: float, think_s: float) -> Load:
    load = Load()
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    # One client (one keep-alive connection) per user: a shared httpx pool of 50 connections
    # costs the client ~3 ms of CPU per request and makes it, not the server, the bottleneck.
    # (a shared TLS context: httpx loads the CA bundle for each client otherwise, 25 ms each)
    tls = ssl.create_default_context()
    # Idle connections are dropped by the client before uvicorn's 5 s keep-alive timeout closes
    # them: at httpx's default (also 5 s) a paused user's next request could race the close.
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_S)
    clients = [
        httpx.AsyncClient(base_url=base, timeout=30, verify=tls, limits=limits)
        for _ in range(users)
    ]
    await asyncio.gather(*(c.get(STATIC) for c in clients))  # connections open before the clock
    rng = random.Random(7)
    deadline = time.monotonic() + cap_s

    async def user(client: httpx.AsyncClient) -> None:
        if think_s:
            await asyncio.sleep(rng.uniform(0, think_s))  # users arrive spread out
        while not queue.empty() and time.monotonic() < deadline:
            method, path, form, headers = queue.get_nowait()
            start = time.perf_counter()
            try:
                r = await client.request(method, path, data=form, headers=headers)
                load.statuses[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                load.statuses[type(exc).__name__] += 1
            load.latencies_ms.append((time.perf_counter() - start) * 1000)
            if think_s:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)

    start = time.perf_counter()
    try:
        await asyncio.gather(*(user(c) for c in clients))
    finally:
        load.elapsed_s = time.perf_counter() - start
        await asyncio.gather(*(c.aclose() for c in clients))
    load.unsent = queue.qsize()
    return load


def run_load(base: str, jobs: list[Job], users: int, cap_s: float, think_s: float = 0.0) -> Load:
    """``users`` users working through ``jobs``; with ``think_s``, each pauses about that long
    between requests (a person reading the item and typing a note); without, back to back."""
    return asyncio.run(_run(base, jobs, users, cap_s, think_s))


def tick_jobs(server: Server, items: list[tuple[int, int]], now: datetime) -> list[Job]:
    settings = server.settings()
    signer = URLSafeTimedSerializer(SECRET, salt="houqin.csrf")
    jobs: list[Job] = []
    for item_id, owner_id in items:
        cookie = secrets.token_urlsafe(32)  # each request a browser of its own
        token = make_token(settings, item_id=item_id, person_id=owner_id, now=now)
        form = {"csrf": signer.dumps(cookie), "note": "已检查完毕（压测）", "number": "1"}
        jobs.append(("POST", f"/l/{token}", form, {"cookie": f"houqin_csrf={cookie}"}))
    return jobs


def static_jobs(n: int) -> list[Job]:
    return [("GET", STATIC, None, {}) for _ in range(n)]


def login(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    page = client.get("/login").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the login page"
    r = client.post("/login", data={"username": username, "password": password, "csrf": found[1]})
    if r.status_code != 303:
        raise RuntimeError(f"login as {username} failed: {r.status_code}")
    return client
