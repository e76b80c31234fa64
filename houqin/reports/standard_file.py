"""Reading one standards file: the YAML nodes checked field by field, every problem located.

Kept apart from ``houqin.standards`` (what a standard holds, where files are found) because the
checks are most of the code and only the loader needs them.
"""

from __future__ import annotations

import yaml

from houqin.errors import Problem
from houqin.reports.yaml_nodes import Node, NodeReader
from houqin.roles import ROLES
from houqin.standards import (
    LEDGER_INPUTS,
    SOURCES,
    UNITS,
    Band,
    Category,
    Deduction,
    Kpi,
    KpiInput,
    Standard,
    Title,
    Veto,
)

_TOP = ("key", "title", "source", "levels", "no_data_level", "supervision", "bands",
        "categories", "deductions", "vetoes")  # fmt: skip
_TOP_REQUIRED = ("key", "title", "levels", "supervision", "bands", "categories")
_KPI = ("weight", "unit", "better", "input", "levels")
_KPI_REQUIRED = ("weight", "unit", "input", "levels")
_INPUT = ("ledger", "inspection", "roles", "plans", "limit_minutes", "limit_hours")
_LIMIT = {"repair_response": "limit_minutes", "repair_completion": "limit_hours"}
Weights = tuple[tuple[str, float], ...]


def read(
    root: Node, file: str, known_plans: set[str] | None
) -> tuple[Standard | None, list[Problem]]:
    """The standard in ``root`` (None if there is any problem) and the problems found."""
    reader = _Reader(file, known_plans)
    standard = reader.standard(root)
    return (None if reader.problems else standard), reader.problems


