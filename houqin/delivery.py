"""A delivery run: the outbox sent so that, whatever fails, at most the message in flight is in
doubt, nothing goes twice on its own, and one school's problem stays that school's.

``deliver`` first settles what stopped runs left (houqin/outbox.py: ``claimed`` back to
``pending``, ``sending`` to ``unconfirmed``), gathers due lines into messages
(houqin/messages.py), then claims batches of 20, reading their lines in one query. Each message
in turn is checked against its school's settings and quiet hours, paced (robots) and composed
(houqin/digests.py: stale lines dropped); then one step, committed before the send, records the
outcome of the previous send and marks this message ``sending``; then it is handed to its
channel. A crash therefore leaves at most one message of the run ``sending``; the rest of its
batch is only ``claimed`` and goes out with the next run once the lease has run out. On
PostgreSQL an e-mail's step is committed in a worker thread while the server takes the
envelope (MAIL, RCPT: nothing handed over); the channel's gate waits for it before DATA
(``_start_beside``; docs/reliability.md argues why nothing is weakened).

The run commits as it goes (each step its own transaction, on one connection): that is what
bounds the doubt. Time: ``now`` is when the run starts (replayable); the clock moves on from it
as the run takes real time, so leases stay right during a long, paced run.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from sqlalchemy import Connection, Engine, Row, select, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from houqin import digests, messages, outbox, school_settings
from houqin.errors import SetupError
from houqin.leadership import leaders
from houqin.models import Delivery, Person, School
from houqin.school_settings import SchoolSettingsError
from houqin.secret_key import signing_key
from houqin.settings import Settings
from notifications.channels import Channel, DeliveryError, Withheld, batch
from notifications.message import Message
from notifications.pacing import Pacer

BATCH = 20  # claimed at a time: small, so a crash hands little back to the lease
FRESH_S = 2.0  # a message's lines read longer ago than this are read again before it goes
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
    # one connection for the run's many short transactions (no checkout and ping for each),
    # and on PostgreSQL a second one in autocommit for the one-statement steps
    connections: dict[bool, Connection] = field(default_factory=dict)
    fast: bool = False
    worker: ThreadPoolExecutor | None = None

    def beside(self) -> ThreadPoolExecutor:
        """The one thread that runs a message's commit while the channel opens its envelope;
        the run's connections are used by one thread at a time (the main one waits for it)."""
        if self.worker is None:
            self.worker = self.stack.enter_context(ThreadPoolExecutor(1, "houqin-ledger"))
        return self.worker

    def connect(self, autocommit: bool) -> Connection:
        if autocommit not in self.connections:
            connection = self.stack.enter_context(self.engine.connect())
            if autocommit:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            self.connections[autocommit] = connection
        return self.connections[autocommit]

    def disconnect(self) -> None:
        for connection in self.connections.values():
            connection.invalidate()
        self.connections.clear()

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
    when the ledger stays unreachable, saying what is left where, and ``SetupError`` before
    anything is claimed when the key that signs the messages' links is unusable (an
    installation problem fails the run, not each message)."""
    signing_key(settings)
    report = DeliverReport()
    with ExitStack() as stack:
        # plain UTC: pendulum's arithmetic cost more than a message's SQL (bench/delivery.py)
        start = datetime.fromtimestamp(now.timestamp(), UTC)
        run = _Run(
            engine, settings, str(uuid.uuid4()), start, monotonic, sleep, transport, report, stack
        )
        run.t0 = monotonic()
        run.fast = engine.dialect.name == "postgresql"
        released, unconfirmed = _write(run, lambda s: outbox.recover(s, now=run.now()))
        report.released, report.unconfirmed = released, unconfirmed
        report.messages = _write(run, lambda s: messages.gather(s, now=run.now()))
        while True:
            batch = _write(run, lambda s: _claim(run, s, batch_size))
            if not batch:
                break
            _send_batch(run, batch)
        report.waiting_for_a_person = _write(run, outbox.unconfirmed)
    return report


@dataclass
class _Claimed:
    """A claimed message and what it needs: read in one go for the batch, composed before
    its turn; its lines are read again if its turn comes later than ``FRESH_S`` after."""

    delivery: Delivery
    person: Person
    school: School
    lines: list[Row[Any]]
    leaders: list[int]
    read_at: float
    channel: Channel | None = None
    pacer: Pacer | None = None


@dataclass
class _Sent:
    """A send whose outcome is not written yet: it goes in the next message's transaction."""

    delivery_id: int
    attempts: int
    error: DeliveryError | None


