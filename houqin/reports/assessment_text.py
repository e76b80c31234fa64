"""The assessment's result in words: how complete the score is, and the one-line result.

Shared by the HTML report, the spreadsheet, the CLI and the flow's log, so 数据不足 reads the
same everywhere.
"""

from __future__ import annotations

from houqin.reports.assessment import Assessment
from houqin.reports.labels import words
from houqin.reports.render import num


def status(a: Assessment, lang: str = "zh-CN") -> str:
    """Why the score is incomplete and what the missing data could still change ('' if complete)."""
    if a.complete:
        return ""
    w = words(lang)
    low, high = a.total_range
    found = [
        w["missing_summary"].format(
            n=len(a.missing), total=len(a.kpis), weight=num(a.missing_weight)
        ),
        w["range_text"].format(points=num(a.points), low=num(low), high=num(high)),
    ]
    if a.band is not None:
        found.append(w["decided_anyway"])
    else:
        bands = w["or"].join(b.title.label(lang) for b in a.possible_bands())
        found.append(w["undecided"].format(bands=bands))
    return w["sep"].join(found)


def line(a: Assessment, lang: str = "zh-CN") -> str:
    """The result in one line for the CLI and the flow's log: a band and its total, or 数据不足."""
    w = words(lang)
    result = a.band.title.label(lang) if a.band is not None else w["no_data"]
    if a.complete:
        text = w["line_total"].format(total=num(a.total), band=result)
    else:
        text = f"{result}{w['colon']}{status(a, lang)}"
    if a.fired:
        vetoes = w["sep"].join(v.veto.title.label(lang) for v in a.fired)
        text += w["sep"] + w["line_veto"].format(vetoes=vetoes)
    return text


def other_entries(a: Assessment, lang: str = "zh-CN") -> str:
    """The entries the standard does not count, listed ('' if none)."""
    w = words(lang)
    return w["sep"].join(w["entries_n"].format(key=k, n=n) for k, n in a.other_entries.items())
