"""One school year's calendar file: its anchors, holiday arrangements and per-date overrides.

The file is read from YAML *nodes* (``houqin.yaml_reader``, as every file a user writes), so that
every problem names its line, and so that a bad date such as 2027-02-30 is reported instead of
crashing the YAML loader.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import date

from yaml.nodes import Node, ScalarNode, SequenceNode

from houqin.errors import NotFound, Problem, UserError, ValidationFailed
from houqin.yaml_reader import NodeReader, compose

from .arrangement import arrangement_start

DEFAULT_TIMEZONE = "Asia/Shanghai"
FILE_NAME = re.compile(r"^(\d{4})-(\d{4})\.yaml$")

# section -> {entry: anchor prefix}; an anchor is "<prefix>.start" or "<prefix>.end"
SECTIONS: dict[str, dict[str, str]] = {
    "terms": {"autumn": "autumn_term", "spring": "spring_term"},
    "breaks": {"winter": "winter_break", "summer": "summer_break"},
    "exams": {
        "autumn_finals": "autumn_finals",
        "spring_finals": "spring_finals",
        "gaokao": "gaokao",
        "zhongkao": "zhongkao",
    },
    "campaigns": {"safety_month": "safety_month", "quality_month": "quality_month"},
}
REQUIRED_SECTIONS = ("terms", "breaks")  # a primary school may have no gaokao, never no term
TOP_FIELDS = ("school_year", "timezone", *SECTIONS, "holiday_arrangements", "overrides")
TERM_PREFIX = {1: "autumn_term", 2: "spring_term"}
TERM_FINALS = {1: "autumn_finals", 2: "spring_finals"}
STATUSES = ("provisional", "official")


@dataclass(frozen=True)
class HolidayArrangement:
    """A year's days off and 调休 make-up workdays, for a year the library does not cover."""

    year: int
    status: str
    source: str
    days_off: dict[date, str]
    workdays: dict[date, str]
    path: str
    line: int


@dataclass(frozen=True)
class SchoolYear:
    """A school year (Aug 1 of start_year .. Aug 31 of the next) and its named dates."""

    key: str
    start_year: int
    path: str
    timezone: str
    anchors: dict[str, date]
    days_off: dict[date, str] = field(default_factory=dict, repr=False)
    workdays: dict[date, str] = field(default_factory=dict, repr=False)
    holiday_arrangements: dict[int, HolidayArrangement] = field(default_factory=dict, repr=False)

    @property
    def first_day(self) -> date:
        return date(self.start_year, 8, 1)

    @property
    def last_day(self) -> date:
        return date(self.start_year + 1, 8, 31)

    def anchor(self, name: str, term: int | None = None) -> date:
        """The date an anchor names; ``term.*`` anchors resolve to term 1 (autumn) or 2 (spring)."""
        if name.startswith("term."):
            if term not in TERM_PREFIX:
                raise UserError(
                    f"{name} 需要指定学期（1 秋季 / 2 春季）/ {name} needs term 1 (autumn) or "
                    f"2 (spring): use it in a plan whose period is autumn_term or spring_term"
                )
            part = name.removeprefix("term.")
            resolved = {
                "start": f"{TERM_PREFIX[term]}.start",
                "end": f"{TERM_PREFIX[term]}.end",
                "finals": f"{TERM_FINALS[term]}.start",
            }.get(part)
            if resolved is None:
                raise NotFound(f"unknown anchor {name!r} (term.start, term.end, term.finals)")
            name = resolved
        if name not in self.anchors:
            known = ", ".join(sorted(self.anchors))
            raise NotFound(f"{self.path}: 没有锚点 / no anchor {name!r} (has: {known})")
        return self.anchors[name]

    def date_in_period(self, month: int, day: int) -> date:
        """``MM-DD`` within the school year: months 9-12 fall in start_year, 1-8 in the next."""
        if not 1 <= month <= 12:
            raise ValueError(f"month {month} is not 1-12")
        return date(self.start_year if month >= 9 else self.start_year + 1, month, day)

    def term_range(self, term: int) -> tuple[date, date]:
        prefix = TERM_PREFIX.get(term)
        if prefix is None:
            raise UserError(f"term must be 1 (autumn) or 2 (spring), not {term!r}")
        return self.anchor(f"{prefix}.start"), self.anchor(f"{prefix}.end")


