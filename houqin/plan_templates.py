"""Plan templates: the YAML files in plans/ and a school's own, read and checked in full.

The schema is docs/plan-templates.md. A file is composed into PyYAML nodes (not constructed into
plain data) so that every problem can name its line; problems are collected across every file
and raised together as ValidationFailed, and a set of files with any problem loads nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from houqin.due_rules import (
    DueRule,
)
from houqin.errors import Problem, ValidationFailed
from houqin.roles import ROLES, Role

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
PERIODS = ("school_year", "autumn_term", "spring_term")
EVIDENCE = ("none", "note", "number", "photo")
SEASONS = (
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", "annual",
)  # fmt: skip
DEFAULT_DUE_TIME = time(18, 0)
DEFAULT_REMIND = (3, 1, 0)  # working days before the deadline; 0 = the due morning
DEFAULT_ESCALATE = (1, 3)  # working days after: the owner's supervisor, then leadership


@dataclass(frozen=True)
class Step:
    zh: str
    en: str | None = None

    def label(self, lang: str = "zh-CN") -> str:
        return self.en if self.en and not lang.startswith("zh") else self.zh


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    title_zh: str
    title_en: str | None = None

    def title(self, lang: str = "zh-CN") -> str:
        return _pick(self.title_zh, self.title_en, lang)


@dataclass(frozen=True)
class ItemSpec:
    key: str
    title_zh: str
    title_en: str | None
    phase: str
    role: str
    due: DueRule
    steps: tuple[Step, ...] = ()
    evidence: str = "none"
    headcount: int | None = None
    depends_on: tuple[str, ...] = ()
    remind: tuple[int, ...] | None = None  # None: the template's
    escalate: tuple[int, ...] | None = None
    source: str | None = None
    line: int = 0  # where the item starts in its file; not part of the version

    def title(self, lang: str = "zh-CN") -> str:
        return _pick(self.title_zh, self.title_en, lang)


@dataclass(frozen=True)
class PlanTemplate:
    key: str
    version: str
    title_zh: str
    title_en: str | None
    season: str | None
    period: str
    anchors: tuple[str, ...]
    due_time: time
    remind: tuple[int, ...]
    escalate: tuple[int, ...]
    roles: dict[str, Role] = field(hash=False)  # the roles this file adds to houqin.roles
    phases: tuple[PhaseSpec, ...]
    items: tuple[ItemSpec, ...]
    path: str
    launch: DueRule | None = None  # when prefect.yaml launches it (houqin/schedules.py)

    def title(self, lang: str = "zh-CN") -> str:
        return _pick(self.title_zh, self.title_en, lang)

    def role_keys(self) -> tuple[str, ...]:
        """The roles the items name, in order of first use."""
        return tuple(dict.fromkeys(item.role for item in self.items))

    def role(self, key: str) -> Role:
        return self.roles.get(key) or ROLES[key]

    def item(self, key: str) -> ItemSpec:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def compute_version(self) -> str:
        """First 16 hex digits of the SHA-256 of the canonical content (no version, path, lines)."""
        content = self.to_dict()
        del content["version"], content["path"]
        for phase in content["phases"]:
            for item in phase["items"]:
                del item["line"]
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON-able form: the file's schema with every default written out."""
        d: dict[str, Any] = {
            "key": self.key,
            "version": self.version,
            "path": self.path,
            "title": _title_dict(self.title_zh, self.title_en),
        }
        if self.season is not None:
            d["season"] = self.season
        d["period"] = self.period
        if self.launch is not None:  # only when given, so older templates keep their version
            d["launch"] = str(self.launch)
        d |= {
            "anchors": list(self.anchors),
            "due_time": f"{self.due_time:%H:%M}",
            "remind": list(self.remind),
            "escalate": list(self.escalate),
            "roles": {k: {"zh-CN": r.zh, "en": r.en} for k, r in self.roles.items()},
            "phases": [
                {
                    "key": phase.key,
                    "title": _title_dict(phase.title_zh, phase.title_en),
                    "items": [_item_dict(i) for i in self.items if i.phase == phase.key],
                }
                for phase in self.phases
            ],
        }
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], path: str | None = None) -> PlanTemplate:
        """Rebuild a template from to_dict(), checked like a file; a stored version is kept."""
        where = path if path is not None else str(d.get("path", "<dict>"))
        from houqin.plan_reader import Reader

        reader = Reader(where, stored=True)
        try:
            node = yaml.SafeDumper(io.StringIO()).represent_data(d)
        except yaml.YAMLError as exc:
            raise ValidationFailed([Problem(where, None, "", f"not plain data: {exc}")]) from None
        template = reader.plan(node)
        if template is None:
            raise ValidationFailed(reader.problems)
        stored = d.get("version")
        return replace(template, version=stored) if isinstance(stored, str) else template


def builtin_plans_dir() -> Path:
    return Path(__file__).parent.parent / "plans"


def load_builtin_templates() -> dict[str, PlanTemplate]:
    return load_templates([builtin_plans_dir()])


def load_template_file(path: Path) -> PlanTemplate:
    from houqin.plan_reader import read_file

    reader = read_file(Path(path), str(path))
    if reader.template is None:
        raise ValidationFailed(reader.problems)
    return reader.template


def load_templates(paths: Iterable[Path]) -> dict[str, PlanTemplate]:
    """Load files and directories of *.yaml; any problem anywhere loads nothing."""
    problems: list[Problem] = []
    from houqin.plan_reader import Reader, read_file

    readers: list[Reader] = []
    seen: set[Path] = set()
    for file, shown in _expand(paths, problems):
        if file.resolve() in seen:  # a file named both directly and through its directory
            continue
        seen.add(file.resolve())
        reader = read_file(file, shown)
        problems += reader.problems
        readers.append(reader)
    first: dict[str, Reader] = {}
    for reader in readers:
        if reader.plan_key is None:
            continue
        other = first.setdefault(reader.plan_key, reader)
        if other is not reader:
            problems.append(
                Problem(
                    reader.file,
                    reader.key_line,
                    "key",
                    f"template key {reader.plan_key!r} is already used by "
                    f"{other.file}:{other.key_line}",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return {r.template.key: r.template for r in readers if r.template is not None}


def _expand(paths: Iterable[Path], problems: list[Problem]) -> Iterator[tuple[Path, str]]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for file in sorted(path.glob("*.yaml")):
                yield file, str(file)
        elif path.is_file():
            yield path, str(given)
        else:
            problems.append(Problem(str(given), None, "", "no such file or directory"))


def _pick(zh: str, en: str | None, lang: str) -> str:
    return en if en and not lang.startswith("zh") else zh


def _title_dict(zh: str, en: str | None) -> dict[str, str]:
    return {"zh-CN": zh} if en is None else {"zh-CN": zh, "en": en}


def _item_dict(item: ItemSpec) -> dict[str, Any]:
    d: dict[str, Any] = {
        "key": item.key,
        "title": _title_dict(item.title_zh, item.title_en),
        "role": item.role,
        "due": str(item.due),
        "steps": [_title_dict(step.zh, step.en) for step in item.steps],
        "evidence": item.evidence,
        "depends_on": list(item.depends_on),
    }
    if item.headcount is not None:
        d["headcount"] = item.headcount
    if item.remind is not None:
        d["remind"] = list(item.remind)
    if item.escalate is not None:
        d["escalate"] = list(item.escalate)
    if item.source is not None:
        d["source"] = item.source
    d["line"] = item.line
    return d