class _Reader(NodeReader):
    """The standard's own fields; KPI, veto and deduction keys share one namespace."""

    def __init__(self, file: str, known_plans: set[str] | None):
        super().__init__(file)
        self.known_plans = known_plans

    def standard(self, root: Node) -> Standard | None:
        f = self.fields(root, "", _TOP, _TOP_REQUIRED)
        if f is None:
            return None
        key = self.key(f.get("key"), "key", unique=False)
        title = self.title(f.get("title"), "title")
        names = self.level_names(f.get("levels"))
        if "no_data_level" in f:
            self.fail(f["no_data_level"], "no_data_level", "no longer used: a KPI without data "
                      "is reported as 数据不足 (insufficient data); delete this line")  # fmt: skip
        supervision = self.weights(f.get("supervision"), "supervision")
        bands = self.bands(f.get("bands"))
        categories = self.categories(f.get("categories"), supervision)
        deductions = tuple(
            Deduction(k, t, self.number(s.get("points"), f"{w}.points", 0) or 0,
                      self.number(s.get("max"), f"{w}.max", 0, default=None))
            for w, s, k, t in self.named(f.get("deductions"), "deductions", ("points", "max"),
                                         ("points",))
        )  # fmt: skip
        band_keys = tuple(b.key for b in bands)  # a veto's max_band names one of them
        vetoes = tuple(
            Veto(k, t, self.text(s["source"], f"{w}.source") if "source" in s else None,
                 self.choice(s.get("max_band"), f"{w}.max_band", band_keys))
            for w, s, k, t in self.named(f.get("vetoes"), "vetoes", ("source", "max_band"), ())
        )  # fmt: skip
        source = self.text(f["source"], "source") if "source" in f else None
        if self.problems or None in (key, title):
            return None
        return Standard(
            key, title, source, names, supervision, bands,  # type: ignore[arg-type]
            categories, deductions, vetoes, self.file,
        )  # fmt: skip

    def level_names(self, node: Node | None) -> dict[int, Title]:
        names = {}
        for name, value in self.mapping(node, "levels"):
            if name not in ("1", "2", "3", "4", "5"):
                self.fail(value, f"levels.{name}", "levels are 1, 2, 3, 4 and 5")
            elif (title := self.title(value, f"levels.{name}")) is not None:
                names[int(name)] = title
        if node is not None and len(names) != 5:
            self.fail(node, "levels", "name all five levels, 1 (lowest) to 5 (highest)")
        return names

    def bands(self, node: Node | None) -> tuple[Band, ...]:
        bands: list[Band] = []
        entries = self.named(node, "bands", ("min", "zh-CN", "en"), ("min", "zh-CN"), False)
        for w, f, key, _ in entries:
            low = self.number(f.get("min"), f"{w}.min", 0, 100)
            zh = self.text(f.get("zh-CN"), f"{w}.zh-CN")
            en = self.text(f["en"], f"{w}.en") if "en" in f else None
            if low is not None and bands and low >= bands[-1].min:
                self.fail(f["min"], f"{w}.min", "list bands from the highest minimum down")
            elif low is not None and zh is not None:
                bands.append(Band(key, low, Title(zh, en)))
        if bands and bands[-1].min != 0:
            self.fail(node, "bands", "the last band must have min: 0 (it takes the rest)")
        return tuple(bands)

    def categories(self, node: Node | None, supervision: Weights) -> tuple[Category, ...]:
        cats = []
        for w, f, key, title in self.named(node, "categories", ("weight", "kpis"),
                                           ("weight", "kpis")):  # fmt: skip
            weight = self.number(f.get("weight"), f"{w}.weight", 0, 100)
            entries = self.named(f.get("kpis"), f"{w}.kpis", _KPI, _KPI_REQUIRED)
            kpis = [self.kpi(kw, kf, k, t, key, supervision) for kw, kf, k, t in entries]
            given = sum(k.weight for k in kpis if k is not None)
            # add up only when every KPI was read: a broken one would report a second problem
            listed = f.get("kpis")
            count = len(listed.value) if isinstance(listed, yaml.SequenceNode) else -1
            complete = None not in kpis and len(kpis) == count
            if weight is not None and complete and abs(given - weight) > 1e-9:
                message = f"its KPI weights add up to {given:g}, not {weight:g}"
                self.fail(f["weight"], f"{w}.weight", message)
            if weight is not None:
                cats.append(Category(key, title, weight, tuple(k for k in kpis if k)))
        total = sum(c.weight for c in cats)
        if cats and abs(total - 100) > 1e-9:
            self.fail(node, "categories", f"category weights add up to {total:g}, not 100")
        return tuple(cats)

    def kpi(
        self, w: str, f: dict[str, Node], key: str, title: Title, category: str,
        supervision: Weights,
    ) -> Kpi | None:  # fmt: skip
        weight = self.number(f.get("weight"), f"{w}.weight", 0, 100)
        unit = self.choice(f.get("unit"), f"{w}.unit", UNITS)
        better = self.choice(f.get("better"), f"{w}.better", ("higher", "lower"), "higher")
        given = self.kpi_input(f.get("input"), f"{w}.input", unit, supervision)
        high = 100 if unit == "percent" else None
        nodes = self.items(f.get("levels"), f"{w}.levels")
        bounds = [self.number(n, f"{w}.levels[{i}]", 0, high) for i, n in enumerate(nodes)]
        if len(bounds) != 4:
            message = "give four bounds: for levels 5, 4, 3 and 2 (beyond them is level 1)"
            self.fail(f.get("levels"), f"{w}.levels", message)
        elif None not in bounds and (
            bounds != sorted(bounds, reverse=better == "higher") or len(set(bounds)) != 4
        ):
            way = "decrease" if better == "higher" else "increase (better: lower)"
            self.fail(f["levels"], f"{w}.levels", f"the bounds must strictly {way}")
        if None in (weight, unit, better, given) or len(bounds) != 4 or None in bounds:
            return None
        return Kpi(key, title, category, weight, unit, better, given, tuple(bounds))  # type: ignore[arg-type]

    def kpi_input(
        self, node: Node | None, w: str, unit: str | None, supervision: Weights
    ) -> KpiInput | None:
        f = self.fields(node, w, _INPUT, ())
        if f is None:
            return None
        if ("ledger" in f) == ("inspection" in f):
            self.fail(node, w, "give either ledger: <measure> or inspection: <sources>")
            return None
        if "inspection" in f:
            for extra in set(f) - {"inspection"}:
                self.fail(f[extra], f"{w}.{extra}", "applies to ledger inputs only")
            spec = f["inspection"]
            if isinstance(spec, yaml.MappingNode):
                sources = self.weights(spec, f"{w}.inspection")
            else:
                sources = self.source_list(spec, f"{w}.inspection", supervision)
            return KpiInput("inspection", sources=sources) if sources else None
        kind = self.choice(f["ledger"], f"{w}.ledger", tuple(LEDGER_INPUTS))
        if kind is None:
            return None
        if unit is not None and LEDGER_INPUTS[kind] != unit:
            self.fail(f["ledger"], f"{w}.ledger", f"{kind} gives unit: {LEDGER_INPUTS[kind]}")
        need = _LIMIT.get(kind)
        allowed = {"ledger", need} if need else {"ledger", "roles", "plans"}
        for extra in set(f) - allowed:
            self.fail(f[extra], f"{w}.{extra}", f"does not apply to ledger: {kind}")
        if need and need not in f:
            self.fail(node, f"{w}.{need}", f"missing required field for ledger: {kind}")
        limit = self.number(f[need], f"{w}.{need}", 0) if need and need in f else None
        return KpiInput(
            kind,
            roles=self.names(f.get("roles"), f"{w}.roles", set(ROLES), "role"),
            plans=self.names(f.get("plans"), f"{w}.plans", self.known_plans, "plan template"),
            limit_minutes=limit if need == "limit_minutes" else None,
            limit_hours=limit if need == "limit_hours" else None,
        )

    def weights(self, node: Node | None, where: str) -> Weights:
        pairs = []
        for name, value in self.mapping(node, where):
            weight = self.number(value, f"{where}.{name}", 0, 1)
            if name not in SOURCES:
                self.fail(value, f"{where}.{name}", f"sources are: {', '.join(SOURCES)}")
            elif weight:
                pairs.append((name, weight))
        total = sum(w for _, w in pairs)
        if pairs and abs(total - 1) > 1e-9:
            self.fail(node, where, f"weights add up to {total:g}, not 1")
        return tuple(pairs)

    def source_list(self, node: Node, where: str, supervision: Weights) -> Weights:
        """Sources listed by name take their supervision weights, rescaled to add up to 1."""
        names = self.names(node, where, set(SOURCES), "source")
        chosen = [(s, w) for s, w in supervision if s in names]
        total = sum(w for _, w in chosen)
        if names and not chosen and supervision:
            self.fail(node, where, "none of these sources has a weight under supervision")
        return tuple((s, round(w / total, 6)) for s, w in chosen)
