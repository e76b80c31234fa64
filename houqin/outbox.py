"""The outbox's messages and their states: one message (``Delivery``) per person per sweep.

Outbox *lines* (one item, step and recipient, written by the sweep) wait (``pending``) until
their send time, are then gathered per person into a *message* (``queued``), and stay there
unless they are ``dropped`` as stale when it goes out (or ``failed``: the person has no address
on any channel). The message carries the outcome and moves through these states::

    pending --claim--> claimed --start--> sending --record--> sent
       ^                |   |                |          +---> pending (refused for now: retried
       |  lease ran out |   |                |          |              at its backoff time)
       +----------------+   |                |          +---> failed (refused for good)
       ^    quiet hours     |                |          +---> unconfirmed (handed over, then the
       +--------------------+                |                answer was lost)
                            |                +--lease ran out (its sender died mid-send)-->
                            |                                                  unconfirmed
                            +--start--> dropped (nothing left to tell: items done, reassigned)
                            +--school settings unusable--> failed
    failed, unconfirmed --resend (a person)--> pending
    unconfirmed --mark delivered (a person)--> sent

``claimed`` means a delivery run holds it but has not handed it to a channel: if that run dies,
the message goes back to ``pending`` once the lease runs out and the next run sends it. Only
``sending`` is "in flight"; a ``sending`` message whose run died becomes ``unconfirmed`` and is
never sent again by itself: a person checks and resends or marks it delivered (audited).
Every change is a conditional UPDATE naming the claiming run (``claimed_by``), so two runs, or
a run and a person, never both act on one message. Functions take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from houqin import audit
from houqin.db import rowcount
from houqin.errors import NotFound, UserError
from houqin.models import Delivery, Outbox

LEASE = timedelta(minutes=10)  # longer than any send: a channel's timeout is seconds
MAX_ATTEMPTS = 6
BACKOFF = timedelta(minutes=1)  # doubles each attempt: 1, 2, 4, 8, 16 minutes
STATES = ("pending", "claimed", "sending", "sent", "failed", "unconfirmed", "dropped")
RESENDABLE = ("failed", "unconfirmed")
# The tables themselves for the statements run once per message: plain Core statements skip
# the ORM's bulk-update bookkeeping, which cost more than the database did (bench/delivery.py).
_D = cast(Table, Delivery.__table__)
_O = cast(Table, Outbox.__table__)
DIED_MID_SEND = (
    "the sender stopped after handing the message over and before recording the answer; it "
    "may or may not have arrived: check with the recipient, then resend it or mark it delivered"
)


def locked(stmt: Select[Any], session: Session) -> Select[Any]:
    # On PostgreSQL, concurrent runs skip each other's rows instead of taking them twice;
    # SQLite serialises writers (BEGIN IMMEDIATE), so a plain read is enough there.
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def recover(session: Session, *, now: datetime) -> tuple[int, int]:
    """Messages whose run stopped and whose lease ran out: ``claimed`` ones go back to
    ``pending`` (never handed over: safe to send), ``sending`` ones become ``unconfirmed``.
    Returns (released, unconfirmed)."""
    released = rowcount(
        session,
        update(Delivery)
        .where(Delivery.status == "claimed", Delivery.claimed_until < now)
        .values(status="pending", claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False),
    )
    stale = list(
        session.scalars(
            locked(
                select(Delivery.id).where(
                    Delivery.status == "sending", Delivery.claimed_until < now
                ),
                session,
            )
        )
    )
    if stale:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(stale), Delivery.status == "sending")
            .values(status="unconfirmed", last_error=DIED_MID_SEND)
            .execution_options(synchronize_session=False)
        )
    return released, len(stale)


def claim(session: Session, *, now: datetime, token: str, limit: int) -> list[Delivery]:
    """Take up to ``limit`` due messages for run ``token`` (``claimed``, with a lease)."""
    ids = list(
        session.scalars(
            locked(
                select(Delivery.id)
                .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit),
                session,
            )
        )
    )
    if not ids:
        return []
    # the conditional UPDATE settles a race with another run: a row it took first is skipped
    taken = list(
        session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == "pending")
            .values(status="claimed", claimed_by=token, claimed_until=now + LEASE)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    return list(
        session.scalars(select(Delivery).where(Delivery.id.in_(taken)).order_by(Delivery.id))
    )


# Built once: the statements run for every message (building and caching a statement per
# call cost more than running it).
_START = (
    update(_D)
    .where(
        _D.c.id == bindparam("start_id"),
        _D.c.status == "claimed",
        _D.c.claimed_by == bindparam("by"),
    )
    .values(
        status="sending",
        claimed_until=bindparam("until"),
        attempts=_D.c.attempts + 1,
        subject=bindparam("text_subject"),
        body=bindparam("text_body"),
        html=bindparam("text_html"),
    )
    .returning(_D.c.attempts)
)


def start(
    session: Session | Connection,
    delivery_id: int,
    *,
    token: str,
    now: datetime,
    subject: str,
    text: str,
    html: str | None,
) -> int | None:
    """Mark a claimed message ``sending`` (in flight) just before it is handed over, with the
    text composed for it; returns its attempts so far, or None if this run no longer holds it.
    The caller commits this before sending: a crash after it leaves the message in doubt."""
    return session.scalar(_START, _start_params(delivery_id, token, now, subject, text, html))


def _start_params(
    delivery_id: int, token: str, now: datetime, subject: str, text: str, html: str | None
) -> dict[str, Any]:
    return {
        "start_id": delivery_id,
        "by": token,
        "until": now + LEASE,
        "text_subject": subject[:300],
        "text_body": text,
        "text_html": html,
    }


def drop_lines(session: Session, dropped: dict[int, str]) -> None:
    """Lines no longer worth telling (done, reassigned...): ``dropped``, with why."""
    if dropped:
        session.execute(
            update(_O)
            .where(_O.c.id == bindparam("line"))
            .values(status="dropped", last_error=bindparam("why")),
            [{"line": i, "why": why} for i, why in dropped.items()],
        )


@dataclass(frozen=True)
class Outcome:
    """What became of a send: ``status`` is sent, pending (retry), failed or unconfirmed."""

    status: str
    error: str | None = None
    retry_at: datetime | None = None


def outcome(attempts: int, *, now: datetime, error: Any | None) -> Outcome:
    """The state a message moves to after a send that raised ``error`` (a ``DeliveryError``)."""
    if error is None:
        return Outcome("sent")
    if getattr(error, "unconfirmed", False):
        return Outcome("unconfirmed", str(error))
    if getattr(error, "permanent", False) or attempts >= MAX_ATTEMPTS:
        return Outcome("failed", str(error))
    return Outcome("pending", str(error), now + BACKOFF * (2 ** (attempts - 1)))


def _recording(status: str) -> Any:
    # "unconfirmed" too: a slow run's lease may have run out, but this run knows the answer
    values: dict[str, Any] = {"status": status, "last_error": bindparam("error")}
    if status == "sent":
        values["sent_at"] = bindparam("now")
    if status != "unconfirmed":
        values["claimed_until"] = None
    if status == "pending":
        values |= {"claimed_by": None, "next_attempt_at": bindparam("retry_at")}
    return (
        update(_D)
        .where(
            _D.c.id == bindparam("record_id"),
            _D.c.claimed_by == bindparam("by"),
            _D.c.status.in_(("sending", "unconfirmed")),
        )
        .values(**values)
    )


OUTCOMES = ("sent", "pending", "failed", "unconfirmed")
_RECORD = {status: _recording(status) for status in OUTCOMES}


def _advancing(status: str) -> Any:
    # PostgreSQL: both UPDATEs in one statement (data-modifying CTEs), which on a connection in
    # autocommit is one round trip and one durable commit instead of four round trips
    recorded = _RECORD[status].returning(_D.c.id).cte("recorded")
    started = _START.cte("started")
    return select(
        select(func.count()).select_from(recorded).scalar_subquery(),
        select(started.c.attempts).scalar_subquery(),
    )


_ADVANCE = {status: _advancing(status) for status in OUTCOMES}


def record(
    session: Session,
    delivery_id: int,
    *,
    token: str,
    now: datetime,
    attempts: int,
    error: Any | None,
) -> Outcome | None:
    """Record the outcome of the send this run made (its ``attempts``th); None if the message
    is no longer this run's (a person resent it meanwhile, or this was recorded already)."""
    result = outcome(attempts, now=now, error=error)
    changed = rowcount(
        session, _RECORD[result.status], _record_params(delivery_id, token, now, result)
    )
    return result if changed == 1 else None


