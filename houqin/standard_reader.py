"""Reading one assessment standard: its YAML nodes checked field by field, every problem located.

The generic rules (nulls, unknown and repeated fields, text, numbers) are ``houqin.yaml_reader``'s;
this reader knows a standard's own fields. ``houqin.standards`` finds the files; the standard it
builds is ``houqin.standard_specs``.
"""

from __future__ import annotations

import yaml

from houqin.bilingual import Bilingual
from houqin.errors import Problem
from houqin.roles import ROLES
from houqin.school_profiles import read_applies_to
from houqin.standard_specs import (
    LEDGER_INPUTS,
    SOURCES,
    UNITS,
    Band,
    Category,
    Deduction,
    Kpi,
    KpiInput,
    Standard,
    Veto,
)
from houqin.yaml_reader import Node, NodeReader, line

_TOP = (
    "key",
    "title",
    "source",
    "applies_to",
    "levels",
    "no_data_level",
    "supervision",
    "bands",
    "categories",
    "deductions",
    "vetoes",
)
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
        self.keys: dict[str, int | None] = {}  # KPI, veto and deduction key -> its line

    def standard(self, root: Node) -> Standard | None:
        f = self.fields(root, "", _TOP, _TOP_REQUIRED)
        if f is None:
            return None
        key = self.key(f.get("key"), "key")
        title = self.title(f.get("title"), "title")
        names = self.level_names(f.get("levels"))
        if "no_data_level" in f:
            self.fail(
                f["no_data_level"],
                "no_data_level",
                "no longer used: a KPI without data is reported as 数据不足 (insufficient data); "
                "delete this line",
            )
        supervision = self.weights(f.get("supervision"), "supervision")
        bands = self.bands(f.get("bands"))
        categories = self.categories(f.get("categories"), supervision)
        deductions = tuple(
            Deduction(
                k,
                t,
                self.number(s.get("points"), f"{w}.points", 0) or 0,
                self.number(s.get("max"), f"{w}.max", 0),
            )
            for w, s, k, t in self.named(
                f.get("deductions"), "deductions", ("points", "max"), ("points",)
            )
        )
        band_keys = tuple(b.key for b in bands)  # a veto's max_band names one of them
        vetoes = tuple(
            Veto(
                k,
                t,
                self.text(s.get("source"), f"{w}.source"),
                self.choice(s.get("max_band"), f"{w}.max_band", band_keys),
            )
            for w, s, k, t in self.named(f.get("vetoes"), "vetoes", ("source", "max_band"), ())
        )
        source = self.text(f.get("source"), "source")
        applies = read_applies_to(self, f.get("applies_to"), "applies_to")
        if self.problems or key is None or title is None:
            return None
        return Standard(
            key,
            title,
            source,
            names,
            supervision,
            bands,
            categories,
            deductions,
            vetoes,
            self.file,
            applies,
        )

    def level_names(self, node: Node | None) -> dict[int, Bilingual]:
        names = {}
        for name, value in self.entries(node, "levels"):
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
            en = self.text(f.get("en"), f"{w}.en")
            if low is not None and bands and low >= bands[-1].min:
                self.fail(f["min"], f"{w}.min", "list bands from the highest minimum down")
            elif low is not None and zh is not None:
                bands.append(Band(key, low, Bilingual(zh, en)))
        if bands and bands[-1].min != 0:
            self.fail(node, "bands", "the last band must have min: 0 (it takes the rest)")
        return tuple(bands)

    def categories(self, node: Node | None, supervision: Weights) -> tuple[Category, ...]:
        cats = []
        fields = ("weight", "kpis")
        for w, f, key, title in self.named(node, "categories", fields, fields):
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
        self,
        w: str,
        f: dict[str, Node],
        key: str,
        title: Bilingual,
        category: str,
        supervision: Weights,
    ) -> Kpi | None:
        weight = self.number(f.get("weight"), f"{w}.weight", 0, 100)
        unit = self.choice(f.get("unit"), f"{w}.unit", UNITS)
        better = self.choice(f.get("better"), f"{w}.better", ("higher", "lower"), "higher")
        given = self.kpi_input(f.get("input"), f"{w}.input", unit, supervision)
        high = 100 if unit == "percent" else None
        nodes = list(self.sequence(f.get("levels"), f"{w}.levels"))
        read = [self.number(n, f"{w}.levels[{i}]", 0, high) for i, n in nodes]
        bounds = [b for b in read if b is not None]  # four numbers, when every bound was read
        if len(nodes) != 4:
            message = "give four bounds: for levels 5, 4, 3 and 2 (beyond them is level 1)"
            self.fail(f.get("levels"), f"{w}.levels", message)
        elif len(bounds) == 4 and (
            bounds != sorted(bounds, reverse=better == "higher") or len(set(bounds)) != 4
        ):
            way = "decrease" if better == "higher" else "increase (better: lower)"
            self.fail(f["levels"], f"{w}.levels", f"the bounds must strictly {way}")
        if weight is None or unit is None or better is None or given is None or len(bounds) != 4:
            return None
        b5, b4, b3, b2 = bounds
        return Kpi(key, title, category, weight, unit, better, given, (b5, b4, b3, b2))

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
        for name, value in self.entries(node, where):
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

    def named(
        self,
        node: Node | None,
        where: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...],
        titled: bool = True,
    ) -> list[tuple[str, dict[str, Node], str, Bilingual]]:
        """List entries that each have a key (unique in the file) and, if titled, a title."""
        head = ("key", "title") if titled else ("key",)
        out = []
        for i, entry in self.sequence(node, where):
            w = f"{where}[{i}]"
            f = self.fields(entry, w, head + allowed, head + required)
            if f is None:
                continue
            key = self.unique_key(f.get("key"), f"{w}.key", unique=where != "bands")
            title = self.title(f.get("title"), f"{w}.title") if titled else Bilingual("")
            if key is not None and title is not None:
                out.append((w, f, key, title))
        return out

    def unique_key(self, node: Node | None, where: str, unique: bool) -> str | None:
        """A key; KPI, veto and deduction keys share one namespace in the file."""
        key = self.key(node, where)
        if key is None or not unique:
            return key
        if key in self.keys:
            self.fail(node, where, f"key {key!r} is already used (line {self.keys[key]})")
            return None
        self.keys[key] = line(node)
        return key
