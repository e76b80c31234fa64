"""`houqin backup` and `houqin restore`: a restore into a new database and data directory finds
the items, the audit trail and the photos as they were (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from houqin import items
from houqin.cli import main
from houqin.db import make_engine, transaction
from houqin.models import AuditEvent, Evidence, Item, Person
from houqin.secret_key import key_file
from houqin.settings import get_settings
from tests.conftest import drop_pg_database, fresh_database_url
from tests.factories import NOW, make_item, make_run, staff_school

PHOTO = b"\xff\xd8\xff\xe0 a photo of the fire door"


def ledger() -> dict[str, object]:
    with transaction(get_settings()) as s:
        return {
            "items": list(s.execute(select(Item.key, Item.status).order_by(Item.id)).tuples()),
            "audit": list(
                s.execute(
                    select(AuditEvent.action, AuditEvent.actor).order_by(AuditEvent.id)
                ).tuples()
            ),
            "photos": list(s.scalars(select(Evidence.path).where(Evidence.path.is_not(None)))),
        }


def test_a_restore_into_a_new_database_and_data_directory_has_items_audit_and_photos(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    settings = get_settings()
    photo = settings.data_dir / "photos" / "demo" / "fire-door.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(PHOTO)
    with transaction(settings) as s:
        people = staff_school(s, "demo")
        run = make_run(s, people["school"], "gaokao_security")
        make_item(s, run, people["li"], due=NOW, key="fire_door", evidence_kind="photo")
        make_item(s, run, people["li"], due=NOW, key="exits", position=1)
    with transaction(settings) as s:
        item = s.scalar(select(Item).where(Item.key == "fire_door"))
        li = s.scalar(select(Person).where(Person.code == "li"))
        assert item is not None and li is not None
        items.tick(s, item=item, by=li, now=NOW, photos=["photos/demo/fire-door.jpg"])
    before = ledger()
    key = key_file(settings).read_bytes()
    assert main(["backup", str(tmp_path / "backup"), "--today", "2026-11-30"]) == 0
    assert "backup in " in capsys.readouterr().out

    # a new machine: a new, empty database and data directory
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    new_url = fresh_database_url(backend, tmp_path)
    monkeypatch.setenv("HOUQIN_DATABASE_URL", new_url)
    monkeypatch.setenv("HOUQIN_DATA_DIR", str(tmp_path / "new-data"))
    get_settings.cache_clear()
    try:
        assert main(["restore", str(tmp_path / "backup")]) == 0
        assert "restored into" in capsys.readouterr().out
        assert ledger() == before
        assert before["photos"] == ["photos/demo/fire-door.jpg"]
        restored = get_settings().data_dir
        assert (restored / "photos" / "demo" / "fire-door.jpg").read_bytes() == PHOTO
        assert key_file(get_settings()).read_bytes() == key  # links and sessions still valid
        # the ledger goes on: a new row gets a new id (PostgreSQL's sequences moved past)
        with transaction(get_settings()) as s:
            people = staff_school(s, "west")
            assert s.scalar(select(func.count()).select_from(Person)) == 8  # 4 + 4
        # and a second restore into the now-used ledger is refused, naming it
        assert main(["restore", str(tmp_path / "backup")]) != 0
        assert "not empty" in capsys.readouterr().err
    finally:
        engine = make_engine(new_url)
        engine.dispose()
        get_settings.cache_clear()
        if backend == "postgresql":
            drop_pg_database(new_url)
