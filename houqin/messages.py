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

from sqlalchemy import Table, bindparam, select, text, update
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
    if session.get_bind().dialect.name == "postgresql":
        touched |= _insert_and_fill(session, new, changes, now=now)
    else:
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


_D = cast(Table, Delivery.__table__)
# PostgreSQL: the new messages in one INSERT and every line into its message in one UPDATE,
# from arrays (unnest), instead of a statement per row: a sweep's thousands of lines cost
# more to send as rows than the database took to write them (bench/delivery.py)
_NEW = text(
    "INSERT INTO delivery (key, kind, school_id, recipient_id, channel, status, subject, body, "
    "attachments, attempts, created_at, next_attempt_at) "
    "SELECT k, 'reminders', s, r, c, 'pending', '', '', '[]', 0, :now, :now "
    "FROM unnest(CAST(:keys AS text[]), CAST(:schools AS bigint[]), CAST(:people AS bigint[]), "
    "CAST(:channels AS text[])) AS u(k, s, r, c) RETURNING id, key"
).bindparams(bindparam("now", type_=_D.c.created_at.type))
_FILL = text(
    "UPDATE outbox SET delivery_id = u.m, channel = u.c, status = 'queued' "
    "FROM unnest(CAST(:lines AS bigint[]), CAST(:messages AS bigint[]), "
    "CAST(:channels AS text[])) AS u(l, m, c) WHERE outbox.id = u.l"
)


def _insert_and_fill(
    session: Session,
    new: list[tuple[Delivery, list[int]]],
    changes: list[dict[str, Any]],
    *,
    now: datetime,
) -> set[int]:
    """The new messages inserted and every line put in its message (two statements)."""
    made: set[int] = set()
    if new:
        columns = {
            "keys": [m.key for m, _ in new],
            "schools": [m.school_id for m, _ in new],
            "people": [m.recipient_id for m, _ in new],
            "channels": [m.channel for m, _ in new],
        }
        found = session.execute(_NEW, {**columns, "now": now}).tuples()
        ids = {key: message_id for message_id, key in found}
        for message, lines in new:
            made.add(ids[message.key])
            changes += [
                {"line": i, "message": ids[message.key], "on": message.channel} for i in lines
            ]
    if changes:
        session.execute(
            _FILL,
            {
                "lines": [c["line"] for c in changes],
                "messages": [c["message"] for c in changes],
                "channels": [c["on"] for c in changes],
            },
        )
    return made


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
