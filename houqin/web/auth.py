"""Login sessions and login throttling.

A session is a signed, expiring cookie holding the account id and the account's session version
when it was made: logging out, a new password or disabling the account moves the version on, so
every cookie of that account stops working at once, on every device (a copied cookie too).

Failed logins are audit events (``login.failed``, with the client address), so throttling holds
across restarts and several server processes. Within 15 minutes, logins are refused with 429
(and the refusal is not counted) after 5 failures for one username from one address, after 10
for one username from any addresses (rotating addresses does not help), or after 30 from one
address for any usernames (one password tried against many accounts). A success ends the count
for its username; the count per address only ends with the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from houqin import audit
from houqin.models import Account, AuditEvent
from houqin.secret_key import signing_key
from houqin.web.middleware import cookie_flags

COOKIE = "houqin_session"
SALT = "houqin.session"
SESSION_HOURS = 12
MAX_FAILURES = 5  # one username from one address
MAX_ACCOUNT_FAILURES = 10  # one username from all addresses together
MAX_ADDRESS_FAILURES = 30  # one address, all usernames together
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class SessionClaim:
    account_id: int
    version: int


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_key(request.app.state.settings), salt=SALT)


def session_cookie(request: Request, account: Account) -> str:
    """The Set-Cookie value that logs ``account`` in."""
    value = _serializer(request).dumps([account.id, account.session_version])
    secure = request.app.state.secure
    return f"{COOKIE}={value}{cookie_flags(secure, max_age=SESSION_HOURS * 3600)}"


def logout_cookie(request: Request) -> str:
    return f"{COOKIE}={cookie_flags(request.app.state.secure, max_age=0)}"


def read_session(request: Request) -> SessionClaim | None:
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        account_id, version = _serializer(request).loads(value, max_age=SESSION_HOURS * 3600)
        return SessionClaim(int(account_id), int(version))
    except (BadSignature, ValueError, TypeError):
        return None


def valid_account(session: Session, claim: SessionClaim | None) -> Account | None:
    """The account a session cookie logs in, if that session has not been ended."""
    if claim is None:
        return None
    account = session.get(Account, claim.account_id)
    if account is None or not account.active or account.session_version != claim.version:
        return None
    return account


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def throttled(session: Session, username: str, address: str, now: datetime) -> bool:
    """Too many recent failures for this username here, this username anywhere, or from here?"""
    username = username[:100]
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.actor, AuditEvent.details)
        .where(
            AuditEvent.action.in_(("login.failed", "login")),
            AuditEvent.at >= now - WINDOW,
            or_(AuditEvent.actor == username, AuditEvent.details["ip"].as_string() == address),
        )
        .order_by(AuditEvent.id)
    ).all()
    pair = account = here = 0
    for action, actor, details in rows:
        failed, same_address = action == "login.failed", details.get("ip") == address
        if actor == username:
            account = account + 1 if failed else 0
            if same_address:
                pair = pair + 1 if failed else 0
        if same_address and failed:
            here += 1
    return pair >= MAX_FAILURES or account >= MAX_ACCOUNT_FAILURES or here >= MAX_ADDRESS_FAILURES


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
