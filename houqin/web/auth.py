"""Login sessions and login throttling.

A session is a signed, expiring cookie holding the account id and a fingerprint of its password
hash: changing the password ends every session made with the old one. Failed logins are audit
events (``login.failed``, with the client address), so throttling holds across restarts and
several server processes: after 5 failures for one username from one address within 15 minutes,
logins are refused with 429 until the window passes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from houqin import audit
from houqin.models import Account, AuditEvent
from houqin.web.middleware import cookie_flags

COOKIE = "houqin_session"
SALT = "houqin.session"
SESSION_HOURS = 12
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class SessionClaim:
    account_id: int
    fingerprint: str


def fingerprint(account: Account) -> str:
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=SALT)


def session_cookie(request: Request, account: Account) -> str:
    """The Set-Cookie value that logs ``account`` in."""
    value = _serializer(request).dumps([account.id, fingerprint(account)])
    secure = request.app.state.secure
    return f"{COOKIE}={value}{cookie_flags(secure, max_age=SESSION_HOURS * 3600)}"


def logout_cookie(request: Request) -> str:
    return f"{COOKIE}={cookie_flags(request.app.state.secure, max_age=0)}"


def read_session(request: Request) -> SessionClaim | None:
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        account_id, print_ = _serializer(request).loads(value, max_age=SESSION_HOURS * 3600)
        return SessionClaim(int(account_id), str(print_))
    except (BadSignature, ValueError, TypeError):
        return None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def throttled(session: Session, username: str, address: str, now: datetime) -> bool:
    """Too many recent failures for this username from this address (since its last success)?"""
    rows = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(("login.failed", "login")),
            AuditEvent.actor == username[:100],
            AuditEvent.at >= now - WINDOW,
        )
        .order_by(AuditEvent.id)
    ).all()
    failures = 0
    for event in rows:
        if event.details.get("ip") != address:
            continue
        failures = failures + 1 if event.action == "login.failed" else 0
    return failures >= MAX_FAILURES


def record_attempt(
    session: Session,
    username: str,
    address: str,
    now: datetime,
    *,
    ok: bool,
    school_id: int | None = None,
) -> None:
    audit.record(
        session,
        actor=username[:100],
        action="login" if ok else "login.failed",
        at=now,
        school_id=school_id,
        ip=address,
    )
