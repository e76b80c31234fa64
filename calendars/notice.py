"""A State Council holiday notice read from its text, as published.

The annual notice (国务院办公厅关于YYYY年部分节假日安排的通知) lists one numbered item per holiday:
``二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日
（周六）、2月28日（周六）上班。`` A notice that changes one holiday later (关于调整2019年劳动节假期
安排的通知) or adds a day (…纪念日调休放假的通知) names it in its title and is read the same way.

Simplified or traditional characters (OpenCC converts), full- or half-width punctuation (NFKC),
周X or 星期X. Everything a notice says is checked before it is believed: every weekday it names
matches its date, every 共N天 matches its days, make-up days fall on weekends and 补休 on weekdays,
no day is both off and worked. Any doubt refuses the whole text with the line that is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import opencc

from houqin.errors import Problem, ValidationFailed

from .arrangement import Arrangement, Holiday, arrangement_start, days

HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
WEEKDAYS = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6}

_ITEM = re.compile(
    r"^\s*[一二三四五六七八九十]+、\s*(?:(?P<names>[^:\d]{1,24}?)\s*:)?\s*(?P<body>.*)$"
)
_DATE = re.compile(
    r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<note>[^()]*)\))?"
)
_PAREN = re.compile(r"\([^()]*\)")
_COUNT = re.compile(r"(?:共|放假)(\d+)天")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_NUMBER = re.compile(r"(国(?:办)?发明电)[〔\[](\d{4})[〕\]](\d+)号")
_SIGNED = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ANNUAL = re.compile(r"国务院办公厅关于(\d{4})年部分节假日安排的通知")
_INTRO = re.compile(r"现将(\d{4})年.{0,60}?放假调休日期的具体安排通知如下")
_AMENDING = (
    re.compile(r"国务院(?:办公厅)?关于调整(?P<year>\d{4})年(?P<name>.+?)假期安排的通知"),
    re.compile(r"国务院(?:办公厅)?关于(?P<name>[^,。]+?)调休放假的通知"),
    # read so that its dates are refused by line: "延长…至2月2日" does not say where it starts
    re.compile(r"国务院(?:办公厅)?关于延长(?P<year>\d{4})年(?P<name>.+?)假期的通知"),
)


@dataclass(frozen=True)
class Notice:
    path: str
    title: str
    number: str  # 文号 such as 国办发明电〔2025〕7号; "" when the text does not give it
    issued: date | None  # the date it is signed
    year: int
    arrangement: Arrangement
    amends: bool  # True: it changes only the holidays it names (an adjustment), not the year

    @property
    def source(self) -> str:
        """The notice as the calendar file's ``source:`` names it: title, number, date."""
        parts = [self.number, self.issued.isoformat() if self.issued else ""]
        detail = "，".join(p for p in parts if p)
        return f"{self.title}（{detail}）" if detail else self.title


@dataclass
class _Line:
    number: int
    original: str
    text: str  # simplified, NFKC-normalised, without spaces


@dataclass
class _Reader:
    path: str
    year: int
    problems: list[Problem] = field(default_factory=list)

    def fail(self, line: _Line, message: str) -> None:
        quoted = line.original.strip()
        quoted = quoted if len(quoted) <= 60 else quoted[:57] + "…"
        self.problems.append(Problem(self.path, line.number, "", f"{message}: 「{quoted}」"))


def parse_notice(text: str, path: str = "<notice>") -> Notice:
    """The year, days off and make-up workdays of a notice; ValidationFailed names bad lines."""
    lines = [_Line(i, raw, _normalise(raw)) for i, raw in enumerate(text.splitlines(), 1)]
    joined = "".join(line.text for line in lines)
    title, year, amended = _kind(joined)
    if year is None:
        raise ValidationFailed(
            [
                Problem(
                    path,
                    None,
                    "",
                    "不是国务院放假安排通知 / not a State Council holiday notice: found neither a "
                    "title such as 国务院办公厅关于2027年部分节假日安排的通知 nor the line "
                    "现将2027年…放假调休日期的具体安排通知如下",
                )
            ]
        )
    reader = _Reader(path, year)
    holidays = _holidays(reader, lines, amended)
    if not holidays and not reader.problems:
        reader.problems.append(
            Problem(path, None, "", "没有找到放假安排 / no holiday with dates found in the notice")
        )
    _cross_check(reader, holidays, lines)
    named = {n for h in holidays for n in h.name.split("、")}
    missing = [n for n in HOLIDAYS if n not in named]
    if amended is None and holidays and missing:
        reader.problems.append(
            Problem(
                path,
                None,
                "",
                f"通知中没有{'、'.join(missing)}，文本是否不完整？/ the notice names no "
                f"{'、'.join(missing)}: is the text complete?",
            )
        )
    if reader.problems:
        raise ValidationFailed(reader.problems)
    number = _NUMBER.search(joined)
    return Notice(
        path=path,
        title=title,
        number=f"{number[1]}〔{number[2]}〕{number[3]}号" if number else "",
        issued=_signed(lines),
        year=year,
        arrangement=Arrangement(year, tuple(holidays)),
        amends=amended is not None,
    )


