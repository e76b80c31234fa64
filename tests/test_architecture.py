"""The layers keep their rules (docs/architecture.md), read from the source with ``ast``:

- no import cycle among the modules of houqin/, calendars/ and notifications/;
- no import inside a function unless its line says why: ``# deliberate: <reason>``;
- the core reaches no Prefect, no flows/ or tasks/, and no entry point, through any chain of
  imports (a direct-import check let the core reach Prefect through houqin/cli.py);
- every module docs/architecture.md names exists, and its entry-layer list is this one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("houqin", "calendars", "notifications")  # checked for cycles and hidden imports
WRAPPERS = ("flows", "tasks")  # the Prefect layer over the core
MARKER = "# deliberate:"
# The entry layer: what a person or a process starts (the CLI, the web app, the demo). It may
# start flows through Prefect; everything else in PACKAGES is the core, which may not.
ENTRY_LAYER = (
    "houqin.cli",  # the `houqin` command, and everything under it
    "houqin.web",  # the web UI, and everything under it
    "houqin.demo",  # replays a season through the launch and sweep flows
)


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    path: str  # its file, relative to ROOT
    line: int
    names: tuple[str, ...]  # dotted names the statement may load (module, or module.attribute)
    in_function: bool
    type_checking: bool  # under ``if TYPE_CHECKING:``: never executed
    text: str  # the statement's lines, with their comments (the marker may end any of them)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES + WRAPPERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def resolve(name: str) -> str | None:
    """The project module a dotted name loads (``houqin.items.tick`` -> ``houqin.items``)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _walk(
    node: ast.AST, in_function: bool, type_checking: bool
) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, in_function, type_checking
        inner = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        guarded = type_checking or (
            isinstance(child, ast.If) and ast.unparse(child.test).endswith("TYPE_CHECKING")
        )
        yield from _walk(child, inner, guarded)


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    path = modules()[module]
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node, in_function, type_checking in _walk(ast.parse(source), False, False):
        if isinstance(node, ast.Import):
            names = tuple(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .school_year import ...
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names = (base, *(f"{base}.{alias.name}" for alias in node.names))
        else:
            continue
        found.append(
            Import(
                module,
                str(path.relative_to(ROOT)),
                node.lineno,
                names,
                in_function,
                type_checking,
                " ".join(ln.strip() for ln in lines[node.lineno - 1 : node.end_lineno]),
            )
        )
    return tuple(found)


def project_edges(module: str) -> set[str]:
    """The project modules ``module`` imports (a package's ``__init__`` when named as such)."""
    edges = set()
    for imp in imports_of(module):
        if imp.type_checking:
            continue
        for name in imp.names:
            target = resolve(name)
            if target is not None and target != module:
                edges.add(target)
    return edges


def in_packages(module: str, packages: tuple[str, ...] = PACKAGES) -> bool:
    return module.split(".")[0] in packages


def is_entry(module: str) -> bool:
    return any(module == e or module.startswith(e + ".") for e in ENTRY_LAYER)


def core_modules() -> list[str]:
    return [m for m in modules() if in_packages(m) and not is_entry(m)]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# -- the rules ----------------------------------------------------------------------------------


def test_no_import_cycle_among_the_modules_of_houqin_calendars_and_notifications() -> None:
    graph = {
        m: {t for t in project_edges(m) if in_packages(t)} for m in modules() if in_packages(m)
    }

    assert cycles(graph) == []


def test_an_import_inside_a_function_says_why() -> None:
    hidden = [
        f"{imp.path}:{imp.line}: {imp.text}"
        for m in modules()
        if in_packages(m)
        for imp in imports_of(m)
        if imp.in_function and not re.search(re.escape(MARKER) + r"\s*\S", imp.text)
    ]

    assert hidden == [], f"move these to the top of the module, or end the line with {MARKER} why"


def test_the_core_reaches_no_prefect_no_flows_and_no_entry_point_through_any_import() -> None:
    """Followed through every import a call may run (in functions too), and through packages'
    ``__init__``, which importing a submodule runs."""
    bad = []
    for start in core_modules():
        seen, todo, via = {start}, [start], {start: start}
        while todo:
            module = todo.pop()
            for imp in imports_of(module):
                if imp.type_checking:
                    continue
                if any(n == "prefect" or n.startswith("prefect.") for n in imp.names):
                    bad.append(f"{start} reaches Prefect: {via[module]} ({imp.path}:{imp.line})")
            targets = set(project_edges(module))
            targets |= {
                ".".join(t.split(".")[:i]) for t in targets for i in range(1, t.count(".") + 1)
            }
            for target in sorted(targets & modules().keys() - seen):
                seen.add(target)
                via[target] = f"{via[module]} -> {target}"
                if is_entry(target) or in_packages(target, WRAPPERS):
                    bad.append(f"{start} reaches the layer above: {via[target]}")
                else:
                    todo.append(target)

    assert bad == []


def test_the_checks_see_what_they_check() -> None:
    """The rules above pass on real code, not on an empty graph or a misread marker."""
    assert {"houqin.items", "houqin.web.shared", "calendars.workdays", "flows.sweep"} <= set(
        modules()
    )
    assert resolve("houqin.items.tick") == "houqin.items"
    assert "houqin.items" in project_edges("houqin.web.ticks")
    assert "calendars.school_year" in project_edges("calendars.workdays")  # a relative import
    assert "prefect" in {n.split(".")[0] for i in imports_of("flows.sweep") for n in i.names}
    marked = [i for i in imports_of("houqin.reports.render") if i.in_function]
    assert marked and MARKER in marked[0].text
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "houqin.items" in core_modules() and "houqin.web.app" not in core_modules()
    assert "houqin.cli.items" not in core_modules()


# -- docs/architecture.md -----------------------------------------------------------------------

DOC = ROOT / "docs" / "architecture.md"


def test_every_module_the_architecture_doc_names_exists() -> None:
    named = set(
        re.findall(
            r"`((?:houqin|calendars|notifications|flows|tasks)/[\w/]*\.py)`", DOC.read_text()
        )
    )

    assert len(named) > 30  # the concept table
    assert sorted(p for p in named if not (ROOT / p).is_file()) == []


def test_the_architecture_doc_lists_this_entry_layer() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Entry points") : text.index("## Where each concept lives")]

    listed = set(re.findall(r"`(houqin\.[\w.]+)`", section))

    assert listed == set(ENTRY_LAYER)


@pytest.mark.parametrize("package", ["houqin/web", "houqin/reports", *PACKAGES[1:], *WRAPPERS])
def test_the_architecture_doc_covers_every_package(package: str) -> None:
    assert f"`{package}/`" in DOC.read_text(encoding="utf-8")


def test_the_architecture_doc_names_every_module() -> None:
    text = DOC.read_text(encoding="utf-8")
    modules = [
        path.relative_to(ROOT).as_posix()
        for top in ("houqin", "calendars", "notifications", "flows", "tasks")
        for path in sorted((ROOT / top).rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py")
    ]

    assert [m for m in modules if f"`{m}`" not in text] == []  # a new module gets its row
