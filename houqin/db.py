"""Engine and units of work. The caller owns the session: core functions never commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from houqin.settings import Settings


def make_engine(settings: Settings | str, **options: Any) -> Engine:
    """The ledger's engine; ``options`` go to ``create_engine`` (e.g. pool sizes)."""
    url = make_url(settings if isinstance(settings, str) else settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy, not the sqlite3 module, issue BEGIN, so savepoints and locks behave.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # IMMEDIATE takes the write lock at BEGIN: two writers queue instead of failing mid-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commits on success, rolls back on any error (nothing half-written)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory.begin() as session:
        yield session


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """A unit of work on a short-lived engine (a flow run, a one-off command), then disposed."""
    engine = make_engine(settings)
    try:
        with unit_of_work(engine) as session:
            yield session
    finally:
        engine.dispose()


def rowcount(session: Session, stmt: Any, params: dict[str, Any] | None = None) -> int:
    """Rows a conditional UPDATE changed: 0 means someone else got there first."""
    return cast(CursorResult[Any], session.execute(stmt, params)).rowcount
