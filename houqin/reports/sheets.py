"""The workbook of each report: which sheets, which columns, which rows are overdue."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from houqin.clock import as_local
from houqin.reports import assessment_text, xlsx
from houqin.reports.assessment import Assessment
from houqin.reports.completion import STATUS_KEYS, CompletionReport, Tally
from houqin.reports.labels import words
from houqin.reports.overdue import OverdueDigest


def completion(r: CompletionReport, lang: str) -> Workbook:
    w, tz = words(lang), r.timezone
    wb = xlsx.new_workbook()
    xlsx.key_values(
        wb,
        w["summary"],
        [
            (w["plan"], f"{r.plan_title}{w['lp']}{r.plan_key}{w['rp']}"),
            (w["period"], r.period),
            (w["school"], f"{r.school_name}{w['lp']}{r.school_code}{w['rp']}"),
            (w["generated"], xlsx.local_date(r.now, tz)),
            *((w[k], r.totals.counts[k]) for k in STATUS_KEYS),
            (w["total"], r.totals.total),
            (w["on_time_rate"], r.totals.on_time_rate),
        ],
    )
    headers = [
        "#",
        w["phase"],
        w["item"],
        w["owner"],
        w["due"],
        w["completed"],
        w["status"],
        w["days_late"],
        w["reason"],
    ]
    xlsx.table(
        wb,
        w["items"],
        headers,
        (
            [
                row.id,
                row.phase,
                row.title,
                row.owner,
                xlsx.local_date(row.due_at, tz),
                xlsx.local_date(row.completed_at, tz),
                w[row.status],
                row.days_late or None,
                row.waive_reason,
            ]
            for row in r.rows
        ),
        widths=[7, 16, 40, 12, 12, 12, 12, 10, 24],
        overdue=(row.status == "open_overdue" for row in r.rows),
        live_overdue=("G", "E", w["open"]),
    )
    tally_headers = [*(w[k] for k in STATUS_KEYS), w["total"], w["on_time_rate"]]
    for title, groups in ((w["by_phase"], r.by_phase), (w["by_owner"], r.by_owner)):
        first = w["phase"] if groups is r.by_phase else w["owner"]
        xlsx.table(
            wb,
            title,
            [first, *tally_headers],
            ([name, *_tally(t)] for name, t in groups.items()),
            widths=[20] + [11] * 7,
        )
    xlsx.table(
        wb,
        w["lateness"],
        ["", *(w[b] for b in r.lateness)],
        [
            [w["lateness_done"], *r.lateness.values()],
            [w["overdue_open"], None, *r.overdue_age.values()],
        ],
        widths=[18] + [10] * 6,
    )
    xlsx.table(
        wb,
        w["evidence"],
        ["#", w["item"], w["kind"], w["content"], w["by"], w["at"]],
        (
            [e.item_id, e.item_title, w[e.kind], e.text, e.actor, _local(e.at, tz)]
            for e in r.evidence
        ),
        widths=[7, 36, 8, 36, 12, 18],
    )
    xlsx.table(
        wb,
        w["audit"],
        [w["at"], w["action"], "#", w["item"], w["by"], w["from"], w["to"], w["reason"]],
        (
            [
                _local(a.at, tz),
                w[a.action],
                a.item_id,
                a.item_title,
                a.actor,
                a.details["from"],
                a.details["to"],
                a.details["reason"],
            ]
            for a in r.audit
        ),
        widths=[18, 8, 7, 36, 12, 12, 12, 30],
    )
    return wb


def overdue(d: OverdueDigest, lang: str) -> Workbook:
    w, tz = words(lang), d.timezone
    wb = xlsx.new_workbook()
    xlsx.key_values(
        wb,
        w["summary"],
        [
            (w["scope"], d.scope_name),
            (w["as_of"], _local(d.now, tz)),
            (w["previous"], _local(d.previous_at, tz) if d.previous_at else w["no_previous"]),
            (w["total_overdue"], d.total),
            (w["newly"], d.newly_count),
            (w["resolved"], d.resolved_count),
            (w["still"], d.still_count),
            *((w[b], n) for b, n in d.by_age.items()),
        ],
    )
    line_headers = [
        "#",
        w["item"],
        w["plan"],
        w["period"],
        w["school"],
        w["owner"],
        w["due"],
        w["days_overdue"],
    ]
    for title, lines in ((w["oldest_items"], d.lines), (w["newly"], d.newly)):
        xlsx.table(
            wb,
            title[:31],
            line_headers,
            (
                [
                    ln.item_id,
                    ln.title,
                    ln.plan_title,
                    ln.period,
                    ln.school,
                    ln.owner,
                    xlsx.local_date(ln.due_at, tz),
                    ln.days_overdue,
                ]
                for ln in lines
            ),
            widths=[7, 36, 22, 11, 16, 12, 12, 10],
            overdue=(True for _ in lines),
        )
    xlsx.table(
        wb,
        w["worst_plans"][:31],
        [w["plan"], w["period"], w["school"], w["count"], w["total_days"], w["oldest"]],
        ([p.plan_title, p.period, p.school, p.count, p.total_days, p.oldest_days] for p in d.plans),
        widths=[26, 11, 16, 8, 12, 12],
    )
    xlsx.table(
        wb,
        w["by_owner"],
        [w["owner"], w["school"], w["count"], w["total_days"], w["oldest"]],
        ([o.owner, o.school, o.count, o.total_days, o.oldest_days] for o in d.by_owner),
        widths=[14, 16, 8, 12, 12],
    )
    xlsx.table(
        wb,
        w["resolved"][:31],
        ["#", w["item"], w["school"], w["owner"], w["status_now"], w["completed"]],
        (
            [
                r.item_id,
                r.title,
                r.school,
                r.owner,
                w[r.status],
                xlsx.local_date(r.completed_at, tz),
            ]
            for r in d.resolved
        ),
        widths=[7, 36, 16, 12, 10, 12],
    )
    return wb


def assessment(a: Assessment, lang: str) -> Workbook:
    w = words(lang)
    wb = xlsx.new_workbook()
    s = a.standard
    low, high = a.total_range
    xlsx.key_values(
        wb,
        w["summary"],
        [
            (w["school"], f"{a.school_name}{w['lp']}{a.school_code}{w['rp']}"),
            (w["standard"], s.title.label(lang)),
            (w["period"], a.window.label),
            (w["window"], f"{a.window.start} – {a.window.last_day}"),
            (w["generated"], _local(a.now, a.timezone)),
            (w["points"], a.points),
            (w["deducted"], a.deducted),
            (w["total_score"], a.total if a.complete else f"{_n(low)}–{_n(high)}"),
            (w["data"], w["complete"] if a.complete else assessment_text.status(a, lang)),
            (w["band_by_points"], _band(a.band_by_points, w, lang)),
            (w["band"], _band(a.band, w, lang)),
            (
                w["vetoes"],
                w["sep"].join(v.veto.title.label(lang) for v in a.fired) or w["veto_clear"],
            ),
            (w["other_entries"], assessment_text.other_entries(a, lang) or w["none"]),
            (w["formula"], w["formula_text"]),
        ],
    )
    rows: list[list[Any]] = []
    for category, scores, _ in a.by_category():
        for k in scores:
            name = w["no_data"] if k.level is None else s.level_names[k.level].label(lang)
            rows.append(
                [
                    category.title.label(lang),
                    k.kpi.key,
                    k.kpi.title.label(lang),
                    _inputs(k.inputs, w),
                    k.value,
                    k.level,
                    name,
                    k.kpi.weight,
                    k.score,
                ]
            )
    headers = [
        w["category"],
        "key",
        w["kpi"],
        w["inputs"],
        w["value"],
        w["level"],
        "",
        w["weight"],
        w["score"],
    ]
    ws = xlsx.table(wb, w["kpi"], headers, rows, widths=[14, 24, 30, 60, 9, 6, 9, 7, 8])
    # The arithmetic as formulas, so the sheet recomputes if someone checks a weight or level.
    last = ws.max_row
    for r in range(2, last + 1):  # a KPI without data has no level to multiply: not scored
        scored = ws.cell(r, 6).value is not None
        xlsx.put(ws, r, 10, xlsx.Formula(f"=H{r}*F{r}/5") if scored else w["not_scored"])
    xlsx.put(ws, 1, 10, w["arithmetic"])
    xlsx.append(
        ws,
        [
            w["points"],
            *[None] * 6,
            xlsx.Formula(f"=SUM(H2:H{last})"),
            xlsx.Formula(f"=SUM(I2:I{last})"),
        ],
    )
    xlsx.table(
        wb,
        w["deductions"],
        [w["item"], w["incidents"], w["per_item"], w["cap"], w["deducted"]],
        (
            [d.deduction.title.label(lang), d.count, d.deduction.points, d.deduction.max, d.points]
            for d in a.deductions
        ),
        widths=[36, 8, 10, 8, 8],
    )
    xlsx.table(
        wb,
        w["vetoes"],
        ["key", w["item"], "source", w["status"], w["detail"]],
        (
            [
                v.veto.key,
                v.veto.title.label(lang),
                v.veto.source,
                w["veto_fired"] if v.fired else w["veto_clear"],
                w["sep"].join(v.notes),
            ]
            for v in a.vetoes
        ),
        widths=[26, 40, 12, 16, 30],
        overdue=(v.fired for v in a.vetoes),
    )
    return wb


def _band(band: Any, w: dict[str, str], lang: str) -> str:
    return w["no_data"] if band is None else str(band.title.label(lang))


def _tally(t: Tally) -> list[Any]:
    return [*(t.counts[k] for k in STATUS_KEYS), t.total, t.on_time_rate]


def _local(instant: Any, tz: str) -> Any:
    return None if instant is None else as_local(instant, tz).naive()


def _inputs(inputs: Any, w: dict[str, str]) -> str:
    parts = []
    for i in inputs:
        if i.key.startswith("src_"):
            parts.append(f"{w[i.key]} {_n(i.value)} (n={i.count}, ×{_n(i.weight)})")
        else:
            parts.append(f"{w[i.key]} {_n(i.value)}")
    return w["sep"].join(parts)


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