def _normalise(raw: str) -> str:
    simplified = unicodedata.normalize("NFKC", _converter().convert(raw))
    return re.sub(r"\s+", "", simplified)


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _kind(joined: str) -> tuple[str, int | None, str | None]:
    """(title, year, the holiday an amending notice names or None for the annual notice)."""
    annual = _ANNUAL.search(joined)
    intro = _INTRO.search(joined)
    if annual or intro:
        year = int((annual or intro)[1])  # type: ignore[index]
        return f"国务院办公厅关于{year}年部分节假日安排的通知", year, None
    for pattern in _AMENDING:
        found = pattern.search(joined)
        if found:
            year_text = found.groupdict().get("year") or _first_year(joined)
            return found[0], int(year_text) if year_text else None, found["name"]
    return "", None, None


def _first_year(joined: str) -> str | None:
    found = re.search(r"(\d{4})年\d{1,2}月\d{1,2}日", joined)
    return found[1] if found else None


def _holidays(reader: _Reader, lines: list[_Line], amended: str | None) -> list[Holiday]:
    """Annual notice: its numbered holiday items. Amending notice: every dated line it has."""
    found: list[Holiday] = []
    for line in lines:
        item = _ITEM.match(line.text)
        if amended is None:
            if item is None or not _DATE.search(_PAREN.sub("", item["body"])):
                continue
            if not item["names"]:
                reader.fail(line, "日期前没有节日名称 / no holiday named before the dates")
                continue
            names = item["names"].split("、")
            unknown = [n for n in names if n not in HOLIDAYS]
            if unknown:
                reader.fail(line, f"未知的节日 / unknown holiday {'、'.join(unknown)}")
                continue
            holiday = _read_days(reader, line, "、".join(names), item["body"])
        else:
            body = item["body"] if item else line.text
            if _SIGNED.match(line.text) or not _DATE.search(_PAREN.sub("", body)):
                continue
            holiday = _read_days(reader, line, amended, body)
        if holiday is not None:
            found.append(holiday)
    if amended is not None and found:
        # an amending notice names its holiday once, over several lines: one holiday
        off = sorted({d for h in found for d in h.days_off})
        work = sorted({d for h in found for d in h.workdays})
        return [Holiday(amended, tuple(off), tuple(work), line=found[0].line)]
    return found


def _read_days(reader: _Reader, line: _Line, name: str, body: str) -> Holiday | None:
    off: list[date] = []
    work: list[date] = []
    before = len(reader.problems)
    for sentence in _split(body, "。"):
        counted: list[date] = []
        count: int | None = None
        for clause in _split(sentence, ",;:"):
            bare = _PAREN.sub("", clause)
            found = _COUNT.search(bare)
            if found:
                count = int(found[1])
            dates = _dates(reader, line, clause)
            if dates is None or not dates:
                continue
            if "上班" in bare:
                weekdays = [d for d in dates if d.weekday() < 5]
                if weekdays:
                    reader.fail(
                        line,
                        f"{_say(weekdays)} 是工作日，调休上班日应在周末 / a make-up "
                        f"working day falls on a weekend, {weekdays[0]} is a weekday",
                    )
                work += dates
            elif "补休" in bare and "放假" not in bare:
                weekend = [d for d in dates if d.weekday() >= 5]
                if weekend:
                    reader.fail(
                        line,
                        f"{_say(weekend)} 是周末，补休应在工作日 / a 补休 day "
                        f"falls on a weekday, {weekend[0]} is a weekend day",
                    )
                off += dates
            elif "放假" in bare or "调休" in bare:
                off += dates
                counted += dates
            else:
                reader.fail(
                    line,
                    "看不出这些日期是放假还是上班 / cannot tell whether these "
                    "days are off or worked",
                )
        if count is not None and counted and len(set(counted)) != count:
            reader.fail(
                line,
                f"共{count}天，但所列日期 {_say(counted)} 是 {len(set(counted))} 天 / "
                f"says {count} days but lists {len(set(counted))}",
            )
    both = sorted(set(off) & set(work))
    if both:
        reader.fail(line, f"{_say(both)} 既放假又上班 / listed both as a day off and as worked")
    if work and "不调休" in body:
        reader.fail(line, "写明不调休却列出上班日 / says 不调休 but lists make-up working days")
    if len(reader.problems) > before:
        return None
    return Holiday(name, tuple(sorted(set(off))), tuple(sorted(set(work))), line=line.number)


