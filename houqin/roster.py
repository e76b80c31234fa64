"""Roster files: a school's staff (and, in YAML, the school's own settings), read and checked.

A roster comes as CSV (often saved by Chinese Excel as GBK) or YAML; both are opened by
``houqin.text_files`` and YAML is read by ``houqin.yaml_reader``, so encodings, unknown and
repeated fields and nulls behave as in every other file a user writes. The school's settings
(time zone, quiet hours, channels) are checked here, where each value's line is known: a roster
whose school cannot be reached is refused before anything is written. Checks that need the
ledger (supervisors, role holders) are ``houqin.people``'s.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from houqin.due_rules import DueRuleError, parse_time
from houqin.errors import NotFound, Problem, ValidationFailed
from houqin.school_profiles import FACTS, KINDS, hint, lookup
from houqin.text_files import read_text
from houqin.yaml_reader import Node, NodeReader, join, line, plain, read_yaml, suggest
from notifications.channels import CHANNELS, ChannelConfigError, get_channel

CHANNEL_FIELDS = tuple(CHANNELS)  # a person's address columns: one per channel
CSV_COLUMNS = ("code", "name", "roles", "supervisor", "lang", "active", *CHANNEL_FIELDS)
SCHOOL_FIELDS = (
    "code",
    "name",
    "district",
    "kind",
    "facts",
    "timezone",
    "quiet_start",
    "quiet_end",
    "channels",
)
PERSON_FIELDS = ("code", "name", "roles", "supervisor", "addresses", "lang", "active")
_NO = ("no", "false", "0", "否")
_YES = ("yes", "true", "1", "是")


@dataclass
class RosterRow:
    line: int
    code: str
    name: str
    roles: list[str]
    supervisor: str | None
    addresses: dict[str, str]
    lang: str = "zh-CN"
    active: bool = True


@dataclass
class Roster:
    path: str
    school: dict[str, Any] | None  # the YAML roster's checked school settings
    rows: list[RosterRow] = field(default_factory=list)


def read_roster(path: Path) -> Roster:
    """Read a roster file; a problem in the file raises ValidationFailed naming its line."""
    if not path.exists():
        raise NotFound(f"roster file not found: {path}")
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path)
    raise ValidationFailed([Problem(str(path), None, "", "roster must be .csv, .yaml or .yml")])


def split_list(value: str) -> list[str]:
    """``a;b、c，d`` -> [a, b, c, d]: the separators a Chinese spreadsheet cell may use."""
    return [p.strip() for p in re.split(r"[;；、,，]", value or "") if p.strip()]


def _flag(value: str) -> bool | None:
    """yes/no in a cell (or YAML text): None if it is neither."""
    value = value.strip().lower()
    return False if value in _NO else True if value in _YES else None


# -- CSV ----------------------------------------------------------------------------------------


def _read_csv(path: Path) -> Roster:
    shown = str(path)
    roster = Roster(shown, None)
    reader = csv.reader(io.StringIO(read_text(path, shown), newline=""))
    header = [h.strip() for h in next(reader, [])]
    problems = [
        Problem(shown, 1, name, f"unknown column{suggest(name, CSV_COLUMNS)}")
        for name in header
        if name and name not in CSV_COLUMNS
    ]
    problems += [
        Problem(shown, 1, name, "column given twice")
        for i, name in enumerate(header)
        if name and name in header[:i]
    ]
    missing = {"code", "name"} - set(header)
    if missing:
        problems.append(Problem(shown, 1, ", ".join(sorted(missing)), "missing column"))
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # a blank line, as spreadsheets leave at the end
        record = {h: c.strip() for h, c in zip(header, cells, strict=False) if h}
        active = _flag(record.get("active") or "yes")
        if active is None:
            problems.append(Problem(shown, reader.line_num, "active", "expected yes or no"))
        roster.rows.append(
            RosterRow(
                line=reader.line_num,
                code=record.get("code", ""),
                name=record.get("name", ""),
                roles=split_list(record.get("roles", "")),
                supervisor=record.get("supervisor") or None,
                addresses={k: record[k] for k in CHANNEL_FIELDS if record.get(k)},
                lang=record.get("lang") or "zh-CN",
                active=active is not False,
            )
        )
    if problems:
        raise ValidationFailed(problems)
    return roster


# -- YAML ---------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Roster:
    shown = str(path)
    reader = _RosterReader(shown)
    roster = reader.roster(read_yaml(path, shown))
    if reader.problems or roster is None:
        raise ValidationFailed(reader.problems)
    return roster


class _RosterReader(NodeReader):
    def roster(self, root: Node) -> Roster | None:
        what = "a roster (school: and people:)"
        f = self.fields(root, "", ("school", "people"), ("people",), what=what)
        if f is None:
            return None
        roster = Roster(self.file, self.school(f.get("school")))
        for index, node in self.sequence(f.get("people"), "people"):
            row = self.person(node, f"people[{index}]")
            if row is not None:
                roster.rows.append(row)
        return roster

    def person(self, node: Node, where: str) -> RosterRow | None:
        f = self.fields(node, where, PERSON_FIELDS)
        if f is None:
            return None
        roles = f.get("roles")
        if isinstance(roles, yaml.ScalarNode):
            role_list = split_list(self.text(roles, join(where, "roles")) or "")
        else:
            role_list = [
                name
                for i, entry in self.sequence(roles, join(where, "roles"))
                if (name := self.text(entry, f"{where}.roles[{i}]")) is not None
            ]
        addresses = {}
        for channel, value in self.entries(f.get("addresses"), join(where, "addresses")):
            address = self.text(value, f"{where}.addresses.{channel}")
            if address is not None:
                addresses[channel] = address
        active = True
        if "active" in f:
            active = self.flag(f["active"], join(where, "active")) is not False
        return RosterRow(
            line=line(node) or 0,
            code=self.text(f.get("code"), join(where, "code")) or "",
            name=self.text(f.get("name"), join(where, "name")) or "",
            roles=role_list,
            supervisor=self.text(f.get("supervisor"), join(where, "supervisor")),
            addresses=addresses,
            lang=self.text(f.get("lang"), join(where, "lang")) or "zh-CN",
            active=active,
        )

    def flag(self, node: Node, where: str) -> bool | None:
        value = plain(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool):
            return value
        found = _flag(str(value)) if value is not None else None
        if found is None:
            self.fail(node, where, "expected yes or no")
        return found

    # -- the school's settings -------------------------------------------------------------

    def school(self, node: Node | None) -> dict[str, Any] | None:
        if node is None:
            return None
        f = self.fields(node, "school", SCHOOL_FIELDS)
        if f is None:
            return None
        info: dict[str, Any] = {
            name: self.text(f.get(name), f"school.{name}") for name in ("code", "name", "district")
        }
        if "timezone" in f:
            info["timezone"] = self.timezone(f["timezone"], "school.timezone")
        for name in ("quiet_start", "quiet_end"):
            if name in f:
                info[name] = self.clock_time(f[name], f"school.{name}")
        if "channels" in f:
            info["channels"] = self.channels(f["channels"], "school.channels")
        if "kind" in f:
            info["kind"] = self.profile(f["kind"], "school.kind", KINDS)
        if "facts" in f:
            facts = [
                self.profile(n, f"school.facts[{i}]", FACTS)
                for i, n in self.sequence(f["facts"], "school.facts")
            ]
            info["facts"] = [fact for fact in facts if fact is not None]
        return {k: v for k, v in info.items() if v is not None}

    def profile(self, node: Node, where: str, table: dict[str, tuple[str, str]]) -> str | None:
        """A kind or a fact (houqin/school_profiles.py), written as its key or its 中文 name."""
        value = self.text(node, where)
        if value is None:
            return None
        key = lookup(value, table)
        if key is None:
            what = "school kind" if table is KINDS else "school fact"
            self.fail(node, where, f"unknown {what} {value!r}{hint(value, table)}")
        return key

    def timezone(self, node: Node, where: str) -> str | None:
        zone = self.text(node, where)
        if zone is None:
            return None
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = "an IANA time zone name such as Asia/Shanghai"
            self.fail(node, where, f"unknown time zone {zone!r}; expected {hint}")
            return None
        return zone

    def clock_time(self, node: Node, where: str) -> str | None:
        # Unquoted 22:00 is a YAML 1.1 base-60 integer; the text as written is what was meant.
        text = self.text(node, where)
        if text is None:
            return None
        try:
            return f"{parse_time(text):%H:%M}"
        except DueRuleError as exc:
            self.fail(node, where, f"{exc} (00:00 to 23:59)")
            return None

    def channels(self, node: Node, where: str) -> dict[str, Any]:
        """Each channel's config, checked by the channel itself as delivery will build it."""
        checked: dict[str, Any] = {}
        for name, config_node in self.entries(node, where):
            at = f"{where}.{name}"
            if name not in CHANNELS:
                known = ", ".join(CHANNELS)
                self.fail(config_node, at, f"unknown channel{suggest(name, CHANNELS)}; use {known}")
                continue
            if not isinstance(config_node, yaml.MappingNode):
                self.fail(config_node, at, f"expected the {name} settings (a mapping)")
                continue
            keys = {str(k.value): k for k, _ in config_node.value if isinstance(k, yaml.ScalarNode)}
            config = plain(config_node)
            for field_name, problem in channel_problems(name, config):
                self.fail(keys.get(field_name, config_node), join(at, field_name), problem)
            checked[name] = config
        return checked


def channel_problems(name: str, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) for a channel's config, as the channel's own constructor judges it.

    Building the channel checks its config without sending anything (notifications' channels
    validate in ``__init__``), so the roster and delivery can never disagree on what is valid.
    A constructor stops at its first problem, so at most one is listed.
    """
    try:
        get_channel(name, config)
    except ChannelConfigError as exc:
        prefix = f"{exc.channel}: {exc.field}: " if exc.field else f"{exc.channel}: "
        return [(exc.field, str(exc).removeprefix(prefix))]
    return []
