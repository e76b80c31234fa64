"""The ledger schema: migrations match the models, instants stay aware, audit is append-only."""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

import pendulum
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from houqin import audit
from houqin.models import AuditEvent, Base, Item
from tests.factories import make_item, make_person, make_run, make_school

ROOT = Path(__file__).resolve().parent.parent


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_deadlines_come_back_time_zone_aware_in_utc(session: Session) -> None:
    school = make_school(session)
    owner = make_person(session, school, "li")
    # 2026-10-01 01:00 in Shanghai is 2026-09-30 17:00 UTC: the date must not slip a day
    due = pendulum.datetime(2026, 10, 1, 1, 0, tz="Asia/Shanghai")
    item = make_item(session, make_run(session, school), owner, due=due)
    session.expire_all()
    loaded = session.get(Item, item.id)
    assert loaded is not None
    assert loaded.due_at.tzinfo is not None
    assert loaded.due_at == due
    assert loaded.due_at.astimezone(UTC).hour == 17
    assert (
        pendulum.instance(loaded.due_at).in_tz("Asia/Shanghai").date().isoformat() == "2026-10-01"
    )


def test_audit_events_cannot_be_changed_or_deleted(session: Session) -> None:
    event = audit.record(session, actor="zhang", action="test", at=pendulum.now("UTC"))
    session.flush()
    event.action = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()
    session.rollback()


def test_naive_datetimes_are_refused_by_the_ledger(session: Session) -> None:
    from datetime import datetime

    school = make_school(session)
    owner = make_person(session, school, "li")
    with pytest.raises(Exception, match="naive datetime"):
        make_item(session, make_run(session, school), owner, due=datetime(2027, 6, 1, 18, 0))


def test_core_is_prefect_free() -> None:
    for folder in ("houqin", "calendars", "notifications"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"^\s*(from|import)\s+prefect\b", text, re.M), path


def test_audit_history_lists_an_items_events_in_order(session: Session) -> None:
    school = make_school(session)
    owner = make_person(session, school, "li")
    item = make_item(session, make_run(session, school), owner, due=pendulum.now("UTC"))
    for action in ("a", "b"):
        audit.record(session, actor="li", action=action, at=pendulum.now("UTC"), item_id=item.id)
    session.flush()
    assert [e.action for e in audit.history(session, item_id=item.id)] == ["a", "b"]
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "b")) is not None


def test_the_schema_every_command_expects_is_alembics_head() -> None:
    from houqin.migrate import head_revision
    from houqin.schema import SCHEMA

    assert head_revision() == SCHEMA
