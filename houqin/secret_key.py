"""The secret key: it signs reminder links, session cookies and form tokens.

No key that works is written in the repository. ``houqin init`` makes a random key in
``<data dir>/secret_key`` unless HOUQIN_SECRET_KEY is set: mode 0600, written to a temporary
file and linked into place, so the key file is never half-written and never overwritten (a
second ``houqin init``, or two at once, keep the first key). Everything that signs or checks a
signature asks ``signing_key``, which refuses a missing, short, world-readable or published key
with one line saying what to do. Replacing the key (``houqin init --rotate-key``, or a new
HOUQIN_SECRET_KEY) makes every link, session and open form signed with the old one invalid.
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from houqin.errors import SetupError, UserError
from houqin.settings import Settings

FILE_NAME = "secret_key"
MIN_LENGTH = 32
# Keys that have been published (the repository's old default): refused even when set.
PUBLISHED = frozenset({"change-me-houqin-dev-secret"})
NEW_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"

# key file -> ((inode, mtime, size), key): a request reads the file only when it has changed,
# so a rotated key takes effect in every server process without a restart
_read: dict[Path, tuple[tuple[int, int, int], str]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class KeySource:
    """Where the key in use comes from, and whether ``ensure_key`` just made it."""

    where: str
    created: bool = False


def key_file(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def signing_key(settings: Settings) -> str:
    """The key to sign and check with; SetupError if there is none fit for use."""
    if settings.secret_key is not None:
        return _checked(settings.secret_key.get_secret_value(), "HOUQIN_SECRET_KEY")
    path = key_file(settings)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SetupError(
            f"no secret key: run houqin init (it writes {path}) or set HOUQIN_SECRET_KEY"
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SetupError(f"the secret key {path} is open to other users: chmod 600 {path}")
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
    with _lock:
        known = _read.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    key = _checked(path.read_text(encoding="utf-8").strip(), str(path))
    with _lock:
        _read[path] = (stamp, key)
    return key


def ensure_key(settings: Settings) -> KeySource:
    """What ``houqin init`` does: keep the key there is, or make one. Never overwrites."""
    if settings.secret_key is not None:
        signing_key(settings)  # a short or published key is refused now, not at the first link
        return KeySource("HOUQIN_SECRET_KEY")
    path = key_file(settings)
    created = not path.exists() and _write_new(path, replace=False)
    signing_key(settings)
    return KeySource(str(path), created=created)


def rotate_key(settings: Settings) -> Path:
    """A new random key in place of the old one (atomically): every signature made so far
    stops working."""
    if settings.secret_key is not None:
        raise UserError(
            "the key comes from HOUQIN_SECRET_KEY: give it a new value there "
            f"(e.g. from {NEW_KEY}) and restart"
        )
    path = key_file(settings)
    _write_new(path, replace=True)
    return path


def _checked(key: str, where: str) -> str:
    if key in PUBLISHED:
        raise SetupError(
            f"{where} is a published development key and signs nothing: unset it (houqin init "
            f"makes a random key) or set one from {NEW_KEY}"
        )
    if len(key) < MIN_LENGTH:
        raise SetupError(
            f"{where} is too short to sign with ({len(key)} characters, at least {MIN_LENGTH}): "
            f"set one from {NEW_KEY}"
        )
    return key


def _write_new(path: Path, *, replace: bool) -> bool:
    """Write a random key to ``path``; False if another process made the file first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # atomic, and refuses to replace an existing file
            except FileExistsError:
                return False
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new name survives a power cut
    finally:
        os.close(directory)
    return True
