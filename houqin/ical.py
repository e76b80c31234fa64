"""A person's calendar feed: their open items as all-day events, each with an alarm.

Deadlines are exported as all-day VEVENTs, not VTODOs: many calendar apps ignore subscribed
to-dos (shared/notes/lessons-from-peers.md). The feed URL carries a random secret; only its
sha256 is stored (``Person.ical_token_hash``), so issuing a new one or revoking it ends the old URL.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from houqin import audit
from houqin.clock import as_local
from houqin.models import Item, Person, PlanRun
from houqin.tables import when

# the alarm rings at 09:00 the day before: all-day events start at local midnight
ALARM_BEFORE = timedelta(hours=15)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/ical/{token}.ics"


def issue_token(session: Session, person: Person, *, now: datetime, actor: str) -> str:
    """A new secret for the person's feed; any earlier URL stops working."""
    token = secrets.token_urlsafe(24)
    replaced = person.ical_token_hash is not None
    person.ical_token_hash = _digest(token)
    audit.record(
        session,
        actor=actor,
        action="ical.issue",
        at=now,
        school_id=person.school_id,
        person=person.code,
        replaced=replaced,
    )
    return token


def revoke_token(session: Session, person: Person, *, now: datetime, actor: str) -> bool:
    """End the person's feed URL; False if there was none."""
    if person.ical_token_hash is None:
        return False
    person.ical_token_hash = None
    audit.record(
        session,
        actor=actor,
        action="ical.revoke",
        at=now,
        school_id=person.school_id,
        person=person.code,
    )
    return True


def person_for_token(session: Session, token: str) -> Person | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(Person).where(Person.ical_token_hash == _digest(token), Person.active.is_(True))
    )


def build_feed(session: Session, person: Person, *, now: datetime, base_url: str) -> bytes:
    items = session.scalars(
        select(Item)
        .where(Item.owner_id == person.id, Item.status == "open")
        .options(joinedload(Item.run).joinedload(PlanRun.template))
        .order_by(Item.due_at, Item.id)
    ).all()
    tz = person.school.timezone
    cal = Calendar()
    cal.add("prodid", "-//Houqin//后勤 checklist feed//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"后勤待办 · {person.name}")
    cal.add("x-wr-timezone", tz)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for item in items:
        cal.add_component(
            _event(item, tz=tz, now=now, base_url=base_url, school=person.school.code)
        )
    return bytes(cal.to_ical())


def _event(item: Item, *, tz: str, now: datetime, base_url: str, school: str) -> Event:
    day = as_local(item.due_at, tz).date()
    url = f"{base_url.rstrip('/')}/items/{item.id}"
    plan = item.run.template.title_zh
    event = Event()
    event.add("uid", f"item-{item.id}.{school}@houqin")  # stable: a refresh updates, never dupes
    event.add("dtstamp", now)
    event.add("sequence", max(item.revision - 1, 0))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", item.title_zh)
    provisional = "（日期暂定）" if item.due_provisional else ""
    event.add(
        "description",
        f"{plan} · {item.phase_zh}\n截止 {when(item.due_at, tz)}{provisional}\n{url}",
    )
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"明天截止：{item.title_zh}")
    alarm.add("trigger", -ALARM_BEFORE)
    event.add_component(alarm)
    return event
