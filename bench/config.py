"""What a benchmark run does (``Config``) and how it reports progress (``Log``)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ADMIN_URL = os.environ.get(
    "HOUQIN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass
class Config:
    schools: int = 500
    label: str = "default"
    naive_items: int = 200
    tick_requests: dict[int, int] = field(default_factory=lambda: {50: 1000, 200: 2000})
    tick_cap_s: float = 60.0
    think_s: float = 5.0  # paced users: mean pause between two ticks
    paced_s: float = 30.0  # how long the paced users work
    extra_workers: int = 2  # then 50 clients against this many server processes (0: skip)
    repeats: int = 2
    command_runs: int = 9  # `houqin launch` processes timed against a Prefect server
    delivery_cap: int = 2000  # recipients whose messages go out in the delivery measurement
    open_share: int = 5  # every 5th item past its deadline stays open (20% overdue)
    day: date | None = None
    admin_url: str = ADMIN_URL
    out: Path | None = RESULTS_MD
    keep_db: bool = False
    log: bool = True


class Log:
    def __init__(self, on: bool) -> None:
        self.on, self.start = on, time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.on:
            print(f"[{time.perf_counter() - self.start:7.1f}s] {message}", flush=True)
