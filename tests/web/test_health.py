"""``/healthz``: no login, no secrets; 200 only when the ledger answers at the current schema."""

from __future__ import annotations

from sqlalchemy import text

from houqin.migrate import head_revision
from houqin.secret_key import key_file, signing_key
from tests.web.conftest import Live


def test_healthz_answers_without_a_login_and_names_no_secret(live: Live) -> None:
    with live.client() as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "schema": head_revision()}
    assert signing_key(live.settings) not in response.text
    assert "postgres" not in response.text and "sqlite" not in response.text


def test_healthz_is_503_when_the_schema_is_not_the_codes(live: Live) -> None:
    with live.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with live.client() as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "at another schema"
    assert response.json()["schema"] == "9999_future"


def test_healthz_is_503_when_the_secret_key_file_is_gone(live: Live) -> None:
    # the server reads its key from the data directory, and the file is deleted under it
    live.app.state.settings = live.settings.model_copy(update={"secret_key": None})
    key_file(live.settings).unlink(missing_ok=True)
    with live.client() as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "secret_key": "unusable"}
