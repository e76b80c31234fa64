"""A delivery run: the outbox sent so that, whatever fails, at most the message in flight is in
doubt, nothing goes twice on its own, and one school's problem stays that school's.

``deliver`` first settles what stopped runs left (houqin/outbox.py: ``claimed`` back to
``pending``, ``sending`` to ``unconfirmed``), gathers due lines into messages, then claims small
batches. Each message in turn is checked against its school's settings and quiet hours, paced
(robots), then *started* in one short transaction (its lines read again, stale ones dropped, the
text composed, the message marked ``sending``), handed to its channel, and its outcome recorded
at once in a second transaction. A crash therefore leaves at most one message of the run
``sending``; the rest of its batch is only ``claimed`` and goes out with the next run.

The run commits as it goes (each step its own unit of work): that is what bounds the doubt.
Time: ``now`` is when the run starts (replayable); the clock moves on from it as the run takes
real time, so leases stay right during a long, paced run.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from houqin import digests, outbox, school_settings
from houqin.db import unit_of_work
from houqin.leadership import leaders
from houqin.models import Delivery, Person, School
from houqin.school_settings import SchoolSettingsError
from houqin.settings import Settings
from notifications.channels import Channel, DeliveryError, batch
from notifications.message import Message
from notifications.pacing import Pacer

BATCH = 20  # claimed at a time: small, so a crash hands little back to the lease
LEDGER_RETRIES = (0.2, 1.0, 3.0)  # seconds between tries when the ledger connection drops

T = TypeVar("T")


class LedgerUnavailable(RuntimeError):
    """The ledger could not be written after a send; says what is left in which state."""


@dataclass
class DeliverReport:
    messages: int = 0  # messages that got lines this run
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unconfirmed: int = 0  # became unconfirmed in this run (its own, or a stopped run's)
    dropped: int = 0  # nothing left to tell
    held: int = 0  # postponed to the end of quiet hours
    released: int = 0  # claims of stopped runs given back to the queue
    waiting_for_a_person: int = 0  # every unconfirmed message, from any run
    errors: list[str] = field(default_factory=list)
    school_errors: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        """One line for a person: what went, what waits, what needs someone."""
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.unconfirmed} unconfirmed ({self.waiting_for_a_person} unconfirmed in all, "
            f"waiting for a person: houqin outbox), {self.dropped} not sent as stale, "
            f"{self.held} held for quiet hours"
        )

    def trouble(self) -> str | None:
        """What needs a person after this run, or None: failures, doubt, broken schools."""
        parts = []
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.unconfirmed:
            parts.append(f"{self.unconfirmed} unconfirmed")
        parts += [f"{problem}" for problem in self.school_errors.values()]
        return "; ".join(parts) + " (see houqin outbox)" if parts else None


@dataclass
class _Run:
    engine: Engine
    settings: Settings
    token: str
    start: datetime
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]
    transport: httpx.BaseTransport | None
    report: DeliverReport
    stack: ExitStack
    t0: float = 0.0
    channels: dict[tuple[str, str], tuple[Channel, Pacer | None]] = field(default_factory=dict)
    checked: dict[int, str | None] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic() - self.t0)


def deliver(
    engine: Engine,
    *,
    now: datetime,
    settings: Settings,
    transport: httpx.BaseTransport | None = None,
    batch_size: int = BATCH,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> DeliverReport:
    """Send every message that is due (see the module doc); raises ``LedgerUnavailable`` only
    when the ledger stays unreachable, saying what is left where."""
    report = DeliverReport()
    with ExitStack() as stack:
        run = _Run(
            engine, settings, str(uuid.uuid4()), now, monotonic, sleep, transport, report, stack
        )
        run.t0 = monotonic()
        released, unconfirmed = _write(run, lambda s: outbox.recover(s, now=run.now()), None)
        report.released, report.unconfirmed = released, unconfirmed
        report.messages = _write(run, lambda s: outbox.gather(s, now=run.now()), None)
        while True:
            claimed = _write(
                run,
                lambda s: _claim(s, run.now(), run.token, batch_size),
                None,
            )
            if not claimed:
                break
            for delivery, person, school in claimed:
                _deliver_one(run, delivery, person, school)
    with unit_of_work(engine) as s:
        report.waiting_for_a_person = outbox.counts(s).get("unconfirmed", 0)
    return report


def _claim(
    session: Session, now: datetime, token: str, limit: int
) -> list[tuple[Delivery, Person, School]]:
    messages = outbox.claim(session, now=now, token=token, limit=limit)
    people = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_({d.recipient_id for d in messages}))
        )
    }
    schools = {
        s.id: s
        for s in session.scalars(
            select(School).where(School.id.in_({d.school_id for d in messages}))
        )
    }
    return [(d, people[d.recipient_id], schools[d.school_id]) for d in messages]


def _deliver_one(run: _Run, delivery: Delivery, person: Person, school: School) -> None:
    report, token, key = run.report, run.token, delivery.id
    try:
        school_settings.check(school)
        quiet_end = school_settings.quiet_until(run.now(), school)
        if quiet_end > run.now():
            if _write(run, lambda s: outbox.release(s, key, token=token, until=quiet_end), key):
                report.held += 1
            return
        channel, pacer = _channel(run, school, delivery.channel)
    except SchoolSettingsError as exc:
        unusable = str(exc)
        report.school_errors[school.code] = unusable
        if _write(run, lambda s: outbox.fail_claimed(s, key, token=token, error=unusable), key):
            report.failed += 1
            report.errors.append(f"{person.name}: {unusable}")
        return
    if pacer is not None:
        pacer.wait()  # before the message is marked sending: a wait is not "in flight"
    try:
        message = _write(run, lambda s: _start(run, s, delivery, person, school), key)
    except LedgerUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - composing one message failed: nothing was sent
        error_text = f"{person.name}: the message could not be composed: {exc!r}"
        if _write(run, lambda s: outbox.fail_claimed(s, key, token=token, error=error_text), key):
            report.failed += 1
            report.errors.append(error_text)
        return
    if message is None:
        return
    error: DeliveryError | None = None
    problem = channel.validate_address(message.address) if message.address else None
    try:
        if problem:
            raise DeliveryError(f"{delivery.channel}: {problem}", permanent=True)
        channel.send(message)
    except DeliveryError as exc:
        error = DeliveryError(
            f"{person.name}: {exc}", permanent=exc.permanent, unconfirmed=exc.unconfirmed
        )
    except Exception as exc:  # noqa: BLE001 - a channel's bug must not stop the others
        # Whatever happened inside the channel, the message may have gone out.
        error = DeliveryError(f"{person.name}: {delivery.channel}: {exc!r}", unconfirmed=True)
    result = _write(
        run, lambda s: outbox.record(s, key, token=token, now=run.now(), error=error), key
    )
    if result is None:
        return
    if result.status == "sent":
        report.sent += 1
    elif result.status == "pending":
        report.retrying += 1
    else:
        setattr(report, result.status, getattr(report, result.status) + 1)
        report.errors.append(result.error or "")


def _start(
    run: _Run, session: Session, delivery: Delivery, person: Person, school: School
) -> Message | None:
    """In one transaction: the message's lines read again, composed, marked ``sending``."""
    now, token = run.now(), run.token
    if not outbox.holds(session, delivery.id, token=token):
        return None  # its lease ran out and another run took it
    if delivery.kind != "reminders":
        outbox.start(session, delivery.id, token=token, now=now)
        subject, text, html = delivery.subject, delivery.body, delivery.html
    else:
        lines = digests.lines_of(session, delivery.id)
        escalated = any(line.kind.startswith("escalate") for line in lines)
        lead = leaders(session, school_ids=[school.id]).get(school.id, []) if escalated else []
        digest = digests.compose(
            lines, person=person, school=school, leaders=lead, now=now, settings=run.settings
        )
        outbox.drop_lines(session, digest.dropped)
        if not digest.kept:
            if outbox.release(session, delivery.id, token=token, until=now, status="dropped"):
                run.report.dropped += 1
            return None
        subject, text, html = digest.subject, digest.text, digest.html
        outbox.start(
            session, delivery.id, token=token, now=now, subject=subject, text=text, html=html
        )
    return Message(
        recipient=person.name,
        address=str(person.addresses.get(delivery.channel) or ""),
        subject=subject,
        text=text,
        html=html,
        key=delivery.key,
        attachments=tuple(delivery.attachments or ()),
    )


