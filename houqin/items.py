"""Checklist items: finding them, ticking them off, reassigning and waiving them.

Every change bumps ``Item.revision`` through a conditional UPDATE, so two people acting on the
same item at once leave one consistent state: the second sees the first's change and either
finds nothing left to do or is told the item changed under them. Each action checks everything
first and makes that UPDATE its first write, so an action that raises has written nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, inspect, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from houqin import audit
from houqin.bilingual import Bilingual
from houqin.db import rowcount
from houqin.errors import NotFound, UserError
from houqin.models import Account, Evidence, Item, Outbox, Person, PlanRun, RoleBinding, School
from houqin.roles import LEADERSHIP_ROLES

STATUSES = ("open", "done", "waived")
# relationship -> the columns it follows (``owner`` -> ``owner_id``)
_FOLLOWS = {r.key: {c.key for c in r.local_columns} for r in inspect(Item).relationships}


@dataclass(frozen=True)
class ItemFilter:
    school: str | None = None
    run_id: int | None = None
    owner: str | None = None
    status: str | None = None
    overdue_at: datetime | None = None  # open and due before this instant
    due_before: datetime | None = None


def query_items(f: ItemFilter) -> Select[tuple[Item]]:
    stmt = (
        select(Item)
        .join(School, School.id == Item.school_id)
        .options(joinedload(Item.owner), joinedload(Item.run).joinedload(PlanRun.school))
        .order_by(Item.due_at, Item.run_id, Item.position)
    )
    if f.status is not None and f.status not in STATUSES:
        raise UserError(f"status must be one of {', '.join(STATUSES)}, not {f.status!r}")
    if f.school:
        stmt = stmt.where(School.code == f.school)
    if f.run_id is not None:
        stmt = stmt.where(Item.run_id == f.run_id)
    if f.owner:
        stmt = stmt.join(Person, Person.id == Item.owner_id).where(Person.code == f.owner)
    if f.status:
        stmt = stmt.where(Item.status == f.status)
    if f.overdue_at is not None:
        stmt = stmt.where(Item.status == "open", Item.due_at < f.overdue_at)
    if f.due_before is not None:
        stmt = stmt.where(Item.due_at < f.due_before)
    return stmt


def list_items(session: Session, f: ItemFilter) -> list[Item]:
    return list(session.scalars(query_items(f)).unique())


def get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id, options=[joinedload(Item.run).joinedload(PlanRun.school)])
    if item is None:
        raise NotFound(f"no item {item_id}")
    return item


def _change(session: Session, item: Item, **values: Any) -> None:
    """Apply ``values`` only if nobody changed the item since it was read."""
    done = rowcount(
        session,
        update(Item)
        .where(Item.id == item.id, Item.revision == item.revision)
        .values(revision=Item.revision + 1, **values)
        .execution_options(synchronize_session=False),
    )
    if done != 1:
        session.expire(item)
        raise UserError(f"item {item.id} was changed by someone else just now; look again")
    # The row now holds exactly these values: put them on the object rather than read it back.
    for key, value in values.items():
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
        set_committed_value(item, key, value)
    set_committed_value(item, "revision", item.revision + 1)
    stale = [key for key, columns in _FOLLOWS.items() if columns & values.keys()]
    if stale:
        session.expire(item, stale)  # e.g. ``owner`` follows the new ``owner_id``


def tick(
    session: Session,
    *,
    item: Item,
    by: Person,
    now: datetime,
    note: str | None = None,
    number: float | None = None,
    photos: Sequence[str] = (),
    step: int | None = None,
) -> str:
    """Tick a sub-step (``step``, 1-based) or complete the item with its evidence.

    ``photos`` are stored photo paths, each an evidence row.
    """
    if item.status != "open":
        raise UserError(f"item {item.id} is {item.status}, not open")
    if step is not None:
        return _tick_step(session, item=item, by=by, now=now, step=step, done=True)
    paths = list(photos)
    needs = completion_needs(session, item, note=note, number=number, photos=len(paths))
    if needs:
        raise UserError(
            Bilingual(
                f"事项 {item.id} 还不能完成：" + "；".join(n.zh for n in needs) + "。",
                f"item {item.id} cannot be completed yet: "
                + "; ".join(n.label("en") for n in needs)
                + ".",
            )
        )
    late = now > item.due_at
    _change(session, item, status="done", completed_by_id=by.id, completed_at=now, late=late)
    add_evidence(session, item, by, now, note=note, number=number, paths=paths)
    first = paths[0] if paths else None
    audit.record_item(
        session,
        item,
        actor=by.code,
        action="item.tick",
        at=now,
        late=late,
        note=note,
        number=number,
        photo=first,
    )
    if len(paths) > 1:  # the first photo is the tick's; the others are listed as added photos
        audit.record_item(
            session, item, actor=by.code, action="item.photos", at=now, photos=paths[1:]
        )
    return "done (late)" if late else "done"


def add_evidence(
    session: Session,
    item: Item,
    by: Person,
    now: datetime,
    *,
    note: str | None,
    number: float | None,
    paths: Sequence[str],
) -> int:
    """One evidence row for the note, the number and each stored photo; returns how many."""
    rows: list[Evidence] = []
    if note is not None:
        rows.append(Evidence(kind="note", note=note))
    if number is not None:
        rows.append(Evidence(kind="number", number=float(number)))
    rows += [Evidence(kind="photo", path=path) for path in paths]
    for row in rows:
        row.item_id, row.actor, row.created_at = item.id, by.code, now
        session.add(row)
    return len(rows)


EVIDENCE_NEEDED = {
    "note": Bilingual("需要一段文字说明", "a note is needed (--note)"),
    "number": Bilingual("需要填写一个数字", "a number is needed (--number)"),
    "photo": Bilingual("需要至少一张照片", "at least one photo is needed (--photo)"),
}


def completion_needs(
    session: Session,
    item: Item,
    *,
    steps: Collection[int] = (),
    note: str | None = None,
    number: float | None = None,
    photos: int = 0,
) -> list[Bilingual]:
    """What completing ``item`` still needs, given the sub-steps ticked with it (``steps``) and
    its evidence; empty: it may be completed. The one rule, for the CLI, the item page and
    the reminder link alike: every sub-step ticked (by someone, never assumed), the evidence
    its kind asks for, and no open item it depends on."""
    needs: list[Bilingual] = []
    open_steps = [
        n for n, s in enumerate(item.steps, 1) if not s.get("done") and n not in set(steps)
    ]
    if open_steps:
        listed = "、".join(str(n) for n in open_steps)
        needs.append(
            Bilingual(
                f"请先勾选步骤 {listed}（确已完成的才勾选）",
                f"tick step {', '.join(str(n) for n in open_steps)} first (only if done)",
            )
        )
    given = {"note": note is not None, "number": number is not None, "photo": photos > 0}
    if not given.get(item.evidence_kind, True):
        needs.append(EVIDENCE_NEEDED[item.evidence_kind])
    blocking = open_dependencies(session, item)
    if blocking:
        needs.append(
            Bilingual(
                "需先完成：" + "、".join(d.title_zh for d in blocking),
                "finish or waive first: "
                + ", ".join(f"{d.title_en or d.title_zh} ({d.key}, #{d.id})" for d in blocking),
            )
        )
    return needs


def _tick_step(
    session: Session, *, item: Item, by: Person, now: datetime, step: int, done: bool
) -> str:
    steps = [dict(s) for s in item.steps]
    if not 1 <= step <= len(steps):
        raise UserError(f"item {item.id} has {len(steps)} sub-steps; no step {step}")
    steps[step - 1].update(done=done, by=by.code, at=now.isoformat())
    _change(session, item, steps=steps)
    audit.record_item(
        session,
        item,
        actor=by.code,
        action="step.tick" if done else "step.untick",
        at=now,
        step=step,
        title=steps[step - 1]["zh"],
    )
    return f"step {step} {'done' if done else 'open'}"


def untick(
    session: Session, *, item: Item, by: Person, now: datetime, step: int | None = None
) -> str:
    """Reopen a done item, or clear a sub-step's tick."""
    if step is not None:
        return _tick_step(session, item=item, by=by, now=now, step=step, done=False)
    if item.status != "done":
        raise UserError(f"item {item.id} is {item.status}; only a done item can be reopened")
    _change(
        session,
        item,
        status="open",
        completed_by_id=None,
        completed_at=None,
        late=None,
        completed_announced_at=None,  # done again later: announced again
    )
    audit.record_item(
        session,
        item,
        actor=by.code,
        action="item.untick",
        at=now,
    )
    return "open"