def _claim(run: _Run, session: Session, limit: int) -> list[_Claimed]:
    taken = outbox.claim(session, now=run.now(), token=run.token, limit=limit)
    if not taken:
        return []
    people = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_({d.recipient_id for d in taken}))
        )
    }
    school_ids = {d.school_id for d in taken}
    schools = {s.id: s for s in session.scalars(select(School).where(School.id.in_(school_ids)))}
    lines = digests.lines_for(session, [d.id for d in taken if d.kind == "reminders"])
    lead = leaders(session, school_ids=school_ids)
    read_at = run.monotonic()
    return [
        _Claimed(
            d,
            people[d.recipient_id],
            schools[d.school_id],
            lines.get(d.id, []),
            lead.get(d.school_id, []),
            read_at,
        )
        for d in taken
    ]


def _send_batch(run: _Run, batch: list[_Claimed]) -> None:
    last: _Sent | None = None
    for claimed in batch:
        if not _ready(run, claimed):
            continue
        if claimed.pacer is not None:
            if last is not None:  # an outcome is never held back over a wait
                _write(run, partial(_step, run, done=last, claimed=None))
                last = None
            claimed.pacer.wait()  # before the message is marked sending: a wait is not "in flight"
        done, last = last, None
        error: DeliveryError | None = None
        started: tuple[Message | None, int] | None
        try:
            text_ = _text(run, claimed)
            if _overlapped(run, claimed, text_):
                assert text_ is not None
                started, error = _start_beside(run, done, claimed, text_)
            else:
                started = _advance(run, done, claimed, text_)
        except (LedgerUnavailable, SetupError):
            raise
        except Exception as exc:  # noqa: BLE001 - composing one message failed: nothing was sent
            if done is not None:
                _write(run, partial(_step, run, done=done, claimed=None))
            _fail(run, claimed, f"the message could not be composed: {exc!r}")
            continue
        if started is None:
            continue
        message, attempts = started
        if message is not None:  # not sent yet (the usual path)
            error = _send(claimed, message)
        last = _Sent(claimed.delivery.id, attempts, error)
    if last is not None:
        _write(run, partial(_step, run, done=last, claimed=None))


def _ready(run: _Run, claimed: _Claimed) -> bool:
    """Its school's settings usable, outside quiet hours, its channel built; else it is
    failed (naming the school and the setting) or held until the quiet hours end."""
    school, key = claimed.school, claimed.delivery.id
    try:
        school_settings.check(school)
        quiet_end = school_settings.quiet_until(run.now(), school)
        if quiet_end > run.now():
            released = _write(
                run, lambda s: outbox.release(s, key, token=run.token, until=quiet_end)
            )
            run.report.held += int(released)
            return False
        claimed.channel, claimed.pacer = _channel(run, school, claimed.delivery.channel)
    except SchoolSettingsError as exc:
        run.report.school_errors[school.code] = str(exc)
        _fail(run, claimed, str(exc))
        return False
    return True


def _fail(run: _Run, claimed: _Claimed, error: str) -> None:
    key = claimed.delivery.id
    if _write(run, lambda s: outbox.fail_claimed(s, key, token=run.token, error=error)):
        run.report.failed += 1
        run.report.errors.append(f"{claimed.person.name}: {error}")


