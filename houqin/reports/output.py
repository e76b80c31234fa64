"""Each report in each format: HTML, PDF, xlsx (and plain text for the digest).

``write(report, fmt, out, lang)`` is what the CLI and the flows call; the ``*_html`` functions
are what the web UI can serve directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from houqin.errors import UserError
from houqin.reports import assessment_text, charts, sheets, xlsx
from houqin.reports.assessment import Assessment
from houqin.reports.completion import STATUS_KEYS, CompletionReport
from houqin.reports.labels import pick_lang, words
from houqin.reports.overdue import OverdueDigest
from houqin.reports.render import FORMATS, environment, render, write_pdf, write_text

Report = CompletionReport | OverdueDigest | Assessment


def write(report: Report, fmt: str, out: Path, lang: str = "zh-CN") -> Path:
    """Write ``report`` as ``fmt`` (html | pdf | xlsx) to ``out``; returns the path."""
    if fmt not in FORMATS:
        raise UserError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "xlsx":
        return xlsx.save(_workbook(report, lang), out)
    page = html(report, lang)
    return write_pdf(page, out) if fmt == "pdf" else write_text(page, out)


def html(report: Report, lang: str = "zh-CN") -> str:
    if isinstance(report, CompletionReport):
        return completion_html(report, lang)
    if isinstance(report, OverdueDigest):
        return render("overdue.html.j2", lang=lang, timezone=report.timezone, d=report)
    return assessment_html(report, lang)


def digest_text(digest: OverdueDigest, lang: str = "zh-CN") -> tuple[str, str]:
    """(subject, body) of the digest as a plain-text e-mail."""
    code = pick_lang(lang)
    template = environment().get_template(f"overdue.{code}.txt.j2")
    module = template.make_module(
        {"d": digest, "w": words(code), "lang": code, "tz": digest.timezone}
    )
    # The template sets the subject too, so each language's wording stays in one file.
    subject = " ".join(str(vars(module)["subject"]).split())
    return subject, str(module).strip() + "\n"


def _workbook(report: Report, lang: str) -> Any:
    if isinstance(report, CompletionReport):
        return sheets.completion(report, lang)
    if isinstance(report, OverdueDigest):
        return sheets.overdue(report, lang)
    return sheets.assessment(report, lang)


def completion_html(report: CompletionReport, lang: str = "zh-CN") -> str:
    w = words(lang)
    phases = list(report.by_phase)
    phase_chart = charts.stacked_hbars(
        phases or [w["none"]],
        {w[k]: [report.by_phase[p].counts[k] for p in phases] or [0] for k in STATUS_KEYS},
        [charts.COLORS[k] for k in STATUS_KEYS],
        w["count"],
    )
    lateness_chart = charts.grouped_bars(
        [w[b] for b in report.lateness],
        {
            w["lateness_done"]: list(report.lateness.values()),
            w["overdue_open"]: [0, *report.overdue_age.values()],
        },
        [charts.COLORS["done_late"], charts.COLORS["open_overdue"]],
        w["count"],
    )
    return render(
        "completion.html.j2",
        lang=lang,
        timezone=report.timezone,
        report=report,
        statuses=STATUS_KEYS,
        phase_chart=phase_chart,
        lateness_chart=lateness_chart,
    )


def assessment_html(a: Assessment, lang: str = "zh-CN") -> str:
    w = words(lang)
    kpis = a.kpis
    chart = charts.stacked_hbars(
        [k.kpi.title.label(lang) for k in kpis],
        {
            w["score"]: [k.score or 0 for k in kpis],
            w["lost"]: [0 if k.score is None else k.kpi.weight - k.score for k in kpis],
            w["no_data"]: [k.kpi.weight if k.score is None else 0 for k in kpis],
        },
        [charts.COLORS["done_on_time"], "#e0e0e0", charts.COLORS["done_late"]],
        w["score"],
    )
    return render(
        "assessment.html.j2",
        lang=lang,
        timezone=a.timezone,
        a=a,
        chart=chart,
        status=assessment_text.status(a, lang),
        others=assessment_text.other_entries(a, lang),
    )