def reassign(
    session: Session, *, item: Item, to: Person, by: str, now: datetime, reason: str | None
) -> str:
    if item.status != "open":
        raise UserError(f"item {item.id} is {item.status}; only open items can be reassigned")
    if to.school_id != item.school_id:
        raise UserError(f"{to.code!r} is not in the item's school")
    previous = item.owner.code
    _change(session, item, owner_id=to.id)
    audit.record_item(
        session,
        item,
        actor=by,
        action="item.reassign",
        at=now,
        **{"from": previous, "to": to.code, "reason": reason},
    )
    return f"reassigned from {previous} to {to.code}"


def waive(session: Session, *, item: Item, by: str, now: datetime, reason: str) -> str:
    if not reason.strip():
        raise UserError("a waiver needs a reason (--reason)")
    if item.status != "open":
        raise UserError(f"item {item.id} is {item.status}; only open items can be waived")
    _change(session, item, status="waived", waive_reason=reason.strip(), completed_at=now)
    audit.record_item(
        session,
        item,
        actor=by,
        action="item.waive",
        at=now,
        reason=reason.strip(),
    )
    return "waived"


def open_dependencies(session: Session, item: Item) -> list[Item]:
    """The open items of its run that an open item waits for (``depends_on``)."""
    if not item.depends_on or item.status != "open":
        return []
    return list(
        session.scalars(
            select(Item).where(
                Item.run_id == item.run_id, Item.key.in_(item.depends_on), Item.status == "open"
            )
        )
    )


