"""The assessment score of a school for a quarter or a term, as files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow

from houqin import clock
from houqin.db import make_engine, unit_of_work
from houqin.people import get_school
from houqin.reports import assessment_text, output
from houqin.reports.assessment import assess
from houqin.settings import get_settings
from houqin.standards import get_standard, standard_for


@flow(name="assessment", log_prints=True)
def assessment(
    school: str,
    period: str,
    standard: str | None = None,  # default: the standard for the school's kind
    formats: tuple[str, ...] = ("html", "pdf", "xlsx"),
    lang: str = "zh-CN",
    today: date | None = None,
    out_dir: str | None = None,
) -> dict[str, Any]:
    """Score ``school`` for ``period`` (2027Q1, 2026-2027/1) by ``standard``; write the files."""
    settings = get_settings()
    now = clock.moment(today, "18:00", settings.timezone) if today else clock.now(settings.timezone)
    engine = make_engine(settings)
    try:
        with unit_of_work(engine) as session:
            target = get_school(session, school)
            result = assess(
                session,
                standard=get_standard(standard) if standard else standard_for(target),
                school=target,
                period=period,
                now=now,
            )
    finally:
        engine.dispose()  # a flow run is short: leave no pooled connections behind
    folder = Path(out_dir) if out_dir else settings.data_dir / "reports"
    stem = f"assessment-{school}-{result.window.label.replace('/', '-')}"
    paths = {fmt: str(output.write(result, fmt, folder / f"{stem}.{fmt}", lang)) for fmt in formats}
    vetoes = [v.veto.key for v in result.fired]
    print(f"{school} {period}: {assessment_text.line(result, lang)}")
    # band is "insufficient_data" and total None while a KPI has no data (total_range says how far)
    return {
        "total": result.total,
        "total_range": list(result.total_range),
        "band": result.result_key,
        "no_data": [k.kpi.key for k in result.missing],
        "vetoes": vetoes,
        "other_entries": result.other_entries,
        "paths": paths,
    }
