"""Reading plan template files: YAML nodes checked field by field, every problem with its line.

Split from ``houqin.plan_templates`` (the dataclasses and the public loaders), which imports
this module lazily: it needs those dataclasses, they need it only to load.

A file is composed into PyYAML nodes (not constructed into plain data) so that every problem
can name its line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import time
from pathlib import Path

import yaml

from houqin.due_rules import (
    KNOWN_ANCHORS,
    TERM_ANCHORS,
    DueRule,
    DueRuleError,
    parse_due,
    parse_time,
)
from houqin.errors import Problem
from houqin.plan_templates import (
    DEFAULT_DUE_TIME,
    DEFAULT_ESCALATE,
    DEFAULT_REMIND,
    EVIDENCE,
    KEY_PATTERN,
    PERIODS,
    SEASONS,
    ItemSpec,
    PhaseSpec,
    PlanTemplate,
    Step,
)
from houqin.roles import ROLES, Role

_PLAN_FIELDS = (
    "key", "title", "season", "period", "anchors", "launch", "due_time", "remind", "escalate",
    "roles", "phases",
)  # fmt: skip
_PHASE_FIELDS = ("key", "title", "items")
_ITEM_FIELDS = (
    "key", "title", "role", "due", "steps", "evidence", "headcount", "depends_on", "remind",
    "escalate", "source",
)  # fmt: skip
_TITLE_FIELDS = ("zh-CN", "en")
_TAG = "tag:yaml.org,2002:"


# libyaml's loader composes the same nodes with the same marks about ten times faster than the
# pure-Python one (0.06 s against 0.65 s for the built-in plans, read by every launch).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_file(path: Path, shown: str) -> Reader:
    reader = Reader(shown)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as exc:
        reader.problems.append(Problem(shown, None, "", f"cannot read: {exc.strerror}"))
    except UnicodeDecodeError:
        reader.problems.append(Problem(shown, None, "", "not UTF-8 text"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(filter(None, [exc.context, exc.problem]))
        reader.problems.append(Problem(shown, line, "", f"YAML syntax error: {what}"))
    except yaml.YAMLError as exc:
        reader.problems.append(Problem(shown, None, "", f"YAML syntax error: {exc}"))
    else:
        if root is None:
            reader.problems.append(Problem(shown, None, "", "the file is empty"))
        else:
            reader.template = reader.plan(root)
    return reader


class Reader:
    """Walks one composed YAML tree, building the template and collecting every problem."""

    def __init__(self, file: str, *, stored: bool = False):
        self.file = file
        self.stored = stored  # from_dict: accept version, path and item lines
        self.problems: list[Problem] = []
        self.template: PlanTemplate | None = None
        self.plan_key: str | None = None
        self.key_line: int | None = None
        self.period: str | None = None
        self.anchors: set[str] | None = None  # None: unreadable, so don't check rules against it
        self.extra_roles: set[str] = set()
        self.item_at: dict[str, tuple[int | None, str]] = {}  # key -> line, field path
        self.item_lines: dict[str, int | None] = {}  # key -> line of its key
        self.deps: dict[str, list[tuple[str, yaml.Node]]] = {}

    # -- the template ----------------------------------------------------------------------

    def plan(self, root: yaml.Node) -> PlanTemplate | None:
        extra = ("version", "path") if self.stored else ()
        f = self.fields(root, "", _PLAN_FIELDS + extra, ("key", "title", "period", "phases"))
        if f is None:
            return None
        key = self.key(f.get("key"), "key")
        self.plan_key, self.key_line = key, _line(f.get("key"))
        title = self.title(f.get("title"), "title")
        season = self.choice(f.get("season"), "season", SEASONS)
        self.period = self.choice(f.get("period"), "period", PERIODS)
        anchors = self.anchor_list(f.get("anchors"))
        launch = self.due(f.get("launch"), "launch")  # a due rule, checked like an item's
        due_time = self.time_of_day(f.get("due_time"), "due_time")
        remind = self.day_list(f.get("remind"), "remind")
        escalate = self.day_list(f.get("escalate"), "escalate", escalation=True)
        roles = self.roles(f.get("roles"))
        phases, items = self.phases(f.get("phases"))
        self.check_dependencies()
        if self.problems or key is None or title is None or self.period is None:
            return None
        template = PlanTemplate(
            key=key,
            version="",
            title_zh=title[0],
            title_en=title[1],
            season=season,
            period=self.period,
            anchors=anchors or (),
            due_time=due_time or DEFAULT_DUE_TIME,
            remind=DEFAULT_REMIND if remind is None else remind,
            escalate=DEFAULT_ESCALATE if escalate is None else escalate,
            roles=roles,
            phases=phases,
            items=items,
            path=self.file,
            launch=launch,
        )
        return replace(template, version=template.compute_version())

    def anchor_list(self, node: yaml.Node | None) -> tuple[str, ...] | None:
        names = self.text_list(node, "anchors")
        if names is None:
            self.anchors = set() if node is None or _is_null(node) else None
            return None
        self.anchors = {name for name, _ in names}
        for name, at in names:
            where = "anchors"
            if name not in KNOWN_ANCHORS:
                self.fail(at, where, f"unknown anchor {name!r}{_suggest(name, KNOWN_ANCHORS)}")
            elif name in TERM_ANCHORS and self.period == "school_year":
                self.fail(at, where, f"{name} needs period autumn_term or spring_term")
        return tuple(name for name, _ in names)

    def roles(self, node: yaml.Node | None) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        for key, value in self.entries(node, "roles"):
            where = f"roles.{key}"
            self.extra_roles.add(key)
            if not KEY_PATTERN.fullmatch(key):
                self.fail(value, where, f"role key {key!r} must match [a-z][a-z0-9_]*")
            elif key in ROLES:
                self.fail(value, where, f"role {key!r} is already defined in houqin/roles.py")
            title = self.title(value, where)
            if title is not None:
                roles[key] = Role(key, title[0], title[1] or title[0])
        return roles

    # -- phases and items ------------------------------------------------------------------

    def phases(self, node: yaml.Node | None) -> tuple[tuple[PhaseSpec, ...], tuple[ItemSpec, ...]]:
        phases: list[PhaseSpec] = []
        items: list[ItemSpec] = []
        first_line: dict[str, int | None] = {}
        for index, phase_node in self.sequence(node, "phases", nonempty=True):
            key, where = self.named(phase_node, "phases", index, first_line, "phase")
            f = self.fields(phase_node, where, _PHASE_FIELDS, _PHASE_FIELDS)
            if f is None:
                continue
            title = self.title(f.get("title"), f"{where}.title")
            for i, item_node in self.sequence(f.get("items"), f"{where}.items", nonempty=True):
                item = self.item(item_node, f"{where}.items", i, key or "")
                if item is not None:
                    items.append(item)
            if key is not None and title is not None:
                phases.append(PhaseSpec(key, title[0], title[1]))
        return tuple(phases), tuple(items)

    def named(
        self, node: yaml.Node, at: str, index: int, first: dict[str, int | None], what: str
    ) -> tuple[str | None, str]:
        """An entry's checked key, and its field path: `at.key`, or `at[index]` without one."""
        where = f"{at}[{index}]"
        key_node = _peek(node, "key")
        key = self.key(key_node, f"{where}.key")
        if key is None:
            return None, where
        if key in first:
            self.fail(key_node, f"{where}.key", _duplicate(what, key, first[key]))
            return None, where
        first[key] = _line(key_node)
        return key, f"{at}.{key}"

    def item(self, node: yaml.Node, items_at: str, index: int, phase: str) -> ItemSpec | None:
        key, where = self.named(node, items_at, index, self.item_lines, "item")
        extra = ("line",) if self.stored else ()
        f = self.fields(node, where, _ITEM_FIELDS + extra, ("key", "title", "role", "due"))
        if f is None:
            return None
        if key is not None:
            self.item_at[key] = (_line(node), where)
        title = self.title(f.get("title"), f"{where}.title")
        role = self.role(f.get("role"), f"{where}.role")
        due = self.due(f.get("due"), f"{where}.due")
        steps = self.steps(f.get("steps"), f"{where}.steps")
        evidence = self.choice(f.get("evidence"), f"{where}.evidence", EVIDENCE) or "none"
        headcount = self.integer(f.get("headcount"), f"{where}.headcount", minimum=1)
        depends_on = self.text_list(f.get("depends_on"), f"{where}.depends_on") or []
        if key is not None:
            self.deps[key] = [(name, at) for name, at in depends_on]
        remind = self.day_list(f.get("remind"), f"{where}.remind")
        escalate = self.day_list(f.get("escalate"), f"{where}.escalate", escalation=True)
        source = self.text(f.get("source"), f"{where}.source")
        line = _line(node)
        if self.stored:
            line = self.integer(f.get("line"), f"{where}.line", minimum=0)
        if key is None or title is None or role is None or due is None:
            return None
        return ItemSpec(
            key=key,
            title_zh=title[0],
            title_en=title[1],
            phase=phase,
            role=role,
            due=due,
            steps=steps,
            evidence=evidence,
            headcount=headcount,
            depends_on=tuple(name for name, _ in depends_on),
            remind=remind,
            escalate=escalate,
            source=source,
            line=line or 0,
        )

    def role(self, node: yaml.Node | None, where: str) -> str | None:
        key = self.text(node, where)
        if key is None or key in ROLES or key in self.extra_roles:
            return key
        known = set(ROLES) | self.extra_roles
        hint = "declare it under roles: or use one from houqin/roles.py"
        self.fail(node, where, f"unknown role {key!r}{_suggest(key, known)}; {hint}")
        return None

    def due(self, node: yaml.Node | None, where: str) -> DueRule | None:
        text = self.text(node, where)
        if text is None:
            return None
        try:
            rule = parse_due(text)
        except DueRuleError as exc:
            self.fail(node, where, str(exc))
            return None
        anchor = rule.anchor
        if anchor is None or self.anchors is None or anchor in self.anchors:
            return rule
        if anchor in TERM_ANCHORS and self.period == "school_year":
            self.fail(node, where, f"{anchor} needs period autumn_term or spring_term")
        else:
            self.fail(node, where, f"anchor {anchor} is not listed in anchors:")
        return None

    def steps(self, node: yaml.Node | None, where: str) -> tuple[Step, ...]:
        steps: list[Step] = []
        for index, step in self.sequence(node, where):
            if _is_null(step):
                self.fail(step, f"{where}[{index}]", "empty step")
            elif isinstance(step, yaml.ScalarNode):
                text = self.text(step, f"{where}[{index}]")
                if text is not None:
                    steps.append(Step(text))
            else:
                title = self.title(step, f"{where}[{index}]")
                if title is not None:
                    steps.append(Step(*title))
        return tuple(steps)

    def check_dependencies(self) -> None:
        for key, deps in self.deps.items():
            where = f"{self.item_at[key][1]}.depends_on"
            for name, at in deps:
                if name not in self.item_at:
                    known = set(self.item_at)
                    self.fail(at, where, f"no item {name!r} in this plan{_suggest(name, known)}")
        order = list(self.item_at)
        graph = {k: [n for n, _ in self.deps.get(k, []) if n in self.item_at] for k in order}
        for cycle in _cycles(graph):
            start = min(range(len(cycle)), key=lambda i: order.index(cycle[i]))
            path = cycle[start:] + cycle[:start]
            line, where = self.item_at[path[0]]
            message = "dependency cycle: " + " -> ".join([*path, path[0]])
            self.problems.append(Problem(self.file, line, f"{where}.depends_on", message))

    # -- values ----------------------------------------------------------------------------

    def fail(self, node: yaml.Node | None, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, _line(node), where, message))

    def fields(
        self,
        node: yaml.Node | None,
        where: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...],
    ) -> dict[str, yaml.Node] | None:
        """A mapping's values by field name; unknown, duplicate and missing fields reported."""
        if not isinstance(node, yaml.MappingNode):
            expected = "a plan template (a mapping of fields)" if not where else "a mapping"
            self.fail(node, where, f"expected {expected}, found {_kind(node)}")
            return None
        found: dict[str, yaml.Node] = {}
        for name, key_node, value in self.pairs(node, where):
            path = f"{where}.{name}" if where else name
            if name not in allowed and _split_by_comma(node, value):
                cut = f"a comma inside {{...}} cut the text before {name!r}"
                self.fail(
                    key_node, path, f"{cut}; quote the whole text or use a Chinese comma (，)"
                )
            elif name not in allowed:
                self.fail(key_node, path, f"unknown field {name!r}{_suggest(name, allowed)}")
            else:
                found[name] = value
        for name in required:
            if name not in found or _is_null(found[name]):
                path = f"{where}.{name}" if where else name
                self.fail(found.get(name, node), path, "missing required field")
        return {k: v for k, v in found.items() if not _is_null(v)}

    def pairs(
        self, node: yaml.MappingNode, where: str
    ) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        seen: dict[str, int | None] = {}
        for key_node, value in node.value:
            name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            path = f"{where}.{name}" if where else str(name)
            if not isinstance(name, str):
                self.fail(key_node, where, "field names must be plain text")
            elif name in seen:
                self.fail(key_node, path, f"field given twice (first at line {seen[name]})")
            else:
                seen[name] = _line(key_node)
                yield name, key_node, value

    def entries(self, node: yaml.Node | None, where: str) -> Iterator[tuple[str, yaml.Node]]:
        if node is None or _is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, where, f"expected a mapping, found {_kind(node)}")
            return
        for name, _, value in self.pairs(node, where):
            yield name, value

    def sequence(
        self, node: yaml.Node | None, where: str, *, nonempty: bool = False
    ) -> Iterator[tuple[int, yaml.Node]]:
        if node is None or _is_null(node):
            return
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, where, f"expected a list, found {_kind(node)}")
        elif nonempty and not node.value:
            self.fail(node, where, "must list at least one entry")
        else:
            yield from enumerate(node.value)

    def text(self, node: yaml.Node | None, where: str) -> str | None:
        """A non-empty scalar as written (so `en: yes` is the word, not a boolean)."""
        if node is None or _is_null(node):
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, where, f"expected text, found {_kind(node)}")
            return None
        if not node.value.strip():
            self.fail(node, where, "must not be empty")
            return None
        return str(node.value).strip()

    def key(self, node: yaml.Node | None, where: str) -> str | None:
        key = self.text(node, where)
        if key is not None and not KEY_PATTERN.fullmatch(key):
            self.fail(node, where, f"key {key!r} must match [a-z][a-z0-9_]*")
            return None
        return key

    def choice(self, node: yaml.Node | None, where: str, allowed: tuple[str, ...]) -> str | None:
        value = self.text(node, where)
        if value is not None and value not in allowed:
            self.fail(node, where, f"{value!r} is not one of: {', '.join(allowed)}")
            return None
        return value

    def title(self, node: yaml.Node | None, where: str) -> tuple[str, str | None] | None:
        if node is None or _is_null(node):
            return None  # a missing title is reported by its parent as a required field
        f = self.fields(node, where, _TITLE_FIELDS, ("zh-CN",))
        if f is None:
            return None
        zh = self.text(f.get("zh-CN"), f"{where}.zh-CN")
        en = self.text(f.get("en"), f"{where}.en")
        return None if zh is None else (zh, en)

    def integer(self, node: yaml.Node | None, where: str, *, minimum: int) -> int | None:
        if node is None or _is_null(node):
            return None
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "int"):
            self.fail(node, where, f"expected a whole number, found {_kind(node)}")
            return None
        value: int = yaml.SafeLoader("").construct_yaml_int(node)
        if value < minimum:
            self.fail(node, where, f"must be {'positive' if minimum else 'at least 0'}")
            return None
        return value

    def day_list(
        self, node: yaml.Node | None, where: str, *, escalation: bool = False
    ) -> tuple[int, ...] | None:
        if node is None or _is_null(node):
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, where, f"expected a list of working days, found {_kind(node)}")
            return None
        days = [self.integer(n, f"{where}[{i}]", minimum=0) for i, n in enumerate(node.value)]
        if None in days:
            return None
        result = tuple(d for d in days if d is not None)
        if len(set(result)) != len(result):
            self.fail(node, where, "a day is listed twice")
        elif escalation and list(result) != sorted(result):
            self.fail(node, where, "escalation days must increase (supervisor, then leadership)")
        elif escalation and len(result) > 2:
            self.fail(node, where, "at most two escalation levels: supervisor, leadership")
        return result

    def time_of_day(self, node: yaml.Node | None, where: str) -> time | None:
        # Unquoted 18:00 is a YAML 1.1 base-60 integer; the text as written is what was meant.
        text = self.text(node, where)
        if text is None:
            return None
        try:
            return parse_time(text)
        except DueRuleError as exc:
            self.fail(node, where, str(exc))
            return None

    def text_list(self, node: yaml.Node | None, where: str) -> list[tuple[str, yaml.Node]] | None:
        if node is None or _is_null(node):
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, where, f"expected a list, found {_kind(node)}")
            return None
        names: list[tuple[str, yaml.Node]] = []
        for index, entry in enumerate(node.value):
            name = self.text(entry, f"{where}[{index}]")
            if name is None:
                if _is_null(entry):
                    self.fail(entry, f"{where}[{index}]", "empty entry")
                continue
            if name in (n for n, _ in names):
                self.fail(entry, f"{where}[{index}]", f"{name!r} is listed twice")
            names.append((name, entry))
        return names


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each elementary cycle met by a depth-first walk, once (by its set of members)."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    done: set[str] = set()

    def walk(key: str, stack: list[str]) -> None:
        for dep in graph[key]:
            if dep in stack:
                cycle = stack[stack.index(dep) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif dep not in done:
                walk(dep, [*stack, dep])
        done.add(key)

    for key in graph:
        if key not in done:
            walk(key, [key])
    return found


def _line(node: yaml.Node | None) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"


def _peek(node: yaml.Node, name: str) -> yaml.Node | None:
    """The value of field name in a mapping node, before the mapping is checked."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == name:
                return None if _is_null(value) else value
    return None


def _split_by_comma(mapping: yaml.MappingNode, value: yaml.Node) -> bool:
    """`{zh-CN: 甲, 乙}` reads as a field `乙` with no value: a flow mapping cut by a comma."""
    return bool(mapping.flow_style) and _is_null(value) and value.value == ""


def _kind(node: yaml.Node | None) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node is None or _is_null(node):
        return "nothing"
    return f"{node.value!r}"


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _duplicate(what: str, key: str, first: int | None) -> str:
    return f"duplicate {what} key {key!r}" + (f" (first at line {first})" if first else "")
