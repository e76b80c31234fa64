"""Signed, expiring links that open one item, without a password, for the person a message went
to: its owner (to tick it off) or a supervisor or leader following it up (a 督办 link).

A link carries (item, person, nonce) signed with the secret key. Reading it checks the signature
and age; using it to change the item records the nonce in ``used_link`` so a second use is refused.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes, want_bytes
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from houqin.bilingual import Bilingual
from houqin.errors import UserError
from houqin.models import UsedLink
from houqin.secret_key import signing_key
from houqin.settings import Settings

SALT = "houqin.item-link"
# Text, not the dialects' insert().on_conflict_do_nothing(): SQLAlchemy cannot cache that
# construct, and compiling it on every tick cost more than running it. (PostgreSQL; SQLite 3.35+)
_USE = text(
    "INSERT INTO used_link (nonce, item_id, used_at) VALUES (:nonce, :item_id, :used_at) "
    "ON CONFLICT (nonce) DO NOTHING RETURNING id"
).bindparams(bindparam("used_at", type_=UsedLink.__table__.c.used_at.type))
DEFAULT_TTL_DAYS = 14


class LinkError(UserError):
    """An expired, forged, malformed or already used link; its ``text`` is in both languages."""


EXPIRED = Bilingual("链接已过期", "this link has expired; open Houqin and log in")
INVALID = Bilingual("链接无效", "this link is not valid")
USED = Bilingual("链接已使用", "this link was already used")


@dataclass(frozen=True)
class LinkClaim:
    item_id: int
    person_id: int
    nonce: str


def _serializer(secret: str, now: datetime) -> URLSafeTimedSerializer:
    """A serializer whose clock is ``now``, so links can be tested on replayed days."""
    stamp = int(now.timestamp())

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(secret, salt=SALT, signer=_Signer)


def make_token(settings: Settings, *, item_id: int, person_id: int, now: datetime) -> str:
    signer = _serializer(signing_key(settings), now)
    return signer.dumps([item_id, person_id, secrets.token_urlsafe(9)])


def make_link(settings: Settings, *, item_id: int, person_id: int, now: datetime) -> str:
    return link_maker(settings, now)(item_id, person_id)


def link_maker(settings: Settings, now: datetime) -> Callable[[int, int], str]:
    """``make_link`` for many items at one ``now``: the signer, its derived key and the
    timestamp are made once; each link is then a JSON payload, its timestamp and one HMAC,
    exactly as ``URLSafeTimedSerializer.dumps`` writes them (uncompressed: a payload of three
    values never gets shorter), and read by ``read_token`` the same way."""
    signer = _serializer(signing_key(settings), now).make_signer(SALT)
    key = signer.derive_key()
    sep = want_bytes(signer.sep)
    stamp = sep + base64_encode(int_to_bytes(int(now.timestamp())))
    base = f"{settings.base_url.rstrip('/')}/l/"

    def link(item_id: int, person_id: int) -> str:
        payload = json.dumps([item_id, person_id, secrets.token_urlsafe(9)], separators=(",", ":"))
        value = base64_encode(payload.encode()) + stamp
        token = value + sep + base64_encode(signer.algorithm.get_signature(key, value))
        return base + token.decode("ascii")

    return link


def read_token(
    settings: Settings, token: str, *, now: datetime, ttl_days: int = DEFAULT_TTL_DAYS
) -> LinkClaim:
    signer = _serializer(signing_key(settings), now)
    try:
        item_id, person_id, nonce = signer.loads(token, max_age=ttl_days * 86400)
    except SignatureExpired:
        raise LinkError(EXPIRED) from None
    except (BadSignature, ValueError, TypeError):
        raise LinkError(INVALID) from None
    return LinkClaim(int(item_id), int(person_id), str(nonce))


def use_token(session: Session, claim: LinkClaim, *, now: datetime) -> None:
    """Mark a link used; raises LinkError if it was used before.

    One statement, no savepoint: a concurrent use of the same link waits on the unique nonce
    until the first transaction ends, then inserts nothing (and is refused) if that one committed.
    """
    used = {"nonce": claim.nonce, "item_id": claim.item_id, "used_at": now}
    if session.scalar(_USE, used) is None:
        raise LinkError(USED)
