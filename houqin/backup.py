"""``houqin backup`` / ``houqin restore``: the ledger and the data directory, as one folder.

The ledger is copied table by table through SQLAlchemy into a SQLite file in the backup (any
database to any database: PostgreSQL to SQLite and back, so a backup is readable anywhere);
the data directory (photos, reports, the secret key) is copied beside it. Prefect's own home
(``<data dir>/prefect``) and the logs are left out: Prefect's deployments are rebuilt from
prefect.yaml, and its run history is not the ledger's (docs/backup.md).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, text, update

from houqin.db import make_engine
from houqin.errors import UserError
from houqin.migrate import current_revision, upgrade
from houqin.models import Base

LEDGER = "ledger.sqlite"
DATA = "data"
MANIFEST = "MANIFEST.json"
SKIPPED = ("prefect", "log")  # Prefect's home (its own database) and logs: see the module doc
CHUNK = 5_000


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]
    files: int


def backup(engine: Engine, data_dir: Path, dest: Path, *, now: datetime) -> Copied:
    """Write the ledger and the data directory into ``dest``, a folder that must not exist."""
    if dest.exists():
        raise UserError(f"{dest}: already exists; a backup goes into a new folder")
    dest.mkdir(parents=True)
    target = make_engine(f"sqlite:///{dest / LEDGER}")
    try:
        upgrade(target)
        rows = _copy_rows(engine, target)
    finally:
        target.dispose()
    files = _copy_files(data_dir, dest / DATA) if data_dir.is_dir() else 0
    manifest = {
        "created_at": now.isoformat(),
        "schema": current_revision(engine),
        "source": engine.url.render_as_string(hide_password=True),
        "rows": rows,
        "files": files,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Copied(rows, files)


def restore(source: Path, engine: Engine, data_dir: Path) -> Copied:
    """Fill an empty ledger and an empty (or missing) data directory from the backup ``source``."""
    if not (source / MANIFEST).is_file():
        raise UserError(f"{source}: not a Houqin backup (no {MANIFEST})")
    upgrade(engine)
    with engine.connect() as conn:
        used = [
            t.name
            for t in Base.metadata.sorted_tables
            if conn.scalar(select(func.count()).select_from(t))
        ]
    if used:
        raise UserError(
            f"{engine.url.render_as_string(hide_password=True)}: not empty ({', '.join(used)}); "
            "restore into a new database"
        )
    if data_dir.exists() and any(p.name not in SKIPPED for p in data_dir.iterdir()):
        raise UserError(f"{data_dir}: not empty; restore into a new data directory")
    backup_ledger = make_engine(f"sqlite:///{source / LEDGER}")
    try:
        upgrade(backup_ledger)  # a backup from an older version is brought up to this schema
        rows = _copy_rows(backup_ledger, engine)
    finally:
        backup_ledger.dispose()
    if engine.dialect.name == "postgresql":
        _reset_sequences(engine)
    files = _copy_files(source / DATA, data_dir) if (source / DATA).is_dir() else 0
    return Copied(rows, files)


def _copy_rows(source: Engine, target: Engine) -> dict[str, int]:
    """Every table, parents first, in chunks; one transaction on the target."""
    counts: dict[str, int] = {}
    with source.connect() as read, target.begin() as write:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = 0
            order = list(table.primary_key.columns)
            result = read.execution_options(yield_per=CHUNK).execute(select(table).order_by(*order))
            # a column pointing into its own table (a person's supervisor) is filled in after
            # every row is there, since a row may point to one that comes later
            own = [f.parent.name for f in table.foreign_keys if f.column.table is table]
            later: list[dict[str, Any]] = []
            for chunk in result.mappings().partitions(CHUNK):
                rows = [dict(row) for row in chunk]
                for row in rows:
                    if any(row[c] is not None for c in own):
                        later.append({"_id": row["id"], **{c: row[c] for c in own}})
                        row.update(dict.fromkeys(own, None))
                write.execute(insert(table), rows)
                counts[table.name] += len(rows)
            if later:
                links: dict[str, Any] = {c: bindparam(c) for c in own}
                write.execute(
                    update(table).where(table.c.id == bindparam("_id")).values(links), later
                )
    return counts


def _reset_sequences(engine: Engine) -> None:
    """Rows came with their ids: move each id sequence past them, so new rows do not collide."""
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if "id" not in table.columns or not table.columns["id"].autoincrement:
                continue
            sequence = conn.scalar(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
            )
            if sequence:
                top = f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1"
                conn.execute(text(f"SELECT setval(:s, {top}, false)"), {"s": sequence})


def _copy_files(source: Path, dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative.parts[0] in SKIPPED or not path.is_file():
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)  # keeps the secret key's mode 0600
        count += 1
    return count
