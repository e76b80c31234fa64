"""Chinese working days (节假日 + 调休) across school years, and the book of calendar files.

For a date the first source that speaks wins: the school's own overrides; then the days a
calendar file's holiday arrangement lists (a year after the library's, or the December a later
notice reaches into); then chinese-calendar for the years it has official data for; then, for a
year no file arranges, the days predicted from the 2025 principles (calendars/prediction.py);
then plain weekends. Official data ends at the library's newest year, so a later year is
*provisional* (暂定) until a file enters its State Council notice with ``status: official``.

A date no school-year file and no library year covers has no answer: ``OutsideCalendars`` names
the file to add, rather than a guessed Monday-to-Friday week.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
from chinese_calendar.constants import Holiday

from houqin.bilingual import Bilingual
from houqin.errors import NotFound, Problem, SetupError, ValidationFailed
from houqin.text_files import read_text

from .arrangement import Arrangement
from .prediction import predict
from .school_year import FILE_NAME, HolidayArrangement, SchoolYear, read_school_year

DEFAULT_DIR = Path(__file__).resolve().parent
MAX_GAP_DAYS = 60  # longest run of days off we accept before calling the calendar broken

# chinese-calendar names holidays in English only.
_LIBRARY_NAMES = {
    Holiday.new_years_day.value: "元旦",
    Holiday.spring_festival.value: "春节",
    Holiday.tomb_sweeping_day.value: "清明节",
    Holiday.labour_day.value: "劳动节",
    Holiday.dragon_boat_festival.value: "端午节",
    Holiday.national_day.value: "国庆节",
    Holiday.mid_autumn_festival.value: "中秋节",
    Holiday.anti_fascist_70th_day.value: "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def library_years() -> frozenset[int]:
    """Years chinese-calendar has official holidays and 调休 for; it raises for any other."""
    return frozenset(d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays))


class OutsideCalendars(SetupError):
    """A date no calendar file covers: working days there would only be a guess."""

    def __init__(self, day: date, directory: str):
        start = day.year if day.month >= 9 else day.year - 1
        self.day, self.file_name = day, f"{start}-{start + 1}.yaml"
        super().__init__(
            Bilingual(
                f"{day} 不在任何校历之内，请在 {directory} 添加 {self.file_name}",
                f"{day} lies outside every school calendar: add {self.file_name} to {directory} "
                "(terms, breaks, holidays)",
            )
        )


@dataclass(frozen=True)
class CalendarIssue:
    """A finding of ``check()``; the message is bilingual, Chinese first."""

    level: str  # "warning" | "info"
    year: int | None
    message: str


class CalendarBook:
    """All school years of a calendars directory, and working-day arithmetic over them."""

    def __init__(self, school_years: Iterable[SchoolYear], directory: Path | str = DEFAULT_DIR):
        self.directory = str(directory)
        self.school_years: dict[str, SchoolYear] = {y.key: y for y in school_years}
        self._library = library_years()
        self._days_off: dict[date, str] = {}
        self._workdays: dict[date, str] = {}
        self._arrangements: dict[int, HolidayArrangement] = {}
        for year in self.school_years.values():
            self._days_off.update(year.days_off)
            self._workdays.update(year.workdays)
            self._arrangements.update(year.holiday_arrangements)
        # date -> (working?, name): the files' arrangements first, then predictions for the
        # years a school year touches that neither a file nor the library arranges
        self._national: dict[date, tuple[bool, str]] = {}
        for arrangement in self._arrangements.values():
            self._enter(arrangement.days_off, arrangement.workdays)
        self.predictions: dict[int, Arrangement] = {y: predict(y) for y in self._predicted_years()}
        for prediction in self.predictions.values():
            self._enter(prediction.days_off, prediction.workdays)

    def _enter(self, days_off: dict[date, str], workdays: dict[date, str]) -> None:
        for d, name in days_off.items():
            self._national.setdefault(d, (False, name))
        for d, name in workdays.items():
            self._national.setdefault(d, (True, name))

    def _predicted_years(self) -> list[int]:
        touched = {
            y for sy in self.school_years.values() for y in (sy.start_year, sy.start_year + 1)
        }
        return sorted(touched - set(self._arrangements) - self._library)

    def arrangement(self, year: int) -> HolidayArrangement | None:
        """The holiday arrangement a file holds for year, if any."""
        return self._arrangements.get(year)

    def overridden(self, d: date) -> bool:
        """Whether the school's own overrides decide d."""
        d = _as_date(d)
        return d in self._days_off or d in self._workdays

    def covers(self, d: date) -> bool:
        """Whether a file or the library speaks for d (its school year, or its year's holidays)."""
        d = _as_date(d)
        if d.year in self._library or d.year in self._arrangements or d.year in self.predictions:
            return True
        return any(y.first_day <= d <= y.last_day for y in self.school_years.values())

    # -- school years ---------------------------------------------------------------------------

    def school_year(self, key: str) -> SchoolYear:
        if key not in self.school_years:
            have = ", ".join(sorted(self.school_years)) or "none"
            raise NotFound(
                f"no school calendar for {key} in {self.directory} (have: {have}); "
                f"add {key}.yaml there / 缺少 {key} 学年校历"
            )
        return self.school_years[key]

    def school_year_of(self, d: date) -> SchoolYear:
        """The school year holding d; an August date belongs to the year whose summer it ends."""
        d = _as_date(d)
        for start in (d.year if d.month >= 9 else d.year - 1, d.year):
            year = self.school_years.get(f"{start}-{start + 1}")
            if year is not None and year.first_day <= d <= year.last_day:
                return year
        raise NotFound(f"no school calendar in {self.directory} holds {d} / 没有包含 {d} 的校历")

    # -- working days ---------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        """Raises OutsideCalendars for a date no file covers (see the module doc)."""
        d = _as_date(d)
        if d in self._days_off:
            return False
        if d in self._workdays:
            return True
        if d in self._national:
            return self._national[d][0]
        if d.year in self._library:
            return bool(chinese_calendar.is_workday(d))
        if not self.covers(d):
            raise OutsideCalendars(d, self.directory)
        return d.weekday() < 5

    def add_workdays(self, d: date, n: int) -> date:
        """n > 0: the n-th working day after d; n < 0: before; 0: d itself or the next one."""
        d = _as_date(d)
        if n == 0:
            return d if self.is_workday(d) else self._step(d, 1)
        step = 1 if n > 0 else -1
        for _ in range(abs(n)):
            d = self._step(d, step)
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.workdays_between(end, start)
        days = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
        return sum(1 for day in days if self.is_workday(day))

    def last_workday_of_month(self, year: int, month: int) -> date:
        first_next = date(year + month // 12, month % 12 + 1, 1)
        return self._step(first_next, -1)

    def _step(self, d: date, step: int) -> date:
        for i in range(1, MAX_GAP_DAYS + 1):
            candidate = d + timedelta(days=step * i)
            if self.is_workday(candidate):
                return candidate
        raise ValueError(
            f"no working day within {MAX_GAP_DAYS} days {'after' if step > 0 else 'before'} {d}: "
            f"check the days_off in {self.directory}"
        )

    def holiday_name(self, d: date) -> str | None:
        """The Chinese name of the holiday (or school day off) d falls in; None on working days."""
        d = _as_date(d)
        if d in self._days_off:
            return self._days_off[d]
        if self.is_workday(d):
            return None
        if d in self._national:
            return self._national[d][1]
        if d.year in self._library:
            on_holiday, name = chinese_calendar.get_holiday_detail(d)
            return _LIBRARY_NAMES.get(name, name) if on_holiday and name else None
        return None

    def basis(self, d: date) -> str:
        """What d's answer rests on, for a person checking it: a file, the library, a guess."""
        d = _as_date(d)
        if d in self._days_off or d in self._workdays:
            return "学校自定 / the school's overrides"
        arrangement = self._arrangements.get(d.year)
        listed = d in self._national
        if arrangement is not None and (listed or d.year not in self._library):
            state = "正式" if arrangement.status == "official" else "暂定"
            return f"{state}：{arrangement.source}（{arrangement.path}）"
        if d.year in self._library and not listed:
            return "正式：chinese-calendar 官方数据 / official data of chinese-calendar"
        prediction = self.predictions.get(d.year) or self.predictions.get(d.year + 1)
        if listed and prediction is not None:
            note = next(h.note for h in prediction.holidays if d in h.days_off or d in h.workdays)
            return f"{note}（按2025年原则推算 / predicted from the 2025 principles）"
        if not self.covers(d):
            raise OutsideCalendars(d, self.directory)
        return "暂定：周一至周五上班 / provisional: Monday to Friday"

    # -- provisional years ----------------------------------------------------------------------

    def is_provisional(self, d: date) -> bool:
        """True when d's year rests on guessed holidays: no library data, no official notice."""
        year = _as_date(d).year
        if year in self._library:
            return False
        arrangement = self._arrangements.get(year)
        return arrangement is None or arrangement.status != "official"

    def is_provisional_span(self, start: date, end: date) -> bool:
        """True when any year from start to end is provisional (a count crossing New Year)."""
        lo, hi = sorted((_as_date(start).year, _as_date(end).year))
        return any(self.is_provisional(date(y, 1, 1)) for y in range(lo, hi + 1))

    def provisional_years(self) -> list[int]:
        years = {y for sy in self.school_years.values() for y in (sy.start_year, sy.start_year + 1)}
        years |= set(self._arrangements)
        return sorted(y for y in years if self.is_provisional(date(y, 1, 1)))

    def check(self) -> list[CalendarIssue]:
        """What a logistics head must still enter, and what the data rests on."""
        issues = [self._provisional_issue(year) for year in self.provisional_years()]
        if self._library:
            span = f"{min(self._library)}–{max(self._library)}"
            zh = f"chinese-calendar 提供 {span} 年的法定节假日与调休官方数据"
            en = f"chinese-calendar has the official holidays and make-up workdays for {span}"
            issues.append(CalendarIssue("info", None, f"{zh} / {en}"))
        for year, arrangement in sorted(self._arrangements.items()):
            if arrangement.status == "official":
                source, path = arrangement.source, arrangement.path
                zh = f"{year} 年放假安排已按正式通知（{source}）录入 {path}"
                en = f"{year}'s official arrangement ({source}) is in {path}"
                issues.append(CalendarIssue("info", year, f"{zh} / {en}"))
        return issues

    def _provisional_issue(self, year: int) -> CalendarIssue:
        arrangement = self._arrangements.get(year)
        if arrangement is not None:
            where, state_zh, state_en = arrangement.path, "为推算值（暂定）", "is provisional"
        else:
            where = self._home_file(year)
            state_zh, state_en = (
                "未写入校历，按2025年原则推算（暂定）",
                "is predicted (not in a file)",
            )
        field = f"holiday_arrangements.{year}"
        zh = (
            f"{year} 年放假安排{state_zh}：国务院办公厅通知发布后，请在 {where} 的 {field} 中"
            f"录入通知：houqin calendar notice 通知文件 --preview 核对，再去掉 --preview 写入"
            f"（status: official、source: 通知标题、文号、日期）"
        )
        en = (
            f"{year}'s holiday arrangement {state_en}: once the State Council (国务院办公厅) "
            f"notice is out, enter its days_off and workdays under {field} in {where} with "
            f"houqin calendar notice FILE (first with --preview), which sets status: official "
            f"and source: the notice's title, number and date"
        )
        return CalendarIssue("warning", year, f"{zh} / {en}")

    def _home_file(self, year: int) -> str:
        """The file a year's arrangement belongs in: the school year whose spring it holds."""
        for start in (year - 1, year):
            school_year = self.school_years.get(f"{start}-{start + 1}")
            if school_year is not None:
                return school_year.path
        return str(Path(self.directory) / f"{year - 1}-{year}.yaml")


def load_book(directory: Path | None = None) -> CalendarBook:
    """Read every YYYY-YYYY.yaml in directory; any problem in any file rejects them all."""
    directory = DEFAULT_DIR if directory is None else Path(directory)
    if not directory.is_dir():
        raise NotFound(f"no calendars directory {directory}")
    problems: list[Problem] = []
    years: list[SchoolYear] = []
    for path in sorted(directory.glob("*.yaml")):
        if not FILE_NAME.match(path.name):
            continue  # other YAML (a school's notes) is not a calendar file
        try:
            text = read_text(path)
        except ValidationFailed as exc:
            problems += exc.problems
            continue
        school_year, found = read_school_year(str(path), text)
        problems += found
        if school_year is not None:
            years.append(school_year)
    problems += _cross_file_problems(years)
    if problems:
        raise ValidationFailed(problems)
    return CalendarBook(years, directory)


def book_stamp(directory: Path | None = None) -> tuple[tuple[str, int, int, int], ...]:
    """What changes when a calendar file is added, removed or rewritten (name, inode, size,
    modification time): a few ``stat`` calls, cheap enough to check before each use of a book
    kept in memory (the web's workers), so a notice entered elsewhere is seen at once."""
    directory = DEFAULT_DIR if directory is None else Path(directory)
    stamp = []
    for path in sorted(directory.glob("*.yaml")):
        if FILE_NAME.match(path.name):
            try:
                st = path.stat()
            except OSError:  # removed meanwhile: the stamp differs anyway
                continue
            stamp.append((path.name, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(stamp)


def _cross_file_problems(years: list[SchoolYear]) -> list[Problem]:
    """Arrangements the library already covers, or given twice, and overrides that disagree."""
    problems: list[Problem] = []
    covered = library_years()
    seen: dict[int, HolidayArrangement] = {}
    off: dict[date, str] = {}
    for school_year in years:
        for year, arr in sorted(school_year.holiday_arrangements.items()):
            if year in covered:
                message = (
                    f"chinese-calendar already has {year}'s official holidays and make-up "
                    f"workdays; put the school's own changes under overrides instead"
                )
            elif year in seen:
                first = seen[year]
                message = f"already given in {first.path}:{first.line}; one year, one file"
            else:
                seen[year] = arr
                continue
            problems.append(Problem(arr.path, arr.line, f"holiday_arrangements.{year}", message))
        off.update(dict.fromkeys(school_year.days_off, school_year.path))
    # Only August is in two school years, so only there can two files disagree on a day.
    for school_year in years:
        path = school_year.path
        for d in sorted(d for d in school_year.workdays if off.get(d, path) != path):
            message = f"{d} is a working day here but a day off in {off[d]}"
            problems.append(Problem(path, None, "overrides.workdays", message))
    return problems


def _as_date(d: date) -> date:
    """Accept datetime.date and pendulum.Date; refuse instants, whose day depends on a zone."""
    if isinstance(d, datetime):
        raise TypeError(
            f"expected a date, got the instant {d!r}: convert it to Asia/Shanghai first"
        )
    return date(d.year, d.month, d.day)
