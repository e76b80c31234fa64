"""Plan templates: the YAML files in plans/ and a school's own, found, read and checked in full.

The schema is docs/plan-templates.md; what a template holds is ``houqin.plan_specs``, how one
file is read is ``houqin.plan_reader``. Problems are collected across every file and raised
together as ValidationFailed, and a set of files with any problem loads nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from houqin.errors import Problem, ValidationFailed
from houqin.plan_reader import Reader, read_file
from houqin.plan_specs import PlanTemplate

# PlanTemplate is re-exported: callers load templates from here and name their type.
__all__ = [
    "PlanTemplate",
    "builtin_plans_dir",
    "load_builtin_templates",
    "load_template_file",
    "load_templates",
    "template_from_dict",
]


def builtin_plans_dir() -> Path:
    return Path(__file__).parent.parent / "plans"


def load_builtin_templates() -> dict[str, PlanTemplate]:
    return load_templates([builtin_plans_dir()])


def load_template_file(path: Path) -> PlanTemplate:
    reader = read_file(Path(path), str(path))
    if reader.template is None:
        raise ValidationFailed(reader.problems)
    return reader.template


def load_templates(paths: Iterable[Path]) -> dict[str, PlanTemplate]:
    """Load files and directories of *.yaml; any problem anywhere loads nothing."""
    problems: list[Problem] = []
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


def template_from_dict(d: dict[str, Any], path: str | None = None) -> PlanTemplate:
    """Rebuild a template from ``PlanTemplate.to_dict()``, checked like a file; a stored
    version is kept."""
    where = path if path is not None else str(d.get("path", "<dict>"))
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