def _channel(run: _Run, school: School, name: str) -> tuple[Channel, Pacer | None]:
    """One channel object per channel and settings: schools that share a mail server share
    its connection (kept for the run), and a robot's pace is kept across schools."""
    config = school_settings.channel_config(school, name)
    key = (name, json.dumps(config, sort_keys=True, default=str))
    if key not in run.channels:
        channel = school_settings.build_channel(school, name, transport=run.transport)
        run.stack.enter_context(batch(channel))
        limits = getattr(channel, "rate_limits", ())
        pacer = Pacer(limits, sleep=run.sleep, clock=run.monotonic) if limits else None
        run.channels[key] = (channel, pacer)
    return run.channels[key]


def _write(run: _Run, step: Callable[[Session], T], delivery_id: int | None) -> T:
    """Run ``step`` in its own unit of work, tried again when the ledger connection drops
    (a restarted server, a killed backend); gives up with what is left where."""
    for pause in (*LEDGER_RETRIES, None):
        try:
            with unit_of_work(run.engine) as session:
                return step(session)
        except (OperationalError, InterfaceError) as exc:
            if pause is None:
                where = f" while sending message {delivery_id}" if delivery_id else ""
                raise LedgerUnavailable(
                    f"the ledger could not be reached{where} ({type(exc.orig).__name__}: "
                    f"{str(exc.orig).strip()[:200]}). A message being sent stays 'sending' and "
                    f"shows as unconfirmed once its lease of {outbox.LEASE} runs out; messages "
                    "claimed but not yet sent go back to the queue then."
                ) from None
            run.sleep(pause)
    raise AssertionError("unreachable")
