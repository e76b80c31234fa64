"""The ledger: SQLAlchemy models of the human work.

Instants are stored in UTC and come back time-zone aware (``UTCDateTime``); dates that are
dates stay dates. Migrations in ``migrations/`` must agree with these models (a test checks).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which has no zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime given to the ledger: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class School(Base):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="07:00")
    # channel name -> settings (SMTP host, robot key, ...); which channels the school uses
    channels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # houqin/school_profiles.py: a KINDS key (None: not said) and FACTS keys
    kind: Mapped[str | None] = mapped_column(String(16))
    facts: Mapped[list[Any]] = mapped_column(default=list)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # channel name -> address (e-mail address, mobile for robot @-mentions, ...)
    addresses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lang: Mapped[str] = mapped_column(String(8), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # sha256 of the secret in the person's iCal feed URL; None = no feed (revoked)
    ical_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    school: Mapped[School] = relationship()
    supervisor: Mapped[Person | None] = relationship(remote_side=[id])


class RoleBinding(Base):
    __tablename__ = "role_binding"
    __table_args__ = (UniqueConstraint("school_id", "role_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    role_key: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

    person: Mapped[Person] = relationship()


class PlanTemplateVersion(Base):
    """One version of a plan template, by content hash, as it was when first launched."""

    __tablename__ = "plan_template"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(String(500))
    # the whole template as JSON: loaded only when read (pages and sweeps need the titles)
    body: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    created_at: Mapped[datetime] = mapped_column()


class PlanRun(Base):
    __tablename__ = "plan_run"
    # one run per (template, school, period): launching again is a no-op, never a duplicate
    __table_args__ = (UniqueConstraint("template_key", "school_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("plan_template.id"))
    template_key: Mapped[str] = mapped_column(String(64))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    launched_by: Mapped[str] = mapped_column(String(100))
    launched_at: Mapped[datetime] = mapped_column()
    flow_run_id: Mapped[str | None] = mapped_column(String(64))

    template: Mapped[PlanTemplateVersion] = relationship()
    school: Mapped[School] = relationship()


class Item(Base):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("run_id", "key"),
        Index("ix_item_school_status_due", "school_id", "status", "due_at"),
        Index("ix_item_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("plan_run.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    phase_key: Mapped[str] = mapped_column(String(64))
    phase_zh: Mapped[str] = mapped_column(String(200))
    phase_en: Mapped[str | None] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    role_key: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    due_at: Mapped[datetime] = mapped_column()
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | waived
    # [{"zh": ..., "en": ..., "done": bool, "by": person code, "at": iso instant}]
    steps: Mapped[list[Any]] = mapped_column(default=list)
    evidence_kind: Mapped[str] = mapped_column(String(16), default="none")
    headcount: Mapped[int | None] = mapped_column(Integer)
    depends_on: Mapped[list[Any]] = mapped_column(default=list)
    remind: Mapped[list[Any]] = mapped_column(default=list)  # working days before due
    escalate: Mapped[list[Any]] = mapped_column(default=list)  # working days after due
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    completed_at: Mapped[datetime | None] = mapped_column()
    late: Mapped[bool | None] = mapped_column(Boolean)
    waive_reason: Mapped[str | None] = mapped_column(Text)
    # bumped on every change, so concurrent ticks settle by a conditional UPDATE
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # a task several plans reach (houqin/shared_tasks.py); one item per school and school year
    shared: Mapped[str | None] = mapped_column(String(64))
    # set by the sweep that claims the item's event (a conditional UPDATE): each is emitted once
    overdue_announced_at: Mapped[datetime | None] = mapped_column()
    completed_announced_at: Mapped[datetime | None] = mapped_column()

    run: Mapped[PlanRun] = relationship()
    owner: Mapped[Person] = relationship(foreign_keys=[owner_id])
    completed_by: Mapped[Person | None] = relationship(foreign_keys=[completed_by_id])


class ItemShare(Base):
    """Another plan run's claim on a shared item: the item shows on that run's board too."""

    __tablename__ = "item_share"
    __table_args__ = (UniqueConstraint("run_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("plan_run.id"))
    key: Mapped[str] = mapped_column(String(64))  # the item's key in that run's template
    due_at: Mapped[datetime] = mapped_column()  # that plan's own deadline for it

    item: Mapped[Item] = relationship()


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # note | number | photo
    note: Mapped[str | None] = mapped_column(Text)
    number: Mapped[float | None] = mapped_column(Float)
    path: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column()


class AuditEvent(Base):
    """Append-only: who did what, when. Never updated or deleted (enforced below)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_item_id", "item_id"),
        Index("ix_audit_event_action_at", "action", "at"),  # recent logins, for the throttle
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("plan_run.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Outbox(Base):
    """One reminder or escalation for one item, step and recipient; delivered in batches."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    kind: Mapped[str] = mapped_column(String(32))  # remind:T-3 | remind:T0 | escalate:L1 | ...
    # pending (until next_attempt_at) | queued (in a message, whose status is the outcome) |
    # withdrawn (its deadline moved before it went: houqin/replan.py) |
    # dropped (stale when its message went out) | failed (no address); why: last_error
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    next_attempt_at: Mapped[datetime] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    channel: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"), index=True)


class Delivery(Base):
    """One message to one person on one channel, listing several outbox rows."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    channel: Mapped[str] = mapped_column(String(32))
    # reminders: composed from its outbox lines just before sending | message: ready-made
    kind: Mapped[str] = mapped_column(String(16), default="reminders", server_default="reminders")
    # pending | claimed | sending | sent | failed | unconfirmed | dropped (see houqin/outbox.py)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)  # file paths
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    next_attempt_at: Mapped[datetime] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(36))  # the delivery run holding it
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)


