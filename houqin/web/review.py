"""Leadership's overdue review: what is late, by owner, plan, phase, age (and school for a
district account), with completion over time as an inline SVG chart.

The queries are the overdue report's (``houqin.reports.overdue``); this view picks the schools
the viewer may read and lays the page out.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin.bilingual import pick
from houqin.clock import as_local
from houqin.models import School
from houqin.plan_runs import counts_by_run, first_launch, runs_of
from houqin.reports.lateness import days_late
from houqin.reports.overdue import (
    AGES,
    ReviewFilter,
    age_label,
    completion_series,
    count_overdue,
    oldest_overdue,
    overdue_groups,
)
from houqin.web.chart import Series, line_chart
from houqin.web.deps import DB, Now, User
from houqin.web.permissions import require, school_ids
from houqin.web.render import render

router = APIRouter()
WINDOW_DAYS = 60
LIST_LIMIT = 200  # the oldest overdue items listed; the groups count them all
GROUP_LIMIT = 50  # rows per tally (a district has tens of thousands of owners)
RUNS_LIMIT = 60  # plan runs shown (newest first) — a district has thousands


FILTERS = ("owner", "plan", "phase", "age")  # the tallies whose rows filter the list


def _only(request: Request, school: str | None) -> ReviewFilter:
    """The list's filter from the address (``?owner=12&age=3``); a malformed number: none."""
    q = request.query_params

    def number(name: str) -> int | None:
        value = q.get(name, "")
        return int(value) if value.isdigit() and len(value) < 10 else None

    return ReviewFilter(
        owner=number("owner"),
        plan=q.get("plan") or None,
        phase=q.get("phase") or None,
        age=number("age"),
        school=school,
    )


@router.get("/review")
def review(
    request: Request, viewer: User, session: DB, now: Now, school: str | None = None
) -> Response:
    ids = school_ids(session, viewer)
    require(bool(ids))
    schools = list(session.scalars(select(School).where(School.id.in_(ids)).order_by(School.code)))
    if school:
        chosen = [s.id for s in schools if s.code == school]
        require(bool(chosen))
        ids = chosen
    lang = request.state.lang
    tz = request.app.state.settings.timezone
    groups, values = overdue_groups(session, ids, now, lang, several_schools=len(ids) > 1)
    only = _only(request, None)
    overdue = oldest_overdue(session, ids, now, LIST_LIMIT, only)
    chosen_filters = {k: request.query_params[k] for k in FILTERS if request.query_params.get(k)}
    runs = runs_of(session, ids, limit=RUNS_LIMIT)
    # the chart starts at the first launch (at least two weeks, at most WINDOW_DAYS back)
    today = as_local(now, tz).date()
    launched = first_launch(session, ids)
    first = as_local(launched, tz).date() if launched else today
    days = max(14, min(WINDOW_DAYS, (today - first).days + 2))
    return render(
        request,
        "review.html.j2",
        total=count_overdue(session, ids, now, only),
        all_total=count_overdue(session, ids, now),
        values=values,
        filters=chosen_filters,
        filter_link=lambda key, value: _link(school, {key: value}),
        clear_link=_link(school, {}),
        age_values={age_label(n, lang): str(n) for n in range(len(AGES))},
        overdue=overdue,
        ages={item.id: days_late(item.due_at, now) for item in overdue},
        groups=groups,
        group_limit=GROUP_LIMIT,
        age_order=[a for a in (age_label(n, lang) for n in range(len(AGES))) if a in groups["age"]],
        schools=schools,
        school=school,
        chart=completion_chart(session, ids, now, tz, lang, days),
        runs=runs,
        counts=counts_by_run(session, [r.id for r in runs], now),
        district=viewer.role == "district",
        quarter=f"{as_local(now, tz).year}Q{(as_local(now, tz).month - 1) // 3 + 1}",
    )


def _link(school: str | None, query: dict[str, str]) -> str:
    """The review filtered by one tally row (the school chosen, if any, kept)."""
    params = {**({"school": school} if school else {}), **query}
    return "/review" + ("?" + urlencode(params) if params else "") + "#list"


def completion_chart(
    session: Session, ids: list[int], now: datetime, tz: str, lang: str, days: int
) -> Markup:
    span, due, done = completion_series(session, ids, now, tz, days)
    return line_chart(
        span,
        [
            Series(
                pick("截止日已到的事项（累计）", "items due (cumulative)", lang), due, "#c0392b"
            ),
            Series(pick("已完成（累计）", "items done (cumulative)", lang), done, "#1e7e34"),
        ],
        title=pick(f"近 {days} 天完成情况", f"Completion over the last {days} days", lang),
    )
