"""The ledger's schema: bring it to the newest revision (``houqin init``), or check it is there.

Every command checks (houqin/schema.py) before it touches the ledger, so a database that was
never created, one that an older Houqin left behind, and one that a newer Houqin already upgraded
each get one line saying what to do, instead of a traceback or, worse, a command that runs
against the wrong tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from houqin.errors import SetupError

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    return Config(str(ROOT / "alembic.ini"))


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "migrations/ has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database Houqin never set up."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Raise SetupError unless the ledger is at exactly this code's newest revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SetupError(f"the ledger {where} is not set up yet: run houqin init")
    if not _known(current):
        raise SetupError(_newer(where, current, head))
    raise SetupError(
        f"the ledger {where} is at schema {current}, older than this Houqin's {head}: "
        "run houqin init to upgrade it"
    )


def upgrade(engine: Engine, revision: str = "head") -> None:
    current = current_revision(engine)
    if current is not None and not _known(current):
        where = engine.url.render_as_string(hide_password=True)
        raise SetupError(_newer(where, current, head_revision()))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:  # "Can't locate revision identified by ..."
        return False


def _newer(where: str, current: str, head: str) -> str:
    return (
        f"the ledger {where} is at schema {current}, which this Houqin does not know (its newest "
        f"is {head}): a newer Houqin has upgraded it; run that version, or point "
        "HOUQIN_DATABASE_URL at another database"
    )