def read_school_year(path: str, text: str) -> tuple[SchoolYear | None, list[Problem]]:
    """Parse one calendar file; returns the school year only when the file has no problem."""
    reader = _Reader(path)
    match = FILE_NAME.match(path.replace("\\", "/").rsplit("/", 1)[-1])
    if match is None:
        return None, [Problem(path, None, "", "file name must be YYYY-YYYY.yaml")]
    first, second = int(match[1]), int(match[2])
    if second != first + 1:
        return None, [Problem(path, None, "", f"{first}-{second}: years must be consecutive")]
    try:
        root = compose(text, path)
    except ValidationFailed as exc:
        return None, exc.problems
    year = reader.read(root, first)
    return (year if not reader.problems else None), reader.problems


class _Reader(NodeReader):
    """Walks the YAML node tree, collecting every problem rather than stopping at the first."""

    def read(self, root: Node, first: int) -> SchoolYear | None:
        top = self.fields(root, "", TOP_FIELDS, ("school_year", *REQUIRED_SECTIONS))
        if top is None:
            return None
        key = f"{first}-{first + 1}"
        if "school_year" in top and self.text(top["school_year"], "school_year") != key:
            self.fail(top["school_year"], "school_year", f"must be {key!r}, as the file name says")
        timezone = DEFAULT_TIMEZONE
        if "timezone" in top:
            timezone = self.text(top["timezone"], "timezone") or DEFAULT_TIMEZONE
            try:
                zoneinfo.ZoneInfo(timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.fail(top["timezone"], "timezone", f"unknown time zone {timezone!r}")
        bounds = (date(first, 8, 1), date(first + 1, 8, 31))
        anchors = self.anchors(top, bounds)
        arrangements = self.arrangements(top.get("holiday_arrangements"), first)
        off, work = self.overrides(top.get("overrides"), bounds)
        return SchoolYear(key, first, self.file, timezone, anchors, off, work, arrangements)

    def anchors(self, top: dict[str, Node], bounds: tuple[date, date]) -> dict[str, date]:
        anchors: dict[str, date] = {}
        nodes: dict[str, Node] = {}
        for section, entries in SECTIONS.items():
            body = self.fields(top[section], section, entries) if section in top else None
            for entry, node in (body or {}).items():
                where = f"{section}.{entry}"
                fields = self.fields(node, where, ("start", "end"), ("start", "end"))
                span = self.span(fields or {}, where, bounds)
                if span is not None:
                    name = entries[entry]
                    anchors[f"{name}.start"], anchors[f"{name}.end"] = span
                    nodes[name] = node
        pairs = [
            (t, b) for t in ("autumn_term", "spring_term") for b in ("winter_break", "summer_break")
        ]
        for first, second in [*pairs, ("autumn_term", "spring_term")]:
            if first in nodes and second in nodes and _overlap(anchors, first, second):
                self.fail(nodes[second], _field(second), f"overlaps {_field(first)}")
        return anchors

    def span(
        self, fields: dict[str, Node], where: str, bounds: tuple[date, date]
    ) -> tuple[date, date] | None:
        """start..end from already-read fields, each inside bounds, end not before start."""
        if "start" not in fields or "end" not in fields:
            return None
        values = []
        for part in ("start", "end"):
            value = self.date(fields[part], f"{where}.{part}")
            if value is not None and not bounds[0] <= value <= bounds[1]:
                self.fail(
                    fields[part],
                    f"{where}.{part}",
                    f"{value} lies outside {bounds[0]}..{bounds[1]}",
                )
                value = None
            values.append(value)
        start, end = values
        if start is None or end is None:
            return None
        if end < start:
            self.fail(fields["end"], f"{where}.end", f"end {end} is before start {start}")
            return None
        return start, end

    def arrangements(self, node: Node | None, first: int) -> dict[int, HolidayArrangement]:
        found: dict[int, HolidayArrangement] = {}
        if node is None:
            return found
        fields = ("status", "source", "days_off", "workdays")
        for key, body_node in self.entries(node, "holiday_arrangements"):
            where = f"holiday_arrangements.{key}"
            if not key.isdigit() or int(key) not in (first, first + 1):
                self.fail(body_node, where, f"the year must be {first} or {first + 1}")
                continue
            body = self.fields(body_node, where, fields, ("status",))
            if body is None:
                continue
            year, line = int(key), _key_line(node, key)
            status = self.text(body.get("status"), f"{where}.status")
            if status is not None and status not in STATUSES:
                self.fail(body["status"], f"{where}.status", "must be provisional or official")
            source = self.text(body.get("source"), f"{where}.source")
            if status == "official" and not source:
                self.problems.append(
                    Problem(
                        self.file,
                        line,
                        f"{where}.source",
                        "an official arrangement needs its source (the notice's number)",
                    )
                )
            bounds = (
                arrangement_start(year),
                date(year, 12, 31),
            )  # a 元旦 break may start in December
            off = self.dated(body.get("days_off"), f"{where}.days_off", bounds, spans=True)
            work = self.dated(body.get("workdays"), f"{where}.workdays", bounds, spans=False)
            self.clash(body.get("workdays"), f"{where}.workdays", off, work)
            found[year] = HolidayArrangement(
                year, status or "provisional", source or "", off, work, self.file, line
            )
        return found

    def overrides(
        self, node: Node | None, bounds: tuple[date, date]
    ) -> tuple[dict[date, str], dict[date, str]]:
        if node is None:
            return {}, {}
        body = self.fields(node, "overrides", ("days_off", "workdays")) or {}
        off = self.dated(body.get("days_off"), "overrides.days_off", bounds, spans=True)
        work = self.dated(body.get("workdays"), "overrides.workdays", bounds, spans=False)
        self.clash(body.get("workdays"), "overrides.workdays", off, work)
        return off, work

    def clash(
        self, node: Node | None, where: str, off: dict[date, str], work: dict[date, str]
    ) -> None:
        both = sorted(set(off) & set(work))
        if node is not None and both:
            listed = ", ".join(str(d) for d in both)
            self.fail(node, where, f"{listed} listed both as a day off and as a working day")

    def dated(
        self, node: Node | None, where: str, bounds: tuple[date, date], *, spans: bool
    ) -> dict[date, str]:
        """A list of {date, name} (or, for days off, {start, end, name}) as date -> name."""
        out: dict[date, str] = {}
        if node is None:
            return out
        if not isinstance(node, SequenceNode):
            self.fail(node, where, "must be a list of {date, name} entries")
            return out
        allowed = ("date", "start", "end", "name") if spans else ("date", "name")
        for i, item in enumerate(node.value):
            at = f"{where}[{i}]"
            body = self.fields(item, at, allowed, ("name",))
            if body is None:
                continue
            name = self.text(body.get("name"), f"{at}.name") or ""
            days: list[date] = []
            if "date" in body and ("start" in body or "end" in body):
                self.fail(item, at, "give either date or start and end, not both")
            elif "date" in body:
                one = self.date(body["date"], f"{at}.date")
                if one is not None and not bounds[0] <= one <= bounds[1]:
                    self.fail(
                        body["date"], f"{at}.date", f"{one} lies outside {bounds[0]}..{bounds[1]}"
                    )
                elif one is not None:
                    days = [one]
            elif spans and ("start" in body or "end" in body):
                for part in ("start", "end"):
                    if part not in body:
                        self.fail(item, f"{at}.{part}", "missing required field")
                span = self.span(body, at, bounds)
                days = [] if span is None else _days(*span)
            else:
                self.fail(item, f"{at}.date", "missing required field")
            for day in days:
                # Two names on one day (2028: 中秋 falls on 国庆) are joined, not an error.
                if day in out and name not in out[day].split("、"):
                    out[day] = f"{out[day]}、{name}"
                else:
                    out.setdefault(day, name)
        return out

    def date(self, node: Node, where: str) -> date | None:
        raw = str(node.value) if isinstance(node, ScalarNode) else ""
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass
        self.fail(node, where, f"{raw or 'this value'} is not a valid date (YYYY-MM-DD)")
        return None


def _key_line(node: Node, key: str) -> int:
    """The line of a mapping's key: where a reader looks for a whole entry."""
    return int(next(k.start_mark.line + 1 for k, _ in node.value if str(k.value) == key))


def _days(start: date, end: date) -> list[date]:
    return [date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1)]


def _overlap(anchors: dict[str, date], a: str, b: str) -> bool:
    return (
        anchors[f"{a}.start"] <= anchors[f"{b}.end"]
        and anchors[f"{b}.start"] <= anchors[f"{a}.end"]
    )


def _field(prefix: str) -> str:
    """'winter_break' -> 'breaks.winter', the field as the file spells it."""
    for section, entries in SECTIONS.items():
        for entry, name in entries.items():
            if name == prefix:
                return f"{section}.{entry}"
    return prefix