class Account(Base):
    """A login for the web UI. Role decides what it may see and do (see houqin/web)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # staff | supervisor | logistics_head | leadership | district
    role: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    district: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column()
    # A session cookie carries the version it was made at; logging out, a new password or
    # disabling the account moves it on, so every cookie made before stops working at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0)


class UsedLink(Base):
    """Single-purpose links from messages, once used: a second use is refused."""

    __tablename__ = "used_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    used_at: Mapped[datetime] = mapped_column()


class Submission(Base):
    """One tick-off sent from a phone, by the id the phone made for it: a retry (the reply was
    lost, the phone synced twice) finds this row and gets the first reply, never a second tick."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    actor: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    reply: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column()


class RepairRequest(Base):
    """A repair request (报修): its response and completion times feed the assessment."""

    __tablename__ = "repair_request"
    __table_args__ = (Index("ix_repair_school_reported", "school_id", "reported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    location: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(100))
    reported_at: Mapped[datetime] = mapped_column()
    responded_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()


class InspectionScore(Base):
    """A score entered by a person for a KPI the ledger cannot know (日常检查, 专项督查…)."""

    __tablename__ = "inspection_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    period: Mapped[str] = mapped_column(String(16))  # 2027Q1 | 2026-2027/1 | 2026-2027
    kpi: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))  # daily | special | third_party
    score: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column()


class DigestRun(Base):
    """When an overdue digest went out and what it listed, so the next says what changed."""

    __tablename__ = "digest_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))  # school:<code> | district:<name>
    at: Mapped[datetime] = mapped_column()
    item_ids: Mapped[list[Any]] = mapped_column(default=list)


class CalendarSnapshot(Base):
    """The calendar files deadlines were last planned from, by content: the sweep re-plans when
    the files' digest differs from the newest row, and a re-plan names the field that moved."""

    __tablename__ = "calendar_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)  # sha256 over names and texts
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)  # file name -> its text
    taken_at: Mapped[datetime] = mapped_column()


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise RuntimeError("audit events are append-only")
