"""The schema revision this code expects, checked by every command in one query.

``SCHEMA`` names the newest file in migrations/versions (a test keeps it equal to Alembic's
head: update it with each new migration). When the ledger's stored revision equals it, nothing
more is read; otherwise houqin/migrate.py says what is wrong and what to do.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

SCHEMA = "0005_h17"


def check_schema(engine: Engine) -> None:
    """Raise SetupError unless the ledger is at exactly this code's newest revision."""
    try:
        with engine.connect() as conn:
            if conn.scalar(text("SELECT version_num FROM alembic_version")) == SCHEMA:
                return
    except SQLAlchemyError:
        pass  # no such table, or no database: Alembic's own reading below says which
    from houqin import (
        migrate,
    )  # deliberate: Alembic takes ~0.3 s to import; only a mismatch needs it

    migrate.check_schema(engine)
