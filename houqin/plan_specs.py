"""What a plan template holds: its phases, items, sub-steps, roles and deadlines.

Data only: ``houqin.plan_reader`` builds these from a file, ``houqin.plan_templates`` finds the
files; the schema is docs/plan-templates.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from houqin.bilingual import Bilingual, pick
from houqin.due_rules import DueRule
from houqin.recurrence import Repeat
from houqin.roles import ROLES, Role
from houqin.school_profiles import AppliesTo

PERIODS = ("school_year", "autumn_term", "spring_term")
EVIDENCE = ("none", "note", "number", "photo")
SEASONS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "annual",
)
DEFAULT_DUE_TIME = time(18, 0)
DEFAULT_REMIND = (3, 1, 0)  # working days before the deadline; 0 = the due morning
DEFAULT_ESCALATE = (1, 3)  # working days after: the owner's supervisor, then leadership


Step = Bilingual  # a sub-step is its text


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    title_zh: str
    title_en: str | None = None

    def title(self, lang: str = "zh-CN") -> str:
        return pick(self.title_zh, self.title_en, lang)


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
    repeat: Repeat | None = None  # one item per occurrence (houqin/recurrence.py)
    shared: str | None = None  # a task several plans reach: one item per school (docs)
    applies: AppliesTo | None = None  # an item only some schools need (食堂, 寄宿); None: all

    def title(self, lang: str = "zh-CN") -> str:
        return pick(self.title_zh, self.title_en, lang)


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
    applies: AppliesTo | None = None  # which schools (houqin/school_profiles.py); None: all

    def title(self, lang: str = "zh-CN") -> str:
        return pick(self.title_zh, self.title_en, lang)

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
            "title": Bilingual(self.title_zh, self.title_en).to_dict(),
        }
        if self.season is not None:
            d["season"] = self.season
        d["period"] = self.period
        if self.launch is not None:  # only when given, so older templates keep their version
            d["launch"] = str(self.launch)
        if self.applies is not None:
            d["applies_to"] = self.applies.to_dict()
        d |= {
            "anchors": list(self.anchors),
            "due_time": f"{self.due_time:%H:%M}",
            "remind": list(self.remind),
            "escalate": list(self.escalate),
            "roles": {k: {"zh-CN": r.zh, "en": r.en} for k, r in self.roles.items()},
            "phases": [
                {
                    "key": phase.key,
                    "title": Bilingual(phase.title_zh, phase.title_en).to_dict(),
                    "items": [_item_dict(i) for i in self.items if i.phase == phase.key],
                }
                for phase in self.phases
            ],
        }
        return d


def _item_dict(item: ItemSpec) -> dict[str, Any]:
    d: dict[str, Any] = {
        "key": item.key,
        "title": Bilingual(item.title_zh, item.title_en).to_dict(),
        "role": item.role,
        "due": str(item.due),
        "steps": [step.to_dict() for step in item.steps],
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
    if item.repeat is not None:
        d["repeat"] = str(item.repeat)
    if item.shared is not None:
        d["shared"] = item.shared
    if item.applies is not None:
        d["applies_to"] = item.applies.to_dict()
    d["line"] = item.line
    return d
