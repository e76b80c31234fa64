"""No key that works is in the repository: `houqin init` makes one, everything that signs refuses
a missing, short or published key, and a new key voids what the old one signed (issue 16,
finding 1)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from houqin.errors import SetupError
from houqin.links import INVALID, LinkError, make_link, make_token, read_token
from houqin.secret_key import (
    PUBLISHED,
    ensure_key,
    key_file,
    rotate_key,
    signing_key,
)
from houqin.settings import Settings
from tests import loopback
from tests.factories import NOW

smtp_sink = loopback.smtp_sink

OLD_DEFAULT = "change-me-houqin-dev-secret"  # what settings.py shipped until issue 16


def settings(data_dir: Path, key: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, secret_key=key, _env_file=None)


def houqin(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as a new machine runs it: its own working directory and environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOUQIN_")}
    clean |= {
        "HOUQIN_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite'}",
        "HOUQIN_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "houqin.cli", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_repository_holds_no_default_key() -> None:
    assert Settings.model_fields["secret_key"].default is None
    assert OLD_DEFAULT in PUBLISHED


def test_init_makes_a_private_random_key_and_a_second_init_keeps_it(tmp_path: Path) -> None:
    first = houqin(tmp_path, "init")
    assert first.returncode == 0, first.stderr
    path = tmp_path / "data" / "secret_key"
    assert f"secret key: {path} (made, mode 0600)" in first.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text()
    assert len(key.strip()) >= 60

    second = houqin(tmp_path, "init")
    assert second.returncode == 0 and f"secret key: {path} (kept)" in second.stdout
    assert path.read_text() == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no temporary left


def test_init_keeps_the_key_private_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        ensure_key(settings(tmp_path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(key_file(settings(tmp_path)).stat().st_mode) == 0o600


def test_inits_at_the_same_time_end_with_one_key(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)
    made: list[bool] = []

    def init() -> None:
        barrier.wait()
        made.append(ensure_key(settings(tmp_path)).created)

    threads = [threading.Thread(target=init) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(made) == 8 and made.count(True) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
    assert signing_key(settings(tmp_path))  # whole and usable


def test_init_with_the_key_in_the_environment_writes_nothing(tmp_path: Path) -> None:
    done = houqin(tmp_path, "init", HOUQIN_SECRET_KEY="k" * 40)
    assert done.returncode == 0, done.stderr
    assert "secret key: HOUQIN_SECRET_KEY (set in the environment; nothing written)" in done.stdout
    assert not (tmp_path / "data" / "secret_key").exists()


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (OLD_DEFAULT, "HOUQIN_SECRET_KEY is a published development key and signs nothing"),
        ("short-key", "HOUQIN_SECRET_KEY is too short to sign with (9 characters, at least 32)"),
    ],
)
def test_a_published_or_short_key_is_refused_by_everything_that_signs(
    tmp_path: Path, key: str, says: str
) -> None:
    bad = settings(tmp_path, key)
    for sign in (
        lambda: signing_key(bad),
        lambda: make_link(bad, item_id=1, person_id=1, now=NOW),  # what the sweep's mail carries
        lambda: read_token(bad, "x.y.z", now=NOW),
    ):
        with pytest.raises(SetupError, match=says.replace("(", r"\(").replace(")", r"\)")):
            sign()


def test_serve_refuses_to_start_with_a_published_key_or_none(tmp_path: Path) -> None:
    assert houqin(tmp_path, "init").returncode == 0
    published = houqin(tmp_path, "serve", "--port", "1", HOUQIN_SECRET_KEY=OLD_DEFAULT)
    assert published.returncode == 1
    assert published.stderr.strip() == (
        "houqin: HOUQIN_SECRET_KEY is a published development key and signs nothing: unset it "
        "(houqin init makes a random key) or set one from python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(48))'"
    )
    (tmp_path / "data" / "secret_key").unlink()
    missing = houqin(tmp_path, "serve", "--port", "1")
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"houqin: no secret key: run houqin init (it writes {tmp_path / 'data' / 'secret_key'}) "
        "or set HOUQIN_SECRET_KEY"
    )


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    ensure_key(settings(tmp_path))
    path = key_file(settings(tmp_path))
    path.chmod(0o644)
    with pytest.raises(SetupError, match=f"open to other users: chmod 600 {path}"):
        signing_key(settings(tmp_path))


def test_a_link_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    ours, theirs = settings(tmp_path, "a" * 40), settings(tmp_path, "b" * 40)
    token = make_token(theirs, item_id=7, person_id=3, now=NOW)
    assert read_token(theirs, token, now=NOW).item_id == 7
    with pytest.raises(LinkError) as refused:
        read_token(ours, token, now=NOW)
    assert refused.value.text == INVALID


def test_rotating_the_key_voids_the_links_signed_before(tmp_path: Path) -> None:
    s = settings(tmp_path)
    ensure_key(s)
    token = make_token(s, item_id=7, person_id=3, now=NOW)
    rotate_key(s)
    assert stat.S_IMODE(key_file(s).stat().st_mode) == 0o600
    with pytest.raises(LinkError):
        read_token(s, token, now=NOW)
    assert read_token(s, make_token(s, item_id=7, person_id=3, now=NOW), now=NOW).item_id == 7


def test_init_rotate_key_says_what_it_voids(tmp_path: Path) -> None:
    assert houqin(tmp_path, "init").returncode == 0
    before = (tmp_path / "data" / "secret_key").read_text()
    done = houqin(tmp_path, "init", "--rotate-key")
    assert done.returncode == 0 and "every link and session signed before is void" in done.stdout
    assert (tmp_path / "data" / "secret_key").read_text() != before
    from_env = houqin(tmp_path, "init", "--rotate-key", HOUQIN_SECRET_KEY="k" * 40)
    assert from_env.returncode == 2 and "give it a new value there" in from_env.stderr


def test_the_key_is_never_shown_in_the_settings_repr(tmp_path: Path) -> None:
    s = settings(tmp_path, "a-secret-that-must-not-leak-0123456789")
    assert "a-secret-that-must-not-leak" not in repr(s)
    assert isinstance(s.secret_key, SecretStr)


def test_a_sweep_with_a_published_key_fails_loudly_and_loses_no_message(
    database_url: str, monkeypatch: pytest.MonkeyPatch, smtp_sink: loopback.SmtpSink
) -> None:
    """The sweep signs the links in its messages: with the old default key it fails (the
    Prefect run shows the error), sends nothing, and the next sweep with a good key sends all."""
    from houqin.settings import get_settings
    from tests.test_sweep import at, recipients, seed, sweep

    seed({"email": smtp_sink.client_config()})
    monkeypatch.setenv("HOUQIN_SECRET_KEY", OLD_DEFAULT)
    get_settings.cache_clear()
    with pytest.raises(SetupError, match="published development key"):
        sweep(at("2027-05-28"))
    assert smtp_sink.messages == []
    monkeypatch.delenv("HOUQIN_SECRET_KEY")
    get_settings.cache_clear()
    sweep(at("2027-05-28"))
    assert recipients(smtp_sink) == ["li@demo.example"]
