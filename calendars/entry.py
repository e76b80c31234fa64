"""Entering a year's holiday arrangement into its school-year file, keeping the file's layout.

``preview_notice`` shows what a State Council notice would change and writes nothing;
``apply_notice`` writes it with ``status: official`` and ``source:`` (title, 文号, date) and
returns the same changes, so that a replan can be shown after it. The file is edited in
ruamel.yaml's round-trip mode: every other line, comment and blank line stays as it was.

A year is entered once, in the school-year file whose spring it holds (2027 in 2026-2027.yaml),
or in the one whose autumn it holds when that is the only one; the file that already holds the
year keeps it. Nothing is written unless the whole calendar directory, with the change, loads
without a problem.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from houqin.errors import UserError

from .arrangement import Arrangement, Holiday
from .notice import Notice
from .school_year import HolidayArrangement
from .workdays import CalendarBook, library_years, load_book

OFFICIAL_COMMENT = (
    "正式安排：按国务院办公厅通知录入（houqin calendar notice）/ official: entered from the "
    "State Council notice"
)
PREDICTED_COMMENT = (
    "暂定：按2025年起的放假调休原则推算，每项后注明推算依据（见 docs/calendars.md）。\n"
    "Provisional: predicted from the 2025 principles; each entry says how (docs/calendars.md)."
)


@dataclass(frozen=True)
class DayChange:
    """A day whose answer the arrangement changes (or, for a library year, would change)."""

    day: date
    before: bool | None  # a working day before; None when no calendar covered the day
    after: bool
    name: str  # the holiday it belongs to now (or belonged to), "" for none

    def __str__(self) -> str:
        def word(working: bool | None) -> str:
            return {True: "上班", False: "放假", None: "未知"}[working]

        label = f"（{self.name}）" if self.name else ""
        weekday = "一二三四五六日"[self.day.weekday()]
        return f"{self.day} 周{weekday}：{word(self.before)} → {word(self.after)}{label}"


@dataclass(frozen=True)
class NoticeEntry:
    """What entering a notice does: the year it becomes, where it goes, what it changes."""

    notice: Notice
    arrangement: Arrangement  # the whole year after the notice (an adjustment merged in)
    path: str | None  # the school-year file written, or None: chinese-calendar has the year
    changes: tuple[DayChange, ...]
    written: bool
    after: CalendarBook | None = None  # the calendar with the notice in (to preview a replan)

    def as_json(self) -> dict[str, Any]:
        return self.arrangement.as_json()


def preview_notice(book: CalendarBook, notice: Notice) -> NoticeEntry:
    """The notice's year, its file and the days it changes there; writes nothing."""
    return _enter(book, notice, write=False)


def apply_notice(book: CalendarBook, notice: Notice) -> NoticeEntry:
    """Write the notice into its school-year file as official; raises, writing nothing, on doubt."""
    return _enter(book, notice, write=True)


def write_arrangement(
    book: CalendarBook, arrangement: Arrangement, *, status: str, source: str, comment: str
) -> Path:
    """Put one year's arrangement into its school-year file (the same edit a notice makes)."""
    path = _home_path(book, arrangement.year)
    new_text = render(path.read_text(encoding="utf-8"), arrangement, status, source, comment)
    _check_and_load(book, path, new_text)
    _replace(path, new_text)
    return path


def _enter(book: CalendarBook, notice: Notice, *, write: bool) -> NoticeEntry:
    year = notice.year
    if year in library_years():
        if write:
            raise UserError(
                f"chinese-calendar 已有 {year} 年的官方数据，无需录入 / chinese-calendar already "
                f"has {year}'s official holidays; there is nothing to enter"
            )
        changes = tuple(_changes(book, None, notice.arrangement, only_listed=notice.amends))
        return NoticeEntry(notice, notice.arrangement, None, changes, written=False)
    home = _home_path(book, year)
    arrangement, source = _merged(book, notice)
    text = render(
        home.read_text(encoding="utf-8"), arrangement, "official", source, OFFICIAL_COMMENT
    )
    after = _check_and_load(book, home, text)
    changes = tuple(_changes(book, after, arrangement))
    if write:
        _replace(home, text)
    return NoticeEntry(notice, arrangement, str(home), changes, written=write, after=after)


def _merged(book: CalendarBook, notice: Notice) -> tuple[Arrangement, str]:
    """The year as the notice leaves it, and the source line; an adjustment needs its year."""
    if not notice.amends:
        return notice.arrangement, notice.source
    held = book.arrangement(notice.year)
    if held is None or held.status != "official":
        raise UserError(
            f"{notice.title} 调整的是已发布的 {notice.year} 年安排：请先录入当年的放假通知 / "
            f"this notice changes {notice.year}'s official arrangement: enter that year's notice "
            f"first"
        )
    return _from_file(held).amended(notice.arrangement), f"{held.source}；{notice.source}"


def _from_file(held: HolidayArrangement) -> Arrangement:
    """A file's arrangement grouped by holiday name (make-up days named 「X调休上班」 join X)."""
    names = list(dict.fromkeys(held.days_off.values()))
    holidays = []
    for name in names:
        off = tuple(d for d, n in sorted(held.days_off.items()) if n == name)
        work = tuple(d for d, n in sorted(held.workdays.items()) if n.startswith(name))
        holidays.append(Holiday(name, off, work))
    orphans = tuple(d for d, n in sorted(held.workdays.items()) if not n.startswith(tuple(names)))
    if orphans:
        holidays.append(Holiday("调休", (), orphans))
    return Arrangement(held.year, tuple(holidays))


