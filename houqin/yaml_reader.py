"""Reading the YAML files users write (plans, standards, calendars, rosters), field by field.

A file is composed into PyYAML *nodes*, not constructed into plain data, so that every problem
names its file, line and field, and so that a bad value (2027-02-30) is reported rather than
crashing the loader. ``NodeReader`` collects every problem instead of stopping at the first;
each file's reader subclasses it with the file's own fields. One behaviour for every file:

- nulls: a field written with no value (``due:`` or ``due: ~``) counts as not given: a required
  one is reported missing, an optional one takes its default. A list entry or a named entry
  (a role, a level) with no value is reported as empty.
- unknown fields are reported with the closest known name ("did you mean ...?");
- a field given twice is reported at the second, with the line of the first;
- text is read as written (``en: yes`` is the word, not a boolean), stripped;
- encodings are those of ``houqin.text_files``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from houqin.bilingual import Bilingual
from houqin.errors import Problem, ValidationFailed
from houqin.text_files import read_text

Node = yaml.Node
KEY = re.compile(r"[a-z][a-z0-9_]*")
_TAG = "tag:yaml.org,2002:"
_NUMBER_TAGS = (_TAG + "int", _TAG + "float")
_TITLE_FIELDS = ("zh-CN", "en")
# libyaml's loader composes the same nodes with the same marks about ten times faster than the
# pure-Python one (0.06 s against 0.65 s for the built-in plans, read by every launch).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, shown: str | None = None) -> Node:
    """The composed root node of ``path``; ValidationFailed if unreadable, invalid or empty."""
    shown = str(path) if shown is None else shown
    return compose(read_text(path, shown), shown)


def compose(text: str, shown: str) -> Node:
    """The root node of ``text``; ValidationFailed on a syntax error or an empty document."""
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(filter(None, [exc.context, exc.problem]))
        raise ValidationFailed([Problem(shown, line, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ValidationFailed([Problem(shown, None, "", f"YAML syntax error: {exc}")]) from None
    if root is None:
        raise ValidationFailed([Problem(shown, 1, "", "the file is empty")])
    return root


def plain(node: Node) -> Any:
    """A node as plain Python data (``port: 25`` is an int), for values read as a whole."""
    return yaml.SafeLoader("").construct_object(node, deep=True)


class NodeReader:
    """Collects problems in ``self.problems``; a method meeting one returns None (or nothing).

    A value method given ``None`` (a field not written) returns None without a problem: the
    caller's ``fields`` has already reported it if it was required.
    """

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, node: Node | None, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, line(node), where, message))

    # -- mappings and lists ----------------------------------------------------------------

    def fields(
        self,
        node: Node | None,
        where: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
        *,
        what: str = "a mapping",
    ) -> dict[str, Node] | None:
        """A mapping's values by field name, nulls left out; unknown, repeated and missing
        fields reported."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, where, f"expected {what}, found {kind(node)}")
            return None
        allowed = tuple(allowed)
        found: dict[str, Node] = {}
        for name, key_node, value in self.pairs(node, where):
            path = join(where, name)
            if name in allowed:
                found[name] = value
            elif node.flow_style and is_null(value) and value.value == "":
                # `{zh-CN: 甲, 乙}` reads as a field `乙` with no value: cut by the comma
                cut = f"a comma inside {{...}} cut the text before {name!r}"
                fix = "quote the whole text or use a Chinese comma (，)"
                self.fail(key_node, path, f"{cut}; {fix}")
            else:
                self.fail(key_node, path, f"unknown field {name!r}{suggest(name, allowed)}")
        for name in required:
            if name not in found or is_null(found[name]):
                self.fail(found.get(name, node), join(where, name), "missing required field")
        return {k: v for k, v in found.items() if not is_null(v)}

    def pairs(self, node: yaml.MappingNode, where: str) -> Iterator[tuple[str, Node, Node]]:
        """(name, key node, value) of each entry; a name given twice is reported and skipped."""
        seen: dict[str, int | None] = {}
        for key_node, value in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(name, str):
                self.fail(key_node, where, "field names must be plain text")
            elif name in seen:
                first = seen[name]
                self.fail(key_node, join(where, name), f"field given twice (first at line {first})")
            else:
                seen[name] = line(key_node)
                yield name, key_node, value

    def entries(self, node: Node | None, where: str) -> Iterator[tuple[str, Node]]:
        """The entries of a mapping whose keys the file chooses (roles, years, levels)."""
        if node is None or is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, where, f"expected a mapping, found {kind(node)}")
            return
        for name, _, value in self.pairs(node, where):
            yield name, value

    def sequence(
        self, node: Node | None, where: str, *, nonempty: bool = False
    ) -> Iterator[tuple[int, Node]]:
        if node is None or is_null(node):
            return
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, where, f"expected a list, found {kind(node)}")
        elif nonempty and not node.value:
            self.fail(node, where, "must list at least one entry")
        else:
            yield from enumerate(node.value)

    # -- values ----------------------------------------------------------------------------

    def text(self, node: Node | None, where: str) -> str | None:
        """A non-empty scalar as written (so `en: yes` is the word, not a boolean)."""
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, where, f"expected text, found {kind(node)}")
            return None
        if is_null(node) or not str(node.value).strip():
            self.fail(node, where, "must not be empty")
            return None
        return str(node.value).strip()

    def key(self, node: Node | None, where: str) -> str | None:
        key = self.text(node, where)
        if key is not None and not KEY.fullmatch(key):
            self.fail(node, where, f"key {key!r} must match [a-z][a-z0-9_]*")
            return None
        return key

    def choice(
        self, node: Node | None, where: str, allowed: tuple[str, ...], default: str | None = None
    ) -> str | None:
        if node is None:
            return default
        value = self.text(node, where)
        if value is not None and value not in allowed:
            self.fail(node, where, f"{value!r} is not one of: {', '.join(allowed)}")
            return None
        return value

    def title(self, node: Node | None, where: str) -> Bilingual | None:
        """``{zh-CN: ..., en: ...}``: zh-CN required, en optional."""
        if node is None:
            return None
        f = self.fields(node, where, _TITLE_FIELDS, ("zh-CN",))
        if f is None:
            return None
        zh = self.text(f.get("zh-CN"), join(where, "zh-CN"))
        en = self.text(f.get("en"), join(where, "en"))
        return None if zh is None else Bilingual(zh, en)

    def integer(self, node: Node | None, where: str, *, minimum: int) -> int | None:
        if node is None:
            return None
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "int"):
            self.fail(node, where, f"expected a whole number, found {kind(node)}")
            return None
        value: int = yaml.SafeLoader("").construct_yaml_int(node)
        if value < minimum:
            self.fail(node, where, f"must be {'positive' if minimum else 'at least 0'}")
            return None
        return value

    def number(
        self, node: Node | None, where: str, low: float | None = None, high: float | None = None
    ) -> float | None:
        """A number within [low, high]."""
        if node is None:
            return None
        if not (isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS):
            self.fail(node, where, f"expected a number, found {kind(node)}")
            return None
        value = float(node.value)
        if (low is not None and value < low) or (high is not None and value > high):
            lowest = "-∞" if low is None else f"{low:g}"
            highest = "∞" if high is None else f"{high:g}"
            self.fail(node, where, f"{value:g} is out of range ({lowest} to {highest})")
            return None
        return value

    def names(
        self, node: Node | None, where: str, known: set[str] | None, what: str
    ) -> tuple[str, ...]:
        """A list of names, each one of ``known`` (when known is not None)."""
        out = []
        for i, entry in self.sequence(node, where):
            name = self.text(entry, f"{where}[{i}]")
            if name is not None and known is not None and name not in known:
                self.fail(entry, f"{where}[{i}]", f"unknown {what} {name!r}")
            elif name is not None:
                out.append(name)
        return tuple(out)


def line(node: Node | None) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def is_null(node: Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"


def join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def kind(node: Node | None) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node is None or is_null(node):
        return "nothing"
    return f"{node.value!r}"


def suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
