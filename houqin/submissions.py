"""Submissions from phones, kept by the id the phone made for each: a retry never records twice.

A phone that ticked an item offline sends it when the connection returns; if the reply is lost
(the signal dropped again), it sends it again with the same id. The first arrival claims the id
(a UNIQUE column, one INSERT ... ON CONFLICT DO NOTHING: a concurrent second arrival waits on it
until the first transaction ends) and stores its reply; every later arrival gets that reply back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from houqin import audit
from houqin.errors import UserError
from houqin.items import add_evidence
from houqin.models import Item, Person, Submission

CLIENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CLAIM = text(
    "INSERT INTO submission (client_id, item_id, actor, outcome, reply, received_at) "
    "VALUES (:client_id, :item_id, :actor, 'claimed', '{}', :received_at) "
    "ON CONFLICT (client_id) DO NOTHING RETURNING id"
).bindparams(
    bindparam("received_at", type_=Submission.__table__.c.received_at.type),
)


WHY = {
    "reassigned": "离线提交时事项已转交他人",
    "done": "离线提交时事项已由他人完成",
    "waived": "离线提交时事项已免除",
    "expired": "离线提交时提醒链接已过期",
    "used": "离线提交时提醒链接已用过",
}


def check_client_id(value: str | None) -> str:
    """A UUID as the phone writes it (lower case); anything else is refused."""
    value = (value or "").strip().lower()
    if not CLIENT_ID.match(value):
        raise UserError(f"not a submission id (a UUID): {value[:40]!r}")
    return value


def claim(
    session: Session, client_id: str, *, item_id: int, actor: str, now: datetime
) -> Submission | None:
    """None if this submission is new (and now claimed); else the earlier one, with its reply.

    A repeat for another item or person is refused: the id is the phone's, never a way to read
    someone else's outcome.
    """
    row = {"client_id": client_id, "item_id": item_id, "actor": actor, "received_at": now}
    if session.scalar(_CLAIM, row) is not None:
        return None
    earlier = session.scalars(select(Submission).where(Submission.client_id == client_id)).one()
    if earlier.item_id != item_id or earlier.actor != actor:
        raise UserError(f"submission {client_id} belongs to another item or person")
    return earlier


def answer(session: Session, client_id: str, outcome: str, reply: dict[str, Any]) -> None:
    """Keep the reply the phone got, for its retries."""
    session.execute(
        update(Submission)
        .where(Submission.client_id == client_id)
        .values(outcome=outcome, reply=reply)
        .execution_options(synchronize_session=False)
    )


def keep_evidence(
    session: Session,
    *,
    item: Item,
    by: Person,
    now: datetime,
    note: str | None,
    number: float | None,
    photos: Sequence[str],
    reason: str,
    client_id: str,
) -> int:
    """Attach evidence a person gathered to an item their submission could no longer change
    (reassigned, done, waived, link expired): the item stays as it is, nothing is lost, and the
    audit trail says why (``item.handover``). Returns the number of evidence rows."""
    kept = add_evidence(session, item, by, now, note=note, number=number, paths=photos)
    audit.record_item(
        session,
        item,
        actor=by.code,
        action="item.handover",
        at=now,
        why=reason,
        reason=WHY.get(reason, reason),  # shown in the item's history
        client_id=client_id,
        note=note,
        number=number,
        photos=list(photos),
    )
    return kept