def _send(
    claimed: _Claimed, message: Message, gate: Callable[[], None] | None = None
) -> DeliveryError | None:
    """Hand ``message`` to its channel (through ``gate``: see ``_start_beside``); the error
    that says what became of it, if any. ``Withheld`` (the gate stopped it) goes through."""
    assert claimed.channel is not None
    name, who = claimed.delivery.channel, claimed.person.name
    problem = claimed.channel.validate_address(message.address) if message.address else None
    try:
        if problem:
            raise DeliveryError(f"{name}: {problem}", permanent=True)
        if gate is None:
            claimed.channel.send(message)
        else:
            claimed.channel.send_gated(message, gate)  # type: ignore[attr-defined]
    except Withheld:
        raise
    except DeliveryError as exc:
        return DeliveryError(f"{who}: {exc}", permanent=exc.permanent, unconfirmed=exc.unconfirmed)
    except Exception as exc:  # noqa: BLE001 - a channel's bug must not stop the others
        # Whatever happened inside the channel, the message may have gone out.
        return DeliveryError(f"{who}: {name}: {exc!r}", unconfirmed=True)
    return None


@dataclass
class _Text:
    subject: str
    text: str
    html: str | None
    kept: bool  # anything left to tell
    dropped: dict[int, str]  # outbox line id -> why it is no longer told


def _text(run: _Run, claimed: _Claimed, lines: list[Row[Any]] | None = None) -> _Text | None:
    """What the message says now; None when its lines were read too long ago (it waited)."""
    delivery = claimed.delivery
    if delivery.kind != "reminders":
        return _Text(delivery.subject, delivery.body, delivery.html, True, {})
    if lines is None:
        if run.monotonic() - claimed.read_at > FRESH_S:
            return None
        lines = claimed.lines
    digest = digests.compose(
        lines,
        person=claimed.person,
        school=claimed.school,
        leaders=claimed.leaders,
        now=run.now(),
        settings=run.settings,
    )
    return _Text(digest.subject, digest.text, digest.html, bool(digest.kept), digest.dropped)


def _overlapped(run: _Run, claimed: _Claimed, text_: _Text | None) -> bool:
    """PostgreSQL, a channel that can wait for the commit (e-mail), nothing to drop."""
    return (
        run.fast
        and hasattr(claimed.channel, "send_gated")
        and text_ is not None
        and text_.kept
        and not text_.dropped
    )


def _start_beside(
    run: _Run, done: _Sent | None, claimed: _Claimed, text_: _Text
) -> tuple[tuple[Message | None, int] | None, DeliveryError | None]:
    """``_advance``'s one statement, committed in the worker thread while the mail server is
    given the envelope (MAIL, RCPT), which needs no commit: nothing of the message is handed
    over until the channel's gate has seen the commit succeed. The gate raising (the lease
    lost, the ledger gone) withholds the message; otherwise it goes, and the pair returned is
    what ``_advance`` returns, with the message already sent, and the send's error."""
    message = _message(claimed, text_)
    future = run.beside().submit(
        _statement, run, partial(_fast_step, run, done=done, claimed=claimed, text_=text_)
    )

    def gate() -> None:
        if future.result() is None:
            raise RuntimeError("this run no longer holds the message")

    error: DeliveryError | None = None
    try:
        error = _send(claimed, message, gate)
    except Withheld:
        pass
    finally:
        started = future.result()  # the step's own exception, if any, is raised here
    return (None if started is None else (None, started[1])), error


def _advance(
    run: _Run, done: _Sent | None, claimed: _Claimed, text_: _Text | None
) -> tuple[Message, int] | None:
    """The outcome of the last send and the start of ``claimed``, committed together before
    it is sent. On PostgreSQL the usual case is one statement on an autocommit connection."""
    if run.fast and text_ is not None and text_.kept and not text_.dropped:
        return _statement(run, partial(_fast_step, run, done=done, claimed=claimed, text_=text_))
    return _write(run, partial(_step, run, done=done, claimed=claimed, text_=text_))


def _fast_step(
    run: _Run, session: Connection, *, done: _Sent | None, claimed: _Claimed, text_: _Text
) -> tuple[Message, int] | None:
    started = (claimed.delivery.id, text_.subject, text_.text, text_.html)
    if done is None:
        attempts = outbox.start(
            session,
            claimed.delivery.id,
            token=run.token,
            now=run.now(),
            subject=text_.subject,
            text=text_.text,
            html=text_.html,
        )
    else:
        recorded = (done.delivery_id, done.attempts, done.error)
        result, attempts = outbox.record_and_start(
            session, recorded, started, token=run.token, now=run.now()
        )
        _count(run, result)
    return None if attempts is None else (_message(claimed, text_), attempts)


