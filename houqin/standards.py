"""Assessment standards: the YAML files in plans/standards/, found, read and checked in full.

A standard is data a school edits, so, as with plan templates, every problem is reported with its
file, line and field, and a file with any problem loads nothing. What a standard holds is
``houqin.standard_specs``; how one file is read is ``houqin.standard_reader``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from houqin.bilingual import Bilingual
from houqin.errors import NotFound, Problem, UserError, ValidationFailed
from houqin.models import School
from houqin.school_profiles import KINDS, applies_to
from houqin.standard_reader import read
from houqin.standard_specs import Standard
from houqin.yaml_reader import read_yaml


def builtin_standards_dir() -> Path:
    return Path(__file__).parent.parent / "plans" / "standards"


def load_standards(dirs: Iterable[Path] | None = None) -> dict[str, Standard]:
    """Every *.yaml in ``dirs`` (default: the built-in ones); any problem anywhere loads none."""
    problems: list[Problem] = []
    found: dict[str, Standard] = {}
    for d in dirs if dirs is not None else [builtin_standards_dir()]:
        for path in sorted(Path(d).glob("*.yaml")) if Path(d).is_dir() else [Path(d)]:
            try:
                standard = load_standard(path)
            except ValidationFailed as exc:
                problems += exc.problems
                continue
            if standard.key in found:
                problems.append(
                    Problem(
                        str(path),
                        None,
                        "key",
                        f"{standard.key!r} is already used by {found[standard.key].path}",
                    )
                )
            found[standard.key] = standard
    if problems:
        raise ValidationFailed(problems)
    return found


def get_standard(key: str, dirs: Iterable[Path] | None = None) -> Standard:
    standards = load_standards(dirs)
    if key not in standards:
        raise NotFound(f"no standard {key!r}; known: {', '.join(sorted(standards))}")
    return standards[key]


class NoStandard(UserError):
    """No assessment standard is for the school's kind: nothing is scored, rather than a
    band from a standard written for another kind of school."""


def standard_for(school: School, dirs: Iterable[Path] | None = None) -> Standard:
    """The standard for the school's kind: one naming the kind, else one for every school.

    When none fits, NoStandard says so and how to go on (docs/reports.md): a school is never
    scored, and never put in a band, by a standard made for another kind of school.
    """
    standards = sorted(load_standards(dirs).values(), key=lambda s: s.key)
    fitting = [s for s in standards if applies_to(s, school)]
    named = [s for s in fitting if s.applies is not None and school.kind in s.applies.kinds]
    if named or fitting:
        return (named or fitting)[0]
    kind = f"{KINDS[school.kind][0]} ({KINDS[school.kind][1]})" if school.kind else None
    what = f"是{KINDS[school.kind][0]}" if school.kind else "未写明学校类型"
    has = ", ".join(
        f"{s.key} ({'、'.join(KINDS[k][0] for k in s.applies.kinds)})"
        for s in standards
        if s.applies is not None
    )
    raise NoStandard(
        Bilingual(
            f"学校 {school.code} {what}，没有适用的考核标准，未评分。现有标准："
            f"{has or '无'}。可在 plans/standards/ 下新增一份，applies_to.kinds 写明该校类型；"
            f"或用 --standard KEY 有意按其他类型的标准评分。",
            f"no assessment standard is for school {school.code!r} "
            f"({kind or 'no kind: set kind under the roster school:'}); nothing was scored. "
            f"The standards: {has or 'none'}. Add one under plans/standards/ with "
            f"applies_to.kinds naming the school's kind, or pass --standard KEY to score by "
            f"another kind's standard on purpose.",
        )
    )


def load_standard(path: Path, known_plans: Iterable[str] | None = None) -> Standard:
    shown = str(path)
    root = read_yaml(Path(path), shown)
    standard, problems = read(root, shown, set(known_plans) if known_plans is not None else None)
    if problems or standard is None:
        raise ValidationFailed(problems)
    return standard
