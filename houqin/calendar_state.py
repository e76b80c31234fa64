"""The calendar files deadlines were last planned from, kept by content in the ledger.

The first launch records the files' texts; a full re-plan records them again when they differ. The
sweep compares the files' digest with it to notice an edited calendar by itself (not by file
times, which a copy or a checkout changes), and a re-plan rebuilds the earlier calendar from it
to name the field that moved a deadline.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars import CalendarBook
from calendars.school_year import read_school_year
from houqin.models import CalendarSnapshot
from houqin.text_files import read_text


def files_of(book: CalendarBook) -> dict[str, str]:
    """Each school-year file of the book, by its path, with its text as it is now."""
    return {y.path: read_text(Path(y.path)) for _, y in sorted(book.school_years.items())}


def digest(files: dict[str, str]) -> str:
    h = hashlib.sha256()
    for path, text in sorted(files.items()):
        name = path.replace("\\", "/").rsplit("/", 1)[-1]  # a copied directory is the same data
        h.update(f"{name}\0{text}\0".encode())
    return h.hexdigest()


def latest(session: Session) -> CalendarSnapshot | None:
    return session.scalar(select(CalendarSnapshot).order_by(CalendarSnapshot.id.desc()).limit(1))


def changed(session: Session, book: CalendarBook) -> bool:
    """Whether the book's files differ from what deadlines were last planned from."""
    last = latest(session)
    return last is not None and last.digest != digest(files_of(book))


def remember(session: Session, book: CalendarBook, now: datetime) -> bool:
    """Record the book's files unless the newest snapshot already holds them; True if new."""
    files = files_of(book)
    found = digest(files)
    last = latest(session)
    if last is not None and last.digest == found:
        return False
    session.add(CalendarSnapshot(digest=found, files=files, taken_at=now))
    session.flush()
    return True


def baseline(session: Session, book: CalendarBook, now: datetime) -> None:
    """The first snapshot, when the ledger has none. Later ones come only from a full re-plan:
    a launch after an edit must not hide the edit from the sweep (the runs launched before it
    still need re-planning)."""
    if latest(session) is None:
        remember(session, book, now)


def book_of(snapshot: CalendarSnapshot | None) -> CalendarBook | None:
    """The calendar a snapshot holds; None when there is none or it no longer reads cleanly."""
    if snapshot is None:
        return None
    years = []
    for path, text in sorted(snapshot.files.items()):
        year, problems = read_school_year(path, str(text))
        if year is None or problems:
            return None
        years.append(year)
    directory = next(iter(snapshot.files), "").replace("\\", "/").rpartition("/")[0]
    return CalendarBook(years, directory or ".")