def _step(
    run: _Run,
    session: Session,
    *,
    done: _Sent | None,
    claimed: _Claimed | None,
    text_: _Text | None = None,
) -> tuple[Message, int] | None:
    """One transaction: the outcome of the last send, then the next message started (its
    lines checked, composed, marked ``sending``). Committed before that message is sent."""
    if done is not None:
        if claimed is None and session.get_bind().dialect.name == "postgresql":
            # An outcome alone needs no wait for the disk: were the database server to crash
            # and lose it, the message would be left "sending", so shown unconfirmed and never
            # resent. A transaction that starts a message ("sending") is always durable.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        _record(run, session, done)
    if claimed is None:
        return None
    delivery, now, token = claimed.delivery, run.now(), run.token
    if text_ is None:  # it waited (pacing): its lines are read again
        lines = digests.lines_for(session, [delivery.id]).get(delivery.id, [])
        text_ = _text(run, claimed, lines)
        assert text_ is not None
    if not text_.kept:
        if outbox.release(session, delivery.id, token=token, until=now, status="dropped"):
            outbox.drop_lines(session, text_.dropped)
            run.report.dropped += 1
        return None
    attempts = outbox.start(
        session,
        delivery.id,
        token=token,
        now=now,
        subject=text_.subject,
        text=text_.text,
        html=text_.html,
    )
    if attempts is None:
        return None  # its lease ran out and another run took it: nothing of it written
    outbox.drop_lines(session, text_.dropped)
    return _message(claimed, text_), attempts


def _message(claimed: _Claimed, text_: _Text) -> Message:
    delivery = claimed.delivery
    return Message(
        recipient=claimed.person.name,
        address=str(claimed.person.addresses.get(delivery.channel) or ""),
        subject=text_.subject,
        text=text_.text,
        html=text_.html,
        key=delivery.key,
        attachments=tuple(delivery.attachments or ()),
    )


def _record(run: _Run, session: Session, done: _Sent) -> None:
    _count(
        run,
        outbox.record(
            session,
            done.delivery_id,
            token=run.token,
            now=run.now(),
            attempts=done.attempts,
            error=done.error,
        ),
    )


def _count(run: _Run, result: outbox.Outcome | None) -> None:
    if result is None:
        return
    report = run.report
    if result.status == "sent":
        report.sent += 1
    elif result.status == "pending":
        report.retrying += 1
    else:
        setattr(report, result.status, getattr(report, result.status) + 1)
        report.errors.append(result.error or "")


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


def _write(run: _Run, step: Callable[[Session], T]) -> T:
    """Run ``step`` in its own transaction on the run's connection (see ``_retrying``)."""

    def in_session(connection: Connection) -> T:
        session = Session(bind=connection, expire_on_commit=False)
        with session, session.begin():
            return step(session)

    return _retrying(run, in_session, autocommit=False)


def _statement(run: _Run, step: Callable[[Connection], T]) -> T:
    """Run ``step``, one statement, on the run's autocommit connection (PostgreSQL): it is
    its own transaction, and no session is needed for it (a session per message cost more
    CPU than the statement)."""
    return _retrying(run, step, autocommit=True)


def _retrying(run: _Run, step: Callable[[Connection], T], *, autocommit: bool) -> T:
    """``step`` on the run's connection; when the connection drops (a restarted server, a
    killed backend) it is tried again on a new one, and given up with what is left where."""
    for pause in (*LEDGER_RETRIES, None):
        try:
            return step(run.connect(autocommit))
        except (OperationalError, InterfaceError) as exc:
            run.disconnect()  # never back to the pool: the next try connects anew
            if pause is None:
                raise LedgerUnavailable(
                    f"the ledger could not be reached ({type(exc.orig).__name__}: "
                    f"{str(exc.orig).strip()[:200]}). A message being sent stays 'sending' and "
                    f"shows as unconfirmed once its lease of {outbox.LEASE} runs out; messages "
                    "claimed but not yet sent go back to the queue then."
                ) from None
            run.sleep(pause)
    raise AssertionError("unreachable")
