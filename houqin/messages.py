"""Making messages: due outbox lines gathered per person, and ready-made messages queued.

A message goes on the first channel its school has on on which the person can be reached. A
person with a message still waiting (for a retry, say) gets new lines in it, never a second
message beside it; a person who cannot be reached gets the lines (or the message) failed with
that said, where the head looks. What happens to a message then is houqin/outbox.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from houqin.models import Delivery, Outbox, Person, School
from houqin.outbox import locked

ROBOTS = ("wecom", "dingtalk", "feishu")  # group robots: a person's address is only a mention


def reachable_channel(school: School, person: Person) -> tuple[str, str] | None:
    """The first channel the school has on and the person can be reached on, with the address."""
    channels = school.channels if isinstance(school.channels, dict) else {}
    for channel in channels:
        address = str(person.addresses.get(channel) or "")
        if address or channel in ROBOTS or channel == "webhook":
            return channel, address
    return None


def _unreachable(person: Person) -> str:
    channels = person.school.channels if isinstance(person.school.channels, dict) else {}
    return (
        f"{person.name} ({person.code}): no address on any channel {person.school.code} has on "
        f"({', '.join(channels) or 'none'})"
    )


def gather(session: Session, *, now: datetime) -> int:
    """Put every due line into its recipient's waiting message, or a new one; returns how many
    messages got lines. A person with a message still waiting (a retry, say) gets the new
    lines in it: one message per person, never a second one beside it."""
    due = session.execute(
        locked(
            select(Outbox.id, Outbox.recipient_id)
            .where(
                Outbox.status == "pending",
                Outbox.delivery_id.is_(None),
                Outbox.next_attempt_at <= now,
            )
            .order_by(Outbox.recipient_id, Outbox.id),
            session,
        )
    ).all()
    if not due:
        return 0
    lines: dict[int, list[int]] = defaultdict(list)
    for line_id, person_id in due:
        lines[person_id].append(line_id)
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(list(lines))))}
    schools = {s.id: s for s in session.scalars(select(School))}
    # a message being claimed right now is skipped: it is its run's, the lines make a new one
    waiting = {
        (d.recipient_id, d.channel): d
        for d in session.scalars(
            locked(
                select(Delivery).where(
                    Delivery.recipient_id.in_(list(lines)),
                    Delivery.kind == "reminders",
                    Delivery.status == "pending",
                ),
                session,
            )
        )
    }
    changes: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    new: list[tuple[Delivery, list[int]]] = []
    touched: set[int] = set()
    for person_id, ids in lines.items():
        person = people[person_id]
        target = reachable_channel(schools[person.school_id], person)
        if target is None:
            error = _unreachable(person)
            failed += [{"id": i, "status": "failed", "last_error": error} for i in ids]
            continue
        message = waiting.get((person_id, target[0]))
        if message is None:
            message = Delivery(
                key=f"remind:{person_id}:{ids[0]}",
                kind="reminders",
                school_id=person.school_id,
                recipient_id=person_id,
                channel=target[0],
                subject="",
                body="",
                created_at=now,
                next_attempt_at=now,
            )
            new.append((message, ids))
            continue
        changes += _into(message, ids)
        touched.add(message.id)
    session.add_all([message for message, _ in new])
    session.flush()
    for message, ids in new:
        changes += _into(message, ids)
        touched.add(message.id)
    if changes:
        session.execute(_INTO, changes)
    if failed:
        session.execute(update(Outbox), failed)
    return len(touched)


_O = cast(Table, Outbox.__table__)
# by primary key, as one executemany (psycopg pipelines it): a statement per line, one batch
_INTO = (
    update(_O)
    .where(_O.c.id == bindparam("line"))
    .values(delivery_id=bindparam("message"), channel=bindparam("on"), status="queued")
)


def _into(message: Delivery, ids: list[int]) -> list[dict[str, Any]]:
    return [{"line": i, "message": message.id, "on": message.channel} for i in ids]


def queue_message(
    session: Session,
    *,
    person: Person,
    subject: str,
    text: str,
    html: str | None,
    key: str,
    now: datetime,
    attachments: tuple[str, ...] = (),
) -> Delivery | None:
    """Queue one ready-made message (a digest) for a person; the same key is queued once.

    A person who cannot be reached gets a ``failed`` message saying so, in the outbox where the
    head looks, instead of an error that would stop the messages of everyone after them.
    """
    if session.scalar(select(Delivery.id).where(Delivery.key == key)) is not None:
        return None
    target = reachable_channel(person.school, person)
    delivery = Delivery(
        key=key,
        kind="message",
        school_id=person.school_id,
        recipient_id=person.id,
        channel=target[0] if target else "none",
        status="pending" if target else "failed",
        last_error=None if target else _unreachable(person),
        subject=subject,
        body=text,
        html=html,
        attachments=list(attachments),
        created_at=now,
        next_attempt_at=now,
    )
    session.add(delivery)
    return delivery