@dataclass(frozen=True)
class Oversight:
    """Why a person who does not own an item may follow it up (a 督办 link's recipient)."""

    supervises: bool  # the owner's direct supervisor
    leads: bool  # bound to a leadership role of the item's school
    manages: bool  # the school's logistics head: may also reassign and waive


def oversight(session: Session, item: Item, person: Person) -> Oversight | None:
    """The person's standing over someone else's item, or None if they have none."""
    if person.school_id != item.school_id or person.id == item.owner_id:
        return None
    owner = session.get(Person, item.owner_id)
    supervises = owner is not None and owner.supervisor_id == person.id
    leads = (
        session.scalar(
            select(RoleBinding.id).where(
                RoleBinding.school_id == item.school_id,
                RoleBinding.person_id == person.id,
                RoleBinding.role_key.in_(LEADERSHIP_ROLES),
            )
        )
        is not None
    )
    manages = (
        session.scalar(
            select(Account.id).where(
                Account.person_id == person.id,
                Account.school_id == item.school_id,
                Account.role == "logistics_head",
                Account.active.is_(True),
            )
        )
        is not None
    )
    if not (supervises or leads or manages):
        return None
    return Oversight(supervises, leads, manages)


NUDGE = "remind:now"


def nudge_owner(session: Session, *, item: Item, by: Person, now: datetime, day: str) -> bool:
    """Queue a reminder to the owner now (a supervisor's or leader's 督办), at most one per item
    and owner a day; False if one was already asked for today. The next delivery sends it."""
    if item.status != "open":
        raise UserError(
            Bilingual("此事项已办结（完成或免除），无需提醒。", f"item {item.id} is {item.status}")
        )
    key = f"{item.id}:{NUDGE}:{day}:{item.owner_id}"
    if session.scalar(select(Outbox.id).where(Outbox.dedup_key == key)) is not None:
        return False
    session.add(
        Outbox(
            dedup_key=key,
            school_id=item.school_id,
            recipient_id=item.owner_id,
            item_id=item.id,
            kind=NUDGE,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
    audit.record_item(
        session,
        item,
        actor=by.code,
        action="item.nudge",
        at=now,
    )
    session.flush()
    return True
