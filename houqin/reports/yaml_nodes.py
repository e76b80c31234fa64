"""Reading composed YAML nodes field by field, each problem with its file, line and field.

The generic half of the standards reader (``standard_file``): mappings, lists, text, numbers and
choices, checked the way plan templates are, so that a school editing a file sees exactly where
it went wrong.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from houqin.errors import Problem
from houqin.standards import Title

KEY = re.compile(r"[a-z][a-z0-9_]*")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
Node = yaml.Node


class NodeReader:
    """Collects problems in ``self.problems``; every method returns None (or empty) on one."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.keys: dict[str, int | None] = {}  # keys that must be unique in the file

    def fail(self, node: Node | None, where: str, message: str) -> None:
        mark = getattr(node, "start_mark", None)
        self.problems.append(Problem(self.file, mark.line + 1 if mark else None, where, message))

    def fields(
        self, node: Node | None, where: str, allowed: tuple[str, ...], required: tuple[str, ...]
    ) -> dict[str, Node] | None:
        """A mapping's values by name; unknown, repeated and missing fields are reported."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, where, f"expected a mapping, found {_kind(node)}")
            return None
        found = {}
        for name, value in self.mapping(node, where):
            if name in allowed:
                found[name] = value
            else:
                self.fail(value, _join(where, name), f"unknown field {name!r}")
        for name in required:
            if name not in found:
                self.fail(node, _join(where, name), "missing required field")
        return found

    def mapping(self, node: Node | None, where: str) -> list[tuple[str, Node]]:
        if node is None:
            return []
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, where, f"expected a mapping, found {_kind(node)}")
            return []
        pairs: dict[str, Node] = {}
        for key_node, value in node.value:
            name = str(key_node.value)
            if name in pairs:
                self.fail(key_node, _join(where, name), "field given twice")
            pairs[name] = value
        return list(pairs.items())

    def items(self, node: Node | None, where: str) -> list[Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, where, f"expected a list, found {_kind(node)}")
            return []
        return list(node.value)

    def named(
        self, node: Node | None, where: str, allowed: tuple[str, ...], required: tuple[str, ...],
        titled: bool = True,
    ) -> list[tuple[str, dict[str, Node], str, Title]]:  # fmt: skip
        """List entries that each have a key (unique in the file) and, if titled, a title."""
        head = ("key", "title") if titled else ("key",)
        out = []
        for i, entry in enumerate(self.items(node, where)):
            w = f"{where}[{i}]"
            f = self.fields(entry, w, head + allowed, head + required)
            if f is None:
                continue
            key = self.key(f.get("key"), f"{w}.key", unique=where != "bands")
            title = self.title(f.get("title"), f"{w}.title") if titled else Title("")
            if key is not None and title is not None:
                out.append((w, f, key, title))
        return out

    def key(self, node: Node | None, where: str, unique: bool = True) -> str | None:
        text = self.text(node, where)
        if text is None:
            return None
        if not KEY.fullmatch(text):
            self.fail(node, where, f"key {text!r} must match [a-z][a-z0-9_]*")
            return None
        if unique and text in self.keys:
            self.fail(node, where, f"key {text!r} is already used (line {self.keys[text]})")
            return None
        if unique:
            self.keys[text] = node.start_mark.line + 1 if node is not None else None
        return text

    def title(self, node: Node | None, where: str) -> Title | None:
        f = self.fields(node, where, ("zh-CN", "en"), ("zh-CN",))
        if f is None or "zh-CN" not in f:
            return None
        zh = self.text(f["zh-CN"], f"{where}.zh-CN")
        en = self.text(f["en"], f"{where}.en") if "en" in f else None
        return Title(zh, en) if zh else None

    def text(self, node: Node | None, where: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.fail(node, where, f"expected text, found {_kind(node)}")
            return None
        return str(node.value).strip()

    def number(
        self, node: Node | None, where: str, low: float | None = None,
        high: float | None = None, *, default: Any = ...,
    ) -> Any:  # fmt: skip
        """A number within [low, high]; a missing optional one is ``default``."""
        if node is None and default is not ...:
            return default
        if not (isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS):
            self.fail(node, where, f"expected a number, found {_kind(node)}")
            return None
        value = float(node.value)
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(node, where, f"{value:g} is out of range ({low:g} to {high or '∞'})")
            return None
        return value

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

    def names(
        self, node: Node | None, where: str, known: set[str] | None, what: str
    ) -> tuple[str, ...]:
        out = []
        for i, n in enumerate(self.items(node, where)):
            name = self.text(n, f"{where}[{i}]")
            if name is not None and known is not None and name not in known:
                self.fail(n, f"{where}[{i}]", f"unknown {what} {name!r}")
            elif name is not None:
                out.append(name)
        return tuple(out)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _kind(node: Node | None) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "nothing" if node is None or node.value in ("", "~", "null") else repr(node.value)
