"""A person's reminder digest, composed from its outbox lines just before it is sent.

A message may wait (retries, quiet hours, an outage), so its lines are read again at the moment
of sending: an item done, waived or reassigned since is dropped, as is an escalation no longer
overdue or no longer the recipient's to supervise or lead; an item that two steps put in the
message (a held reminder and today's escalation) appears once, at its latest step; and the
counts are those of what the message lists. A re-planned item's "moved" line (houqin/replan.py)
is told with the item's reminder when both are in the message, else on its own. (Leadership's
weekly overdue digest is another thing: houqin/reports/overdue.py.)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, aliased

from houqin.links import link_maker
from houqin.models import Account, Item, Outbox, Person, PlanRun, PlanTemplateVersion, School
from houqin.settings import Settings
from notifications.render import DigestGroup, DigestLine, render_digest

_owner = aliased(Person)
# the recipient is the school's logistics head: a follow-up may also reassign or waive
_MANAGES = (
    select(Account.id)
    .where(
        Account.person_id == Outbox.recipient_id,
        Account.school_id == Outbox.school_id,
        Account.role == "logistics_head",
        Account.active.is_(True),
    )
    .exists()
)


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    kept: list[int]  # outbox line ids the message tells
    dropped: dict[int, str]  # outbox line id -> why it is no longer told


def lines_for(session: Session, delivery_ids: list[int]) -> dict[int, list[Row[Any]]]:
    """Each message's queued lines with their items' state now (one query for all)."""
    if not delivery_ids:
        return {}
    rows = session.execute(
        select(
            Outbox.delivery_id,
            Outbox.id,
            Outbox.kind,
            Item.id.label("item_id"),
            Item.status,
            Item.owner_id,
            Item.due_at,
            Item.due_provisional,
            Item.title_zh,
            Item.title_en,
            Item.run_id,
            _owner.name.label("owner_name"),
            _owner.supervisor_id,
            PlanRun.period,
            PlanTemplateVersion.title_zh.label("plan_zh"),
            PlanTemplateVersion.title_en.label("plan_en"),
            _MANAGES.label("manages"),
        )
        .join(Item, Item.id == Outbox.item_id)
        .join(_owner, _owner.id == Item.owner_id)
        .join(PlanRun, PlanRun.id == Item.run_id)
        .join(PlanTemplateVersion, PlanTemplateVersion.id == PlanRun.template_id)
        .where(Outbox.delivery_id.in_(delivery_ids), Outbox.status == "queued")
        .order_by(Outbox.id)
    )
    found: dict[int, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        found[row.delivery_id].append(row)
    return found


def stale_reason(
    line: Row[Any], recipient_id: int, leaders: list[int], now: datetime
) -> str | None:
    """Why ``line`` should no longer be told to the recipient, or None if it still should."""
    if line.status != "open":
        return f"item {line.item_id} is {line.status}"
    if line.kind.startswith(("remind", "moved")):
        if line.owner_id != recipient_id:
            return f"item {line.item_id} was reassigned"
        return None
    if line.due_at > now:
        return f"item {line.item_id} is no longer overdue (its deadline moved)"
    if recipient_id not in (line.supervisor_id, line.owner_id, *leaders):
        return f"item {line.item_id} is no longer the recipient's to supervise"
    return None


def _step_rank(kind: str) -> tuple[int, int]:
    # remind:T-3 < remind:T-1 < remind:T0 < escalate:L1 < escalate:L2
    family, _, step = kind.partition(":")
    if step == "now":  # a supervisor's "remind the owner now": after the day's own reminder
        return 0, 1
    if family == "escalate":
        return 1, int(step.removeprefix("L") or 0)
    return 0, -int(step.removeprefix("T") or 0)


def compose(
    lines: list[Row[Any]],
    *,
    person: Person,
    school: School,
    leaders: list[int],
    now: datetime,
    settings: Settings,
) -> Digest:
    """The digest of what is still worth telling ``person``; ``kept`` empty: send nothing.

    Each line's link is signed for ``person``: an owner's opens the tick-off form, a
    supervisor's or leader's (an escalation) opens the item to follow it up; a recipient who
    is the school's logistics head (read with the lines) is told they may reassign or waive."""
    dropped: dict[int, str] = {}
    latest: dict[int, Row[Any]] = {}
    moved: dict[int, date] = {}  # item -> the deadline the owner knew before a re-plan
    for line in lines:
        reason = stale_reason(line, person.id, leaders, now)
        if reason is not None:
            dropped[line.id] = reason
            continue
        if line.kind.startswith("moved:"):  # told beside the item's reminder, or on its own
            known = date.fromisoformat(line.kind.partition(":")[2])
            moved[line.item_id] = min(known, moved.get(line.item_id, known))
            latest.setdefault(line.item_id, line)
            continue
        other = latest.get(line.item_id)
        if other is not None and other.kind.startswith("moved:"):
            other = None
        if other is None or _step_rank(line.kind) > _step_rank(other.kind):
            latest[line.item_id] = line
    kept = [line.id for line in lines if line.id not in dropped]
    if not latest:
        return Digest("", "", "", [], dropped)
    zh = person.lang.startswith("zh")
    link = link_maker(settings, now)
    groups: dict[int, list[DigestLine]] = defaultdict(list)
    titles: dict[int, str] = {}
    for line in sorted(latest.values(), key=lambda ln: ln.id):
        if line.kind.startswith("escalate"):
            kind = "escalation"
        elif line.kind.startswith("moved:"):
            kind = "moved"
        elif line.due_at <= now:
            kind = "overdue"
        else:
            kind = "due_today" if line.kind == "remind:T0" else "remind"
        groups[line.run_id].append(
            DigestLine(
                title=line.title_zh if zh else line.title_en or line.title_zh,
                due_at=line.due_at,
                kind=kind,
                owner=line.owner_name,
                link=link(line.item_id, person.id),
                provisional=line.due_provisional,
                moved_from=moved.get(line.item_id),
            )
        )
        plan = line.plan_zh if zh else line.plan_en or line.plan_zh
        titles[line.run_id] = f"{plan}（{line.period}）"
    subject, text, html = render_digest(
        recipient=person.name,
        lang="zh-CN" if zh else "en",
        groups=[
            DigestGroup(plan_title=titles[run_id], school=school.name, lines=tuple(group))
            for run_id, group in groups.items()
        ],
        now=now,
        timezone=school.timezone,
        manages=any(line.manages for line in latest.values()),
    )
    return Digest(subject, text, html, kept, dropped)
