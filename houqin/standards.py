"""Assessment standards: the YAML files in plans/standards/, found, read and checked in full.

A standard is data a school edits, so, as with plan templates, every problem is reported with its
file, line and field, and a file with any problem loads nothing. What a standard holds is
``houqin.standard_specs``; how one file is read is ``houqin.standard_reader``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from houqin.errors import NotFound, Problem, ValidationFailed
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


def load_standard(path: Path, known_plans: Iterable[str] | None = None) -> Standard:
    shown = str(path)
    root = read_yaml(Path(path), shown)
    standard, problems = read(root, shown, set(known_plans) if known_plans is not None else None)
    if problems or standard is None:
        raise ValidationFailed(problems)
    return standard
