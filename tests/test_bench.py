"""The benchmark runs end to end at a tiny scale on PostgreSQL (``python -m bench``'s code path).

It checks the plumbing, not the speed: every section yields figures with ratios, the baselines
write the same rows as Houqin, nothing is lost, and the generated database is dropped.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.config import Config
from bench.run import run
from tests.conftest import PG_ADMIN_URL

SECTIONS = ["launch", "sweep", "delivery", "ticks", "overdue", "memory", "commands"]


@pytest.mark.prefect  # the naive-design slice starts a Prefect test server (in a subprocess)
def test_benchmark_at_a_tiny_scale_gives_every_section_figures_with_ratios(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    config = Config(
        schools=2,
        label="test",
        naive_items=5,
        tick_requests={10: 20},  # the real levels, 50 and 200 clients, take too long here
        tick_cap_s=15,
        think_s=0.2,
        paced_s=0.4,
        extra_workers=0,
        repeats=1,
        delivery_cap=20,
        command_runs=1,
        admin_url=PG_ADMIN_URL,
        out=out,
        log=False,
    )

    results = run(config)

    sections = results.by_key()
    assert list(sections) == SECTIONS
    for key, section in sections.items():
        assert section.rows, key
        for row in section.rows:
            assert math.isfinite(row.value) and row.value > 0, (key, row.measure)
            assert row.ratio is not None and math.isfinite(row.ratio) and row.ratio > 0, (
                key,
                row.measure,
            )
    report = out.read_text(encoding="utf-8")
    # the SQL baseline and the naive slice write exactly the sweep's rows
    assert "The outbox rows match the SQL baseline's exactly" in report
    assert "Its rows for the slice match the sweep's." in report
    for alarm in ("DIFFER", "LOST", "MISMATCH"):
        assert alarm not in report
    assert "| 6. Peak memory |" in report
    # the tick's own SQL ran without the web layer, and every one of those ticks went through
    assert "the tick's own SQL without the web layer" in report
    assert "one statement per tick" in report and "'refused'" not in report
    admin = create_engine(PG_ADMIN_URL)
    with admin.connect() as conn:
        kept = conn.execute(
            text("SELECT count(*) FROM pg_database WHERE datname = :name"),
            {"name": results.database},
        ).scalar_one()
    admin.dispose()
    assert results.database.startswith("houqin_bench_") and kept == 0