def _record_params(delivery_id: int, token: str, now: datetime, result: Outcome) -> dict[str, Any]:
    return {
        "record_id": delivery_id,
        "by": token,
        "error": result.error,
        "now": now,
        "retry_at": result.retry_at,
    }


def record_and_start(
    session: Session | Connection,
    recorded: tuple[int, int, Any | None],
    started: tuple[int, str, str, str | None],
    *,
    token: str,
    now: datetime,
) -> tuple[Outcome | None, int | None]:
    """``record`` of (message, attempts, error) and ``start`` of (message, subject, text, html)
    as one statement (PostgreSQL only): the outcome (None if not recorded) and the attempts."""
    delivery_id, attempts, error = recorded
    result = outcome(attempts, now=now, error=error)
    params = _record_params(delivery_id, token, now, result)
    params |= _start_params(started[0], token, now, *started[1:])
    count, begun = session.execute(_ADVANCE[result.status], params).one()
    return (result if count == 1 else None), begun


def fail_claimed(session: Session, delivery_id: int, *, token: str, error: str) -> bool:
    """A claimed message that cannot be sent at all (its school's settings are unusable)."""
    changed = rowcount(
        session,
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "claimed",
            Delivery.claimed_by == token,
        )
        .values(status="failed", last_error=error, claimed_until=None)
        .execution_options(synchronize_session=False),
    )
    return changed == 1


