"""School profiles: a school's kind (小学, 高中, …) and facts (高考考点, 寄宿, …), and which plans
and standards apply to it.

The roster's ``school:`` says them (``houqin.roster`` checks them); a plan's or a standard's
``applies_to: {kinds: [...], facts: [...]}`` says whom it is for. Without ``applies_to`` it is
for every school. A school that has not said its kind gets only what names no kinds, so a plan
never reaches the wrong school by omission.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from houqin.bilingual import Bilingual
from houqin.errors import UserError
from houqin.yaml_reader import Node, NodeReader, is_null

if TYPE_CHECKING:
    from houqin.models import School
    from houqin.plan_specs import ItemSpec

# key -> (中文, English); a roster and a plan may write either
KINDS: dict[str, tuple[str, str]] = {
    "primary": ("小学", "primary school"),
    "junior": ("初中", "junior middle school"),
    "senior": ("高中", "senior high school"),
    "complete": ("完全中学", "complete middle school (初中+高中)"),
    "nine_year": ("九年一贯制", "nine-year school (小学+初中)"),
    "twelve_year": ("十二年一贯制", "twelve-year school (小学+初中+高中)"),
    "vocational": ("中等职业学校", "secondary vocational school"),
}
FACTS: dict[str, tuple[str, str]] = {
    "gaokao_site": ("高考考点", "a gaokao exam site"),
    "zhongkao_site": ("中考考点", "a zhongkao exam site"),
    "boarding": ("寄宿", "has boarders (dormitories)"),
    "canteen": ("食堂", "has a canteen"),
    "school_bus": ("校车", "runs school buses"),
}


class Profile(Protocol):
    @property
    def kind(self) -> str | None: ...

    @property
    def facts(self) -> list[Any]: ...


@dataclass(frozen=True)
class AppliesTo:
    kinds: tuple[str, ...] = ()  # any of these; empty: any kind
    facts: tuple[str, ...] = ()  # all of these

    def to_dict(self) -> dict[str, list[str]]:
        return {"kinds": list(self.kinds), "facts": list(self.facts)}


class Targeted(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def applies(self) -> AppliesTo | None: ...


class NotApplicable(UserError):
    """A plan launched for a school it is not for; nothing was written."""


def name_of(key: str, table: dict[str, tuple[str, str]]) -> str:
    zh, en = table[key]
    return f"{zh} ({en})" if zh != en else zh


def lookup(value: str, table: dict[str, tuple[str, str]]) -> str | None:
    """The key a roster or plan means by ``value`` (the key or its 中文 name), else None."""
    if value in table:
        return value
    return next((k for k, (zh, _) in table.items() if zh == value), None)


def hint(value: str, table: dict[str, tuple[str, str]]) -> str:
    """'did you mean' and the accepted values, for an unknown kind or fact."""
    names = [*table, *(zh for zh, _ in table.values())]
    known = ", ".join(f"{zh} ({k})" for k, (zh, _) in table.items())
    # a Chinese name is two to six characters: one wrong character is a ratio of 0.5
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.5)
    return (f" (did you mean {close[0]!r}?)" if close else "") + f"; use one of {known}"


def refusal(target: Targeted, school: Profile, *, code: str = "") -> Bilingual | None:
    """Why ``target`` (a plan or a standard) is not for ``school``; None if it is."""
    rule = target.applies
    if rule is None:
        return None
    who = f"学校 {code}" if code else "该校"
    who_en = f"school {code!r}" if code else "the school"
    fix = Bilingual(
        "在名册的 school: 中写明 kind/facts 后运行 houqin people import",
        "set kind and facts under the roster's school: and run `houqin people import`",
    )
    if rule.kinds and school.kind not in rule.kinds:
        wanted = "、".join(KINDS[k][0] for k in rule.kinds)
        wanted_en = ", ".join(KINDS[k][1] for k in rule.kinds)
        if school.kind is None:
            has, has_en = "未写明学校类型", "has no kind"
        else:
            has, has_en = f"是{KINDS[school.kind][0]}", f"is a {KINDS[school.kind][1]}"
        return Bilingual(
            f"{target.key} 只适用于{wanted}，{who}{has}（{fix.zh}）",
            f"{target.key} is only for {wanted_en}; {who_en} {has_en} ({fix.en})",
        )
    missing = [f for f in rule.facts if f not in (school.facts or [])]
    if missing:
        zh = "、".join(FACTS[f][0] for f in missing)
        en = ", ".join(f"{FACTS[f][0]} ({FACTS[f][1]})" for f in missing)
        return Bilingual(
            f"{target.key} 只适用于{zh}，{who}不是（{fix.zh}）",
            f"{target.key} needs {en}; {who_en} does not say so ({fix.en})",
        )
    return None


def applies_to(template: Targeted, school: Profile) -> bool:
    """Whether a plan (or standard) is for the school: its kind listed, every fact held."""
    return refusal(template, school) is None


def item_applies(spec: ItemSpec, school: Profile) -> bool:
    """Whether an item with its own ``applies_to`` (a canteen's, a dorm's) is for the school."""
    rule = spec.applies
    if rule is None:
        return True
    kind_ok = not rule.kinds or school.kind in rule.kinds
    return kind_ok and all(f in (school.facts or []) for f in rule.facts)


def check_applies(template: Targeted, school: School) -> None:
    """Raise NotApplicable (nothing written) when the plan is not for the school."""
    reason = refusal(template, school, code=school.code)
    if reason is not None:
        raise NotApplicable(Bilingual(f"未启动：{reason.zh}", f"not launched: {reason.en}"))


T = TypeVar("T", bound=Targeted)


def applicable(targets: Iterable[T], school: Profile) -> list[T]:
    return [t for t in targets if applies_to(t, school)]


def read_applies_to(reader: NodeReader, node: Node | None, where: str) -> AppliesTo | None:
    """``applies_to: {kinds: [...], facts: [...]}`` of a plan or a standard, checked in place."""
    if node is None or is_null(node):
        return None
    f = reader.fields(node, where, ("kinds", "facts"), what="a mapping of kinds: and facts:")
    if f is None:
        return None
    picked: dict[str, list[str]] = {"kinds": [], "facts": []}
    for name, table in (("kinds", KINDS), ("facts", FACTS)):
        for index, entry in reader.sequence(f.get(name), f"{where}.{name}"):
            at = f"{where}.{name}[{index}]"
            value = reader.text(entry, at)
            key = None if value is None else lookup(value, table)
            if value is not None and key is None:
                reader.fail(entry, at, f"unknown {name[:-1]} {value!r}{hint(value, table)}")
            elif key is not None and key not in picked[name]:
                picked[name].append(key)
    if not picked["kinds"] and not picked["facts"]:
        if not reader.problems:
            reader.fail(
                node, where, "name kinds: or facts: (or leave applies_to out: every school)"
            )
        return None
    return AppliesTo(tuple(picked["kinds"]), tuple(picked["facts"]))
