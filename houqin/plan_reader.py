"""Reading one plan template: its YAML nodes checked field by field, every problem with its line.

The generic rules (nulls, unknown and repeated fields, text, numbers) are ``houqin.yaml_reader``'s;
this reader knows a plan's own fields. ``houqin.plan_templates`` finds the files and loads them
through ``read_file``; the templates it builds are ``houqin.plan_specs``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from pathlib import Path

import yaml

from houqin.due_rules import (
    KNOWN_ANCHORS,
    OCCURRENCE,
    TERM_ANCHORS,
    DueRule,
    DueRuleError,
    parse_due,
    parse_time,
)
from houqin.errors import Problem, ValidationFailed
from houqin.plan_specs import (
    DEFAULT_DUE_TIME,
    DEFAULT_ESCALATE,
    DEFAULT_REMIND,
    EVIDENCE,
    PERIODS,
    SEASONS,
    ItemSpec,
    PhaseSpec,
    PlanTemplate,
    Step,
)
from houqin.recurrence import Repeat, RepeatError, parse_repeat
from houqin.roles import ROLES, Role
from houqin.school_profiles import read_applies_to
from houqin.yaml_reader import KEY, Node, NodeReader, is_null, kind, line, read_yaml, suggest

_PLAN_FIELDS = (
    "key",
    "title",
    "season",
    "period",
    "anchors",
    "launch",
    "applies_to",
    "due_time",
    "remind",
    "escalate",
    "roles",
    "phases",
)
_PHASE_FIELDS = ("key", "title", "items")
_ITEM_FIELDS = (
    "key",
    "title",
    "role",
    "due",
    "steps",
    "evidence",
    "headcount",
    "depends_on",
    "remind",
    "escalate",
    "source",
    "repeat",
    "shared",
    "applies_to",
)


def read_file(path: Path, shown: str) -> Reader:
    """The reader after reading ``path``: its ``template``, or its ``problems``."""
    reader = Reader(shown)
    try:
        root = read_yaml(path, shown)
    except ValidationFailed as exc:
        reader.problems += exc.problems
    else:
        reader.template = reader.plan(root)
    return reader


class Reader(NodeReader):
    """Walks one composed YAML tree, building the template and collecting every problem."""

    def __init__(self, file: str, *, stored: bool = False):
        super().__init__(file)
        self.stored = stored  # from_dict: accept version, path and item lines
        self.template: PlanTemplate | None = None
        self.plan_key: str | None = None
        self.key_line: int | None = None
        self.period: str | None = None
        self.anchors: set[str] | None = None  # None: unreadable, so don't check rules against it
        self.extra_roles: set[str] = set()
        self.item_at: dict[str, tuple[int | None, str]] = {}  # key -> line, field path
        self.item_lines: dict[str, int | None] = {}  # key -> line of its key
        self.deps: dict[str, list[tuple[str, Node]]] = {}

    # -- the template ----------------------------------------------------------------------

    def plan(self, root: Node) -> PlanTemplate | None:
        extra = ("version", "path") if self.stored else ()
        required = ("key", "title", "period", "phases")
        what = "a plan template (a mapping of fields)"
        f = self.fields(root, "", _PLAN_FIELDS + extra, required, what=what)
        if f is None:
            return None
        key = self.key(f.get("key"), "key")
        self.plan_key, self.key_line = key, line(f.get("key"))
        title = self.title(f.get("title"), "title")
        season = self.choice(f.get("season"), "season", SEASONS)
        self.period = self.choice(f.get("period"), "period", PERIODS)
        anchors = self.anchor_list(f.get("anchors"))
        launch = self.due(f.get("launch"), "launch")  # a due rule, checked like an item's
        applies = read_applies_to(self, f.get("applies_to"), "applies_to")
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
            title_zh=title.zh,
            title_en=title.en,
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
            applies=applies,
        )
        return replace(template, version=template.compute_version())

    def anchor_list(self, node: Node | None) -> tuple[str, ...] | None:
        names = self.text_list(node, "anchors")
        if names is None:
            self.anchors = set() if node is None or is_null(node) else None
            return None
        self.anchors = {name for name, _ in names}
        for name, at in names:
            where = "anchors"
            if name not in KNOWN_ANCHORS:
                self.fail(at, where, f"unknown anchor {name!r}{suggest(name, KNOWN_ANCHORS)}")
            elif name in TERM_ANCHORS and self.period == "school_year":
                self.fail(at, where, f"{name} needs period autumn_term or spring_term")
        return tuple(name for name, _ in names)

    def roles(self, node: Node | None) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        for key, value in self.entries(node, "roles"):
            where = f"roles.{key}"
            self.extra_roles.add(key)
            if not KEY.fullmatch(key):
                self.fail(value, where, f"role key {key!r} must match [a-z][a-z0-9_]*")
            elif key in ROLES:
                self.fail(value, where, f"role {key!r} is already defined in houqin/roles.py")
            title = self.title(value, where)
            if title is not None:
                roles[key] = Role(key, title.zh, title.en or title.zh)
        return roles

    # -- phases and items ------------------------------------------------------------------

    def phases(self, node: Node | None) -> tuple[tuple[PhaseSpec, ...], tuple[ItemSpec, ...]]:
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
                phases.append(PhaseSpec(key, title.zh, title.en))
        return tuple(phases), tuple(items)

    def named(
        self, node: Node, at: str, index: int, first: dict[str, int | None], what: str
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
        first[key] = line(key_node)
        return key, f"{at}.{key}"

    def item(self, node: Node, items_at: str, index: int, phase: str) -> ItemSpec | None:
        key, where = self.named(node, items_at, index, self.item_lines, "item")
        extra = ("line",) if self.stored else ()
        f = self.fields(node, where, _ITEM_FIELDS + extra, ("key", "title", "role", "due"))
        if f is None:
            return None
        if key is not None:
            self.item_at[key] = (line(node), where)
        title = self.title(f.get("title"), f"{where}.title")
        role = self.role(f.get("role"), f"{where}.role")
        repeat = self.repeat(f.get("repeat"), f"{where}.repeat")
        due = self.due(f.get("due"), f"{where}.due", repeat=repeat, written="repeat" in f)
        shared = self.key(f.get("shared"), f"{where}.shared") if f.get("shared") else None
        applies = read_applies_to(self, f.get("applies_to"), f"{where}.applies_to")
        steps = self.steps(f.get("steps"), f"{where}.steps")
        evidence = self.choice(f.get("evidence"), f"{where}.evidence", EVIDENCE) or "none"
        headcount = self.integer(f.get("headcount"), f"{where}.headcount", minimum=1)
        depends_on = self.text_list(f.get("depends_on"), f"{where}.depends_on") or []
        if key is not None:
            self.deps[key] = [(name, at) for name, at in depends_on]
        remind = self.day_list(f.get("remind"), f"{where}.remind")
        escalate = self.day_list(f.get("escalate"), f"{where}.escalate", escalation=True)
        source = self.text(f.get("source"), f"{where}.source")
        starts = line(node)
        if self.stored:
            starts = self.integer(f.get("line"), f"{where}.line", minimum=0)
        if key is None or title is None or role is None or due is None:
            return None
        return ItemSpec(
            key=key,
            title_zh=title.zh,
            title_en=title.en,
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
            line=starts or 0,
            repeat=repeat,
            shared=shared,
            applies=applies,
        )

    def repeat(self, node: Node | None, where: str) -> Repeat | None:
        text = self.text(node, where)
        if text is None:
            return None
        try:
            rule = parse_repeat(text)
        except RepeatError as exc:
            self.fail(node, where, str(exc))
            return None
        if rule.kind == "each_term" and self.period != "school_year":
            self.fail(node, where, "each term needs period school_year (a term plan has one term)")
            return None
        event = rule.event
        if event and event != "term" and self.anchors is not None:
            wanted = [f"{event}.{edge}" for edge in ("start", "end")]
            if not set(wanted) <= self.anchors:
                self.fail(node, where, f"list {' and '.join(wanted)} under anchors:")
                return None
        return rule

    def role(self, node: Node | None, where: str) -> str | None:
        key = self.text(node, where)
        if key is None or key in ROLES or key in self.extra_roles:
            return key
        known = set(ROLES) | self.extra_roles
        hint = "declare it under roles: or use one from houqin/roles.py"
        self.fail(node, where, f"unknown role {key!r}{suggest(key, known)}; {hint}")
        return None

    def due(
        self,
        node: Node | None,
        where: str,
        *,
        repeat: Repeat | None = None,
        written: bool = False,  # a repeat: is written (if unreadable, it said so already)
    ) -> DueRule | None:
        text = self.text(node, where)
        if text is None:
            return None
        try:
            rule = parse_due(text)
        except DueRuleError as exc:
            self.fail(node, where, str(exc))
            return None
        anchor = rule.anchor
        if anchor == OCCURRENCE:
            if repeat is None and not written:
                self.fail(node, where, "the anchor occurrence needs a repeat: rule on the item")
                return None
            return rule if repeat is not None else None
        if repeat is not None and repeat.kind == "each_term" and anchor in TERM_ANCHORS:
            return rule  # each term: term.* is the occurrence's term
        if anchor is None or self.anchors is None or anchor in self.anchors:
            return rule
        if anchor in TERM_ANCHORS and self.period == "school_year":
            self.fail(node, where, f"{anchor} needs period autumn_term or spring_term")
        else:
            self.fail(node, where, f"anchor {anchor} is not listed in anchors:")
        return None

    def steps(self, node: Node | None, where: str) -> tuple[Step, ...]:
        steps: list[Step] = []
        for index, step in self.sequence(node, where):
            if isinstance(step, yaml.MappingNode):
                title = self.title(step, f"{where}[{index}]")
            else:  # plain text: a step without an English text
                text = self.text(step, f"{where}[{index}]")
                title = None if text is None else Step(text)
            if title is not None:
                steps.append(title)
        return tuple(steps)

    def check_dependencies(self) -> None:
        for key, deps in self.deps.items():
            where = f"{self.item_at[key][1]}.depends_on"
            for name, at in deps:
                if name not in self.item_at:
                    known = set(self.item_at)
                    self.fail(at, where, f"no item {name!r} in this plan{suggest(name, known)}")
        order = list(self.item_at)
        graph = {k: [n for n, _ in self.deps.get(k, []) if n in self.item_at] for k in order}
        for cycle in _cycles(graph):
            start = min(range(len(cycle)), key=lambda i: order.index(cycle[i]))
            path = cycle[start:] + cycle[:start]
            first, where = self.item_at[path[0]]
            message = "dependency cycle: " + " -> ".join([*path, path[0]])
            self.problems.append(Problem(self.file, first, f"{where}.depends_on", message))

    # -- values ----------------------------------------------------------------------------

    def day_list(
        self, node: Node | None, where: str, *, escalation: bool = False
    ) -> tuple[int, ...] | None:
        if node is None or is_null(node):
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, where, f"expected a list of working days, found {kind(node)}")
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

    def time_of_day(self, node: Node | None, where: str) -> time | None:
        # Unquoted 18:00 is a YAML 1.1 base-60 integer; the text as written is what was meant.
        text = self.text(node, where)
        if text is None:
            return None
        try:
            return parse_time(text)
        except DueRuleError as exc:
            self.fail(node, where, str(exc))
            return None

    def text_list(self, node: Node | None, where: str) -> list[tuple[str, Node]] | None:
        if node is None or is_null(node):
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, where, f"expected a list, found {kind(node)}")
            return None
        names: list[tuple[str, Node]] = []
        for index, entry in enumerate(node.value):
            name = self.text(entry, f"{where}[{index}]")
            if name is None:
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


def _peek(node: Node, name: str) -> Node | None:
    """The value of field name in a mapping node, before the mapping is checked."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == name:
                return None if is_null(value) else value
    return None


def _duplicate(what: str, key: str, first: int | None) -> str:
    return f"duplicate {what} key {key!r}" + (f" (first at line {first})" if first else "")
