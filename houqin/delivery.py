"""Delivering the outbox: one message per person per sweep, retried with backoff, never twice.

``compose`` turns a person's pending outbox rows into one ``Delivery`` on one channel: the first
channel the school has switched on on which the person can be reached. ``deliver_due`` then
sends each delivery in three steps, each its own transaction: claim it (``sending``, with a lease),
send it, record the outcome. If the process dies between sending and recording, the delivery
stays ``sending``; once its lease has run out it becomes ``unconfirmed`` and is shown in
``houqin outbox`` for a person to retry — it is never sent again on its own, so nobody gets a
message twice, and it is never silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, joinedload

from houqin import audit
from houqin.db import rowcount, unit_of_work
from houqin.errors import NotFound, UserError
from houqin.links import make_link
from houqin.models import Delivery, Item, Outbox, Person, PlanRun, RoleBinding, School
from houqin.roles import LEADERSHIP_ROLES
from houqin.settings import Settings
from notifications.channels import ChannelConfigError, DeliveryError, get_channel
from notifications.message import Message
from notifications.render import DigestGroup, DigestLine, render_digest

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 6
BACKOFF = timedelta(minutes=1)  # doubles each attempt: 1, 2, 4, 8, 16 minutes
ROBOTS = ("wecom", "dingtalk", "feishu")  # group robots: a person's address is only a mention


@dataclass
class DeliverReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unconfirmed: int = 0
    errors: list[str] = field(default_factory=list)


def _claim(stmt: Any, session: Session) -> Any:
    # On PostgreSQL, concurrent sweeps skip each other's rows instead of taking them twice;
    # SQLite serialises writers (BEGIN IMMEDIATE), so a plain read is enough there.
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def reachable_channel(school: School, person: Person) -> tuple[str, str] | None:
    """The first channel the school has on and the person can be reached on, with the address."""
    for channel in school.channels:
        address = str(person.addresses.get(channel) or "")
        if address or channel in ROBOTS or channel == "webhook":
            return channel, address
    return None


def compose(session: Session, *, now: datetime, settings: Settings) -> int:
    """Group due outbox rows per recipient into deliveries; returns how many were made."""
    rows = session.scalars(
        _claim(
            select(Outbox)
            .where(
                Outbox.status == "pending",
                Outbox.delivery_id.is_(None),
                Outbox.next_attempt_at <= now,
            )
            .order_by(Outbox.recipient_id, Outbox.id),
            session,
        )
    ).all()
    by_person: dict[int, list[Outbox]] = defaultdict(list)
    for row in rows:
        by_person[row.recipient_id].append(row)
    made = 0
    for person_id, person_rows in by_person.items():
        person = session.get(Person, person_id, options=[joinedload(Person.school)])
        assert person is not None
        target = reachable_channel(person.school, person)
        if target is None:
            error = (
                f"{person.name} ({person.code}): no address on any channel "
                f"{person.school.code} has on ({', '.join(person.school.channels) or 'none'})"
            )
            for row in person_rows:
                row.status, row.last_error = "failed", error
            continue
        channel, _address = target
        subject, text, html = _render(session, person, person_rows, now=now, settings=settings)
        delivery = Delivery(
            key=f"{person.id}:{channel}:{person_rows[0].id}-{person_rows[-1].id}",
            school_id=person.school_id,
            recipient_id=person.id,
            channel=channel,
            subject=subject,
            body=text,
            html=html,
            created_at=now,
            next_attempt_at=now,
        )
        session.add(delivery)
        session.flush()
        for row in person_rows:
            row.delivery_id, row.channel, row.status = delivery.id, channel, "queued"
        made += 1
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
    """Queue one ready-made message (a digest) for a person; the same key is queued once."""
    if session.scalar(select(Delivery.id).where(Delivery.key == key)) is not None:
        return None
    target = reachable_channel(person.school, person)
    if target is None:
        raise UserError(
            f"{person.name} ({person.code}): no address on any channel the school has on"
        )
    delivery = Delivery(
        key=key,
        school_id=person.school_id,
        recipient_id=person.id,
        channel=target[0],
        subject=subject,
        body=text,
        html=html,
        attachments=list(attachments),
        created_at=now,
        next_attempt_at=now,
    )
    session.add(delivery)
    return delivery


def leadership_of(session: Session, scope: str) -> list[Person]:
    """Who reads a digest: leadership of the school, or of every school of a district."""
    kind, _, name = scope.partition(":")
    stmt = (
        select(Person)
        .join(RoleBinding, RoleBinding.person_id == Person.id)
        .join(School, School.id == RoleBinding.school_id)
        .where(RoleBinding.role_key.in_(LEADERSHIP_ROLES))
        .options(joinedload(Person.school))
        .order_by(Person.id)
    )
    stmt = stmt.where(School.code == name if kind == "school" else School.district == name)
    return list(session.scalars(stmt).unique())


def _render(
    session: Session, person: Person, rows: list[Outbox], *, now: datetime, settings: Settings
) -> tuple[str, str, str]:
    items = {
        i.id: i
        for i in session.scalars(
            select(Item)
            .where(Item.id.in_([r.item_id for r in rows]))
            .options(joinedload(Item.owner), joinedload(Item.run).joinedload(PlanRun.template))
        )
    }
    zh = person.lang.startswith("zh")
    groups: dict[int, list[DigestLine]] = defaultdict(list)
    for row in rows:
        item = items[row.item_id]
        kind = (
            "escalation"
            if row.kind.startswith("escalate")
            else (
                "overdue"
                if item.due_at <= now
                else "due_today"
                if row.kind == "remind:T0"
                else "remind"
            )
        )
        groups[item.run_id].append(
            DigestLine(
                title=item.title_zh if zh else item.title_en or item.title_zh,
                due_at=item.due_at,
                kind=kind,
                owner=item.owner.name,
                link=make_link(settings, item_id=item.id, person_id=person.id, now=now),
                provisional=item.due_provisional,
            )
        )
    digest = []
    for run_id, lines in groups.items():
        run = items[next(r.item_id for r in rows if items[r.item_id].run_id == run_id)].run
        title = run.template.title_zh if zh else run.template.title_en or run.template.title_zh
        digest.append(
            DigestGroup(
                plan_title=f"{title}（{run.period}）", school=person.school.name, lines=tuple(lines)
            )
        )
    return render_digest(
        recipient=person.name,
        lang="zh-CN" if zh else "en",
        groups=digest,
        now=now,
        timezone=person.school.timezone,
    )


def deliver_due(
    engine: Engine,
    *,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
    batch: int = 200,
) -> DeliverReport:
    """Send every delivery that is due, each in its own claim-send-record cycle."""
    report = DeliverReport()
    with unit_of_work(engine) as s:
        report.unconfirmed = _expire_leases(s, now)
    while True:
        with unit_of_work(engine) as s:
            claimed = _claim_batch(s, now=now, batch=batch)
        if not claimed:
            return report
        for delivery_id, school_channels, channel, address, message in claimed:
            _send_one(
                engine,
                delivery_id,
                school_channels,
                channel,
                address,
                message,
                now=now,
                transport=transport,
                report=report,
            )


def _expire_leases(session: Session, now: datetime) -> int:
    stale = session.scalars(
        select(Delivery.id).where(Delivery.status == "sending", Delivery.claimed_until < now)
    ).all()
    if stale:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(stale))
            .values(
                status="unconfirmed",
                last_error="the sender stopped between sending and recording; it may or may not "
                "have arrived — check with the recipient, then retry (houqin outbox retry)",
            )
        )
        session.execute(
            update(Outbox).where(Outbox.delivery_id.in_(stale)).values(status="unconfirmed")
        )
    return len(stale)


def _claim_batch(session: Session, *, now: datetime, batch: int) -> list[tuple[Any, ...]]:
    found = session.scalars(
        _claim(
            select(Delivery)
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.id)
            .limit(batch),
            session,
        )
    ).all()
    claimed = []
    for d in found:
        # the conditional UPDATE settles a race with another sender: one of us gets rowcount 1
        got = rowcount(
            session,
            update(Delivery)
            .where(Delivery.id == d.id, Delivery.status == "pending")
            .values(status="sending", claimed_until=now + LEASE, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False),
        )
        if got != 1:
            continue
        person = session.get(Person, d.recipient_id, options=[joinedload(Person.school)])
        assert person is not None
        message = Message(
            recipient=person.name,
            address=str(person.addresses.get(d.channel) or ""),
            subject=d.subject,
            text=d.body,
            html=d.html,
            key=d.key,
            attachments=tuple(d.attachments or ()),
        )
        claimed.append((d.id, person.school.channels, d.channel, message.address, message))
    return claimed


def _send_one(
    engine: Engine,
    delivery_id: int,
    school_channels: dict[str, Any],
    channel: str,
    address: str,
    message: Message,
    *,
    now: datetime,
    transport: httpx.BaseTransport | None,
    report: DeliverReport,
) -> None:
    error: DeliveryError | None = None
    try:
        sender = get_channel(channel, school_channels.get(channel) or {}, transport=transport)
        problem = sender.validate_address(address) if address else None
        if problem:
            raise DeliveryError(f"{message.recipient}: {channel}: {problem}", permanent=True)
        sender.send(message)
    except ChannelConfigError as exc:
        error = DeliveryError(f"{message.recipient}: channel settings: {exc}", permanent=True)
    except DeliveryError as exc:
        error = DeliveryError(f"{message.recipient}: {channel}: {exc}", permanent=exc.permanent)
    _record(engine, delivery_id, now=now, error=error, report=report)


def _record(
    engine: Engine,
    delivery_id: int,
    *,
    now: datetime,
    error: DeliveryError | None,
    report: DeliverReport,
) -> None:
    with unit_of_work(engine) as s:
        d = s.get(Delivery, delivery_id)
        assert d is not None
        if error is None:
            d.status, d.sent_at, d.last_error, d.claimed_until = "sent", now, None, None
            report.sent += 1
        elif error.permanent or d.attempts >= MAX_ATTEMPTS:
            d.status, d.last_error, d.claimed_until = "failed", str(error), None
            report.failed += 1
            report.errors.append(str(error))
        else:
            d.status, d.last_error, d.claimed_until = "pending", str(error), None
            d.next_attempt_at = now + BACKOFF * (2 ** (d.attempts - 1))
            report.retrying += 1
        s.execute(
            update(Outbox)
            .where(Outbox.delivery_id == d.id)
            .values(
                status=d.status if d.status != "pending" else "queued",
                sent_at=d.sent_at,
                last_error=d.last_error,
            )
        )


RETRYABLE = ("failed", "unconfirmed")


def requeue(session: Session, delivery: Delivery, *, now: datetime, by: str) -> bool:
    """Queue a failed or unconfirmed delivery again (a person decided it should go).

    A conditional UPDATE, so two people pressing retry at once queue it once; False if it was
    not failed or unconfirmed (any more).
    """
    previous = delivery.status
    changed = rowcount(
        session,
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status.in_(RETRYABLE))
        .values(status="pending", next_attempt_at=now, claimed_until=None, attempts=0)
        .execution_options(synchronize_session=False),
    )
    session.expire(delivery)
    if changed != 1:
        return False
    details: dict[str, Any] = {
        "delivery": delivery.id,
        "channel": delivery.channel,
        "from": previous,
    }
    audit.record(
        session,
        actor=by,
        action="delivery.retry",
        at=now,
        school_id=delivery.school_id,
        **details,
    )
    return True


def retry(session: Session, *, delivery_id: int, now: datetime, by: str) -> str:
    """``requeue`` by id, for the CLI: a clear error when there is nothing to retry."""
    d = session.get(Delivery, delivery_id)
    if d is None:
        raise NotFound(f"no message {delivery_id} in the outbox")
    status = d.status
    if not requeue(session, d, now=now, by=by):
        raise UserError(
            f"message {delivery_id} is {status}; only {' or '.join(RETRYABLE)} ones are retried"
        )
    return "queued again"


def list_deliveries(
    session: Session, *, status: str | None = None, limit: int = 100
) -> list[Delivery]:
    stmt = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Delivery.status == status)
    return list(session.scalars(stmt))
