"""Leadership's overdue review: what is late, by owner, plan, phase, age (and school for a
district account), with completion over time as an inline SVG chart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, joinedload

from houqin.bilingual import pick
from houqin.clock import as_local
from houqin.models import Item, Person, PlanRun, PlanTemplateVersion, School
from houqin.web.board import progress
from houqin.web.chart import Series, line_chart
from houqin.web.deps import DB, Now, User
from houqin.web.head import runs_of
from houqin.web.permissions import require, school_ids
from houqin.web.render import render

router = APIRouter()
WINDOW_DAYS = 60
AGES = [  # (upper bound in days, zh, en)
    (1, "1 天内", "under 1 day"),
    (3, "1–3 天", "1–3 days"),
    (7, "4–7 天", "4–7 days"),
    (30, "8–30 天", "8–30 days"),
    (10**6, "30 天以上", "over 30 days"),
]


def age_bucket(days: int, lang: str) -> str:
    for bound, zh, en in AGES:
        if days < bound:
            return pick(zh, en, lang)
    raise AssertionError("unreachable")


LIST_LIMIT = 200  # the oldest overdue items listed; the groups count them all
GROUP_LIMIT = 50  # rows per tally (a district has tens of thousands of owners)
RUNS_LIMIT = 60  # plan runs shown (newest first) — a district has thousands


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
    where = (Item.school_id.in_(ids), Item.status == "open", Item.due_at < now)
    total = session.scalar(select(func.count()).select_from(Item).where(*where)) or 0
    groups = overdue_groups(session, where, now, lang, several_schools=len(ids) > 1)
    overdue = list(
        session.scalars(
            select(Item)
            .where(*where)
            .options(
                joinedload(Item.owner),
                joinedload(Item.run).joinedload(PlanRun.template),
                joinedload(Item.run).joinedload(PlanRun.school),
            )
            .order_by(Item.due_at, Item.id)
            .limit(LIST_LIMIT)
        ).unique()
    )
    ages = {item.id: (now - item.due_at).days for item in overdue}
    age_order = [pick(zh, en, lang) for _, zh, en in AGES]
    runs = runs_of(session, ids, limit=RUNS_LIMIT)
    # the chart starts at the first launch (at least two weeks, at most WINDOW_DAYS back)
    today = as_local(now, tz).date()
    first_launch = session.scalar(
        select(func.min(PlanRun.launched_at)).where(PlanRun.school_id.in_(ids))
    )
    first = as_local(first_launch, tz).date() if first_launch else today
    days = max(14, min(WINDOW_DAYS, (today - first).days + 2))
    return render(
        request,
        "review.html.j2",
        total=total,
        overdue=overdue,
        ages=ages,
        groups=groups,
        group_limit=GROUP_LIMIT,
        age_order=[a for a in age_order if a in groups["age"]],
        schools=schools,
        school=school,
        chart=completion_chart(session, ids, now, tz, lang, days),
        runs=runs,
        counts=progress(session, [r.id for r in runs], now),
        district=viewer.role == "district",
        quarter=f"{as_local(now, tz).year}Q{(as_local(now, tz).month - 1) // 3 + 1}",
    )


def overdue_groups(
    session: Session, where: tuple[ColumnElement[bool], ...], now: datetime, lang: str,
    *, several_schools: bool,
) -> dict[str, Counter[str]]:  # fmt: skip
    """Overdue items counted by owner, plan, phase, school and age, in the database."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)

    def count(key: str, label: Callable[..., str], *columns: Any) -> None:
        stmt = (
            select(*columns, func.count())
            .select_from(Item)
            .join(Person, Person.id == Item.owner_id)
            .join(School, School.id == Item.school_id)
            .join(PlanRun, PlanRun.id == Item.run_id)
            .join(PlanTemplateVersion, PlanTemplateVersion.id == PlanRun.template_id)
            .where(*where)
            .group_by(*columns)
        )
        for *values, n in session.execute(stmt):
            groups[key][label(*values)] += n

    count("owner", lambda name, sch: f"{name}（{sch}）" if several_schools else name,
          Person.name, School.name)  # fmt: skip
    count("plan", lambda zh, en: pick(zh, en, lang),
          PlanTemplateVersion.title_zh, PlanTemplateVersion.title_en)  # fmt: skip
    count("phase", lambda zh, en: pick(zh, en, lang), Item.phase_zh, Item.phase_en)
    count("school", lambda name: name, School.name)
    # age in whole days < bound  <=>  due_at > now - bound days
    bucket = case(
        *[
            (Item.due_at > now - timedelta(days=bound), n)
            for n, (bound, _, _) in enumerate(AGES[:-1])  # the last is open-ended: the else
        ],
        else_=len(AGES) - 1,
    )
    count("age", lambda n: pick(AGES[n][1], AGES[n][2], lang), bucket)
    return groups


def completion_series(
    session: Session, school_ids: list[int], now: datetime, tz: str, days: int = WINDOW_DAYS
) -> tuple[list[date], list[int], list[int]]:
    """For each of the last ``days`` days: items due by then, and items done by then.

    Counts before the window come from two COUNTs; only the window's rows are read, so a
    district's year of items is not walked row by row.
    """
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    span: list[date] = [today - timedelta(days=days - 1 - i) for i in range(days)]
    start = datetime.combine(span[0], time(), zone)
    end = datetime.combine(span[-1] + timedelta(days=1), time(), zone)
    counted = (Item.school_id.in_(school_ids), Item.status != "waived")
    done = (*counted, Item.status == "done", Item.completed_at.is_not(None))
    d_total = session.scalar(select(func.count()).where(*counted, Item.due_at < start)) or 0
    c_total = session.scalar(select(func.count()).where(*done, Item.completed_at < start)) or 0
    due_on: Counter[date] = Counter(
        at.astimezone(zone).date()
        for at in session.scalars(
            select(Item.due_at).where(*counted, Item.due_at >= start, Item.due_at < end)
        )
    )
    done_on: Counter[date] = Counter(
        at.astimezone(zone).date()
        for at in session.scalars(
            select(Item.completed_at).where(
                *done, Item.completed_at >= start, Item.completed_at < end
            )
        )
        if at is not None
    )
    due, finished = [], []
    for day in span:
        d_total += due_on[day]
        c_total += done_on[day]
        due.append(d_total)
        finished.append(c_total)
    return span, due, finished


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
