"""The completion report of a plan run, as files: run on demand, or when the run's last item
is closed (a Prefect automation on ``houqin.plan.completed`` can start it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow

from houqin import clock
from houqin.db import make_engine, unit_of_work
from houqin.reports import completion, output
from houqin.settings import get_settings


@flow(name="completion-report", log_prints=True)
def completion_report(
    run_id: int,
    formats: tuple[str, ...] = ("html", "pdf", "xlsx"),
    out_dir: str | None = None,
    lang: str = "zh-CN",
    today: date | None = None,
) -> dict[str, str]:
    """Write the report of plan run ``run_id`` in each format; returns format -> path."""
    settings = get_settings()
    now = clock.moment(today, "18:00", settings.timezone) if today else clock.now(settings.timezone)
    engine = make_engine(settings)
    try:
        with unit_of_work(engine) as session:
            report = completion.build(session, run_id=run_id, now=now, photo_root=settings.data_dir)
    finally:
        engine.dispose()  # a flow run is short: leave no pooled connections behind
    folder = Path(out_dir) if out_dir else settings.data_dir / "reports"
    paths = {
        fmt: str(output.write(report, fmt, folder / f"completion-{run_id}.{fmt}", lang))
        for fmt in formats
    }
    print(f"completion report of run {run_id}: {', '.join(paths.values())}")
    return paths
