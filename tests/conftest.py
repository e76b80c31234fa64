"""Shared fixtures: the ledger on SQLite and on PostgreSQL, rolled back per test.

Every test that takes ``session`` runs twice, once per database (``engine`` is parametrized).
The PostgreSQL server is the machine's (127.0.0.1:5432, trust auth); each test session makes its
own databases there and drops them at the end.
"""

from __future__ import annotations

import gc
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# Before anything imports Prefect: a private home, no telemetry (shared/notes/prefect.md).
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="houqin-prefect-"))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # its shutdown logs outlive capsys
# Never the Prefect server of a `make up` running on this machine: port 9 refuses at once.
os.environ.setdefault("HOUQIN_PREFECT_API_URL", "http://127.0.0.1:9/api")

import pytest  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from houqin.db import make_engine  # noqa: E402
from houqin.migrate import upgrade  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "HOUQIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


def create_pg_database(prefix: str = "houqin_t") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'ledger-{uuid.uuid4().hex[:6]}.sqlite'}"
    return create_pg_database()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    url = fresh_database_url(request.param, tmp_path_factory.mktemp("db"))
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield s
        finally:
            s.close()
            outer.rollback()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, migrated database that commands and flows reach through HOUQIN_DATABASE_URL,
    with a data directory holding its secret key: what `houqin init` leaves behind."""
    from houqin.secret_key import ensure_key
    from houqin.settings import get_settings

    url = fresh_database_url(request.param, tmp_path)
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    monkeypatch.setenv("HOUQIN_DATABASE_URL", url)
    monkeypatch.setenv("HOUQIN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    ensure_key(get_settings())
    yield url
    get_settings.cache_clear()
    if request.param == "postgresql":
        drop_pg_database(url)


@pytest.fixture(scope="session")
def book():  # type: ignore[no-untyped-def]
    from calendars import load_book

    return load_book()


@pytest.fixture(scope="session")
def templates():  # type: ignore[no-untyped-def]
    from houqin.plan_templates import load_builtin_templates

    return load_builtin_templates()


# Prefect 3.8.8 opens a sync API client in every *async* flow run, to read the server's default
# result storage (prefect/results.py, _read_server_default_result_storage_block_id), and never
# closes it. Tests that run the (async) launch flow in-process use ``async_flow_runs``: it
# collects that client inside the test, where this mark ignores exactly its socket warnings.
PREFECT_CLIENT_LEAK = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def async_flow_runs() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test server for the whole session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