def _dates(reader: _Reader, line: _Line, clause: str) -> list[date] | None:
    """Dates outside parentheses; ``A至B`` is every day from A to B. None after a problem."""
    inside = [m.span() for m in _PAREN.finditer(clause)]
    out: list[date] = []
    year, month = reader.year, None
    previous: tuple[date, int] | None = None  # the last date and where it ended
    for m in _DATE.finditer(clause):
        if any(a < m.start() < b for a, b in inside):
            continue  # 除夕（2月9日）: a date named in passing, not a day of the arrangement
        year = int(m["y"]) if m["y"] else year
        month = int(m["m"]) if m["m"] else month
        if month is None:
            reader.fail(line, f"{m[0]} 缺少月份 / no month for {m[0]}")
            return None
        try:
            day = date(year, month, int(m["d"]))
        except ValueError:
            reader.fail(line, f"{m[0]} 不是有效日期 / {m[0]} is not a date")
            return None
        note = m["note"] or ""
        said = _WEEKDAY.search(note)
        if said and WEEKDAYS[said[1]] != day.weekday():
            reader.fail(
                line, f"{_md(day)} 是{_weekday(day)}，不是{said[0]} / {day} is not {said[0]}"
            )
            return None
        low, high = arrangement_start(reader.year), date(reader.year, 12, 31)
        if not low <= day <= high:
            reader.fail(
                line, f"{day} 不在 {reader.year} 年的安排之内 / {day} lies outside {low}..{high}"
            )
            return None
        if previous and _PAREN.sub("", clause[previous[1] : m.start()]) in ("至", "-", "~", "—"):
            if day <= previous[0]:
                reader.fail(line, f"{previous[0]} 至 {day} 不是一个时间段 / not a range")
                return None
            out += days(previous[0] + timedelta(days=1), day)
        else:
            out.append(day)
        previous = (day, m.end())
    return out


def _cross_check(reader: _Reader, holidays: list[Holiday], lines: list[_Line]) -> None:
    """No holiday twice, no day in two holidays, nothing both off and worked across items."""
    by_line = {line.number: line for line in lines}
    seen_names: set[str] = set()
    off: dict[date, str] = {}
    work: dict[date, str] = {}
    for h in holidays:
        line = by_line[h.line or 0] if h.line in by_line else lines[0]
        for name in h.name.split("、"):
            if name in seen_names:
                reader.fail(line, f"{name} 出现了两次 / {name} is given twice")
            seen_names.add(name)
        for d in h.days_off:
            if d in off or d in work:
                reader.fail(line, f"{d} 已在{off.get(d) or work.get(d)}中列出 / {d} listed twice")
            off[d] = h.name
        for d in h.workdays:
            if d in off or d in work:
                reader.fail(line, f"{d} 已在{off.get(d) or work.get(d)}中列出 / {d} listed twice")
            work[d] = h.name


def _split(text: str, marks: str) -> list[str]:
    """Split at marks outside parentheses: （农历正月初九，星期日） stays one note."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch in marks and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p]


def _signed(lines: list[_Line]) -> date | None:
    for line in reversed(lines):
        found = _SIGNED.match(line.text)
        if found:
            try:
                return date(int(found[1]), int(found[2]), int(found[3]))
            except ValueError:
                return None
    return None


def _say(ds: list[date]) -> str:
    return "、".join(_md(d) for d in sorted(set(ds)))


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _weekday(d: date) -> str:
    return "周" + "一二三四五六日"[d.weekday()]