def release(
    session: Session, delivery_id: int, *, token: str, until: datetime, status: str = "pending"
) -> bool:
    """Give a claimed message back: due again at ``until`` (quiet hours), or ``dropped``
    (nothing left to tell)."""
    values: dict[str, Any] = {"status": status, "claimed_by": None, "claimed_until": None}
    if status == "pending":
        values["next_attempt_at"] = until
    else:
        values["last_error"] = "not sent: nothing left to tell (every item done or moved)"
    return (
        rowcount(
            session,
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status == "claimed",
                Delivery.claimed_by == token,
            )
            .values(**values)
            .execution_options(synchronize_session=False),
        )
        == 1
    )


# --- what a person does -----------------------------------------------------------------------


def resend(session: Session, delivery: Delivery, *, now: datetime, by: str) -> bool:
    """Queue a failed or unconfirmed message again (a person decided it should go).

    A conditional UPDATE, so two people pressing resend at once queue it once; False if it was
    not failed or unconfirmed (any more). Its lines are read again when it is sent.
    """
    previous = delivery.status
    changed = rowcount(
        session,
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status.in_(RESENDABLE))
        .values(
            status="pending", next_attempt_at=now, claimed_until=None, claimed_by=None, attempts=0
        )
        .execution_options(synchronize_session=False),
    )
    session.expire(delivery)
    if changed != 1:
        return False
    details: dict[str, Any] = {"delivery": delivery.id, "channel": delivery.channel}
    details["from"] = previous  # "from" is a Python keyword
    audit.record(
        session, actor=by, action="delivery.resend", at=now, school_id=delivery.school_id, **details
    )
    return True


def mark_delivered(session: Session, delivery: Delivery, *, now: datetime, by: str) -> bool:
    """A person confirmed an unconfirmed message arrived: ``sent``, audited; False if it was
    not unconfirmed (any more)."""
    changed = rowcount(
        session,
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == "unconfirmed")
        .values(status="sent", sent_at=now, claimed_until=None, claimed_by=None)
        .execution_options(synchronize_session=False),
    )
    session.expire(delivery)
    if changed != 1:
        return False
    audit.record(
        session,
        actor=by,
        action="delivery.confirmed",
        at=now,
        school_id=delivery.school_id,
        delivery=delivery.id,
        channel=delivery.channel,
    )
    return True


def act(session: Session, *, delivery_id: int, action: str, now: datetime, by: str) -> str:
    """``resend`` or ``delivered`` by id, for the CLI: a clear error when it does not apply."""
    d = session.get(Delivery, delivery_id)
    if d is None:
        raise NotFound(f"no message {delivery_id} in the outbox")
    status = d.status
    if action == "resend":
        if not resend(session, d, now=now, by=by):
            raise UserError(
                f"message {delivery_id} is {status}; only {' or '.join(RESENDABLE)} ones are resent"
            )
        return "queued again; the next delivery run sends it"
    if not mark_delivered(session, d, now=now, by=by):
        raise UserError(
            f"message {delivery_id} is {status}; only unconfirmed ones are marked delivered"
        )
    return "marked delivered"


def unconfirmed(session: Session) -> int:
    """How many messages wait for a person to say whether they arrived."""
    return session.scalar(select(func.count()).where(_D.c.status == "unconfirmed")) or 0


def counts(session: Session, *, school_id: int | None = None) -> dict[str, int]:
    stmt = select(Delivery.status, func.count()).group_by(Delivery.status)
    if school_id is not None:
        stmt = stmt.where(Delivery.school_id == school_id)
    return dict(session.execute(stmt).tuples().all())


def list_deliveries(
    session: Session, *, status: str | None = None, limit: int = 100
) -> list[Delivery]:
    stmt = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Delivery.status == status)
    return list(session.scalars(stmt))