def _changes(
    book: CalendarBook,
    after_book: CalendarBook | None,
    arrangement: Arrangement,
    *,
    only_listed: bool = False,
) -> list[DayChange]:
    """Days answered differently after; ``only_listed``: just the days the arrangement names."""
    start, end = arrangement.span()
    every = (start + timedelta(days=i) for i in range((end - start).days + 1))
    listed = arrangement.days_off.keys() | arrangement.workdays.keys()
    found = []
    for d in sorted(listed) if only_listed else every:
        before = book.is_workday(d) if book.covers(d) else None
        if after_book is not None:
            after = after_book.is_workday(d)
        else:  # a library year: the notice against the library, the school's overrides kept
            after = book.is_workday(d) if book.overridden(d) else arrangement.is_workday(d)
        if before != after:
            name = arrangement.days_off.get(d) or arrangement.workdays.get(d)
            if name is None and before is False:
                name = book.holiday_name(d)  # a day the notice gives back: what it was
            found.append(DayChange(d, before, after, name or ""))
    return found


def _home_path(book: CalendarBook, year: int) -> Path:
    held = book.arrangement(year)
    if held is not None:
        return Path(held.path)
    for start in (year - 1, year):
        school_year = book.school_years.get(f"{start}-{start + 1}")
        if school_year is not None:
            return Path(school_year.path)
    raise UserError(
        f"没有包含 {year} 年的校历，请先在 {book.directory} 添加 {year - 1}-{year}.yaml / no "
        f"school-year file holds {year}: add {year - 1}-{year}.yaml to {book.directory} first"
    )


def _check_and_load(book: CalendarBook, path: Path, new_text: str) -> CalendarBook:
    """The calendar directory as it would be with new_text in path: any problem refuses it."""
    with tempfile.TemporaryDirectory(prefix="houqin-calendar-") as tmp:
        for other in Path(book.directory).glob("*.yaml"):
            shutil.copy(other, Path(tmp) / other.name)
        (Path(tmp) / path.name).write_text(new_text, encoding="utf-8")
        after = load_book(Path(tmp))
    after.directory = book.directory
    return after


def _replace(path: Path, text: str) -> None:
    """Write beside the file and rename over it: a crash leaves the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- the YAML edit ------------------------------------------------------------------------------


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout of the shipped calendar files
    yaml.width = 4096  # never fold a long source: line
    return yaml


def render(text: str, arrangement: Arrangement, status: str, source: str, comment: str) -> str:
    """The file's text with holiday_arrangements.<year> replaced (or added); the rest unchanged."""
    yaml = _yaml()
    root = yaml.load(text)
    if not isinstance(root, CommentedMap):
        raise UserError("the calendar file is not a mapping of field: value")
    year = arrangement.year
    section = root.get("holiday_arrangements")
    if not isinstance(section, CommentedMap):
        section = CommentedMap()
        at = list(root).index("overrides") if "overrides" in root else len(root)
        root.insert(at, "holiday_arrangements", section)
    old = section.get(year)
    tail = _trailing_text(old) if old is not None else ""
    section[year] = _body(arrangement, status, source, comment)
    section.ca.items.pop(year, None)  # the old entry's leading comment described the old state
    _set_trailing(section[year], tail)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def _body(arrangement: Arrangement, status: str, source: str, comment: str) -> CommentedMap:
    body = CommentedMap()
    body["status"] = status
    body["source"] = source
    days_off, workdays = CommentedSeq(), CommentedSeq()
    for h in arrangement.holidays:
        first = len(days_off)
        for start, end in _runs(h.days_off):
            entry = {"date": start} if start == end else {"start": start, "end": end}
            days_off.append(_flow({**entry, "name": h.name}))
        for d in h.workdays:
            workdays.append(_flow({"date": d, "name": h.workday_name}))
        if h.note and len(days_off) > first:  # " #": ruamel puts one more space before it
            days_off.ca.items[first] = [_comment(f" # {h.note}\n"), None, None, None]
    body["days_off"] = days_off
    body["workdays"] = workdays if workdays else _flow_seq()
    body.yaml_set_start_comment(comment, indent=4)
    return body


def _runs(ds: tuple[date, ...]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for d in sorted(ds):
        if runs and d == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _flow(values: dict[str, Any]) -> CommentedMap:
    node = CommentedMap(values)
    node.fa.set_flow_style()
    return node


def _flow_seq() -> CommentedSeq:
    node = CommentedSeq()
    node.fa.set_flow_style()
    return node


def _chain(node: Any) -> list[tuple[Any, Any]]:
    """The block containers whose last entry ends the node's text, innermost first."""
    chain: list[tuple[Any, Any]] = []
    while isinstance(node, CommentedMap | CommentedSeq) and len(node) and not node.fa.flow_style():
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        chain.append((node, key))
        node = node[key]
    return chain[::-1]


def _trailing_text(node: Any) -> str:
    """What follows the node's last line (blank lines, the next section's comment), to keep."""
    tail = ""
    for container, key in _chain(node):
        slot = container.ca.items.get(key) or []
        eol = "".join(t.value for t in slot if isinstance(t, CommentToken))
        tail += eol[eol.index("\n") + 1 :] if "\n" in eol else ""
        tail += "".join(t.value for t in container.ca.end or [] if isinstance(t, CommentToken))
    return tail


def _set_trailing(node: Any, tail: str) -> None:
    chain = _chain(node)
    if not tail or not chain:
        return
    container, key = chain[0]
    slots = container.ca.items.setdefault(key, [None, None, None, None])
    at = 0 if isinstance(container, CommentedSeq) else 2  # where ruamel keeps an end-of-line
    token = slots[at]
    if isinstance(token, CommentToken):
        token.value = token.value.rstrip("\n") + "\n" + tail
    else:
        slots[at] = _comment("\n" + tail)


def _comment(text: str) -> CommentToken:
    return CommentToken(text, CommentMark(0), None)
