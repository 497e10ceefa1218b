"""The indicator framework model: `Node`, `Framework` (structure, methods, canonical hash)
and the object kinds indicators apply to. Validated instances come from
`indicators.loader` (TOML loading and validation); `indicators.framework` gathers both.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from evaluation.registry import DEFAULTS

__all__ = [
    "CODE_RE",
    "FIXED_NORMALISATIONS",
    "OBJECT_KINDS",
    "RATING_MEASURES",
    "SOURCES",
    "SUBKINDS",
    "TREND_SCALES",
    "Checklist",
    "ChecklistItem",
    "Framework",
    "Node",
    "NodeKind",
    "applies",
    "checklist_share",
    "kind_within",
]

OBJECT_KINDS = ("infrastructure", "application", "management")
# infrastructure: data_centre = a data centre or cloud computing centre (machine rooms and
# cloud resource pools, the paper's 電腦房、雲資源池); platform = a shared data platform or
# database; network = a government network; field_devices = cameras, traffic lights, sensors
SUBKINDS = {
    "infrastructure": ("data_centre", "platform", "network", "field_devices"),
    "management": ("administrative", "security"),
}
SOURCES = ("metric", "rating", "checklist")  # "derived" (computed from others) arrives with denomination
# rating-derived measures an indicator with source = "rating" may name (computed by
# surveys.rollup.rating_measures from the daily roll-ups)
RATING_MEASURES = (
    "share_satisfied",
    "mean_level",
    "bad_share",
    "response_rate",
    "count",
    "satisfaction_eb",
    "no_rating_rate",
    "share_satisfied_low",
    "share_satisfied_high",
)
# the common scale of a comparison between periods ([index] trend_scale): "pooled" — fixed
# goalposts where the indicator's normalisation sets them, otherwise min-max over the pooled
# values of the periods compared; "goalposts" — every indicator must have fixed goalposts
TREND_SCALES = ("pooled", "goalposts")
# normalisations that do not depend on the other units' values: a period's score is already
# on a scale every period shares
FIXED_NORMALISATIONS = ("goalposts", "none")
# \Z, not $: "$" also matches before a final newline, and a code "x\n" would be accepted
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*\Z")

NodeKind = Literal["index", "category", "dimension", "indicator"]


@dataclass(frozen=True)
class Node:
    """One node of the framework tree (the index, a category, a dimension or an indicator).

    `methods` holds the method specs written on this node (canonical form): for an
    indicator `denomination`, `imputation`, `treatment`, `normalisation`; for an aggregate
    `aggregation` and `weighting`. What is not written here comes from `[methods]`.
    """

    code: str
    kind: NodeKind
    name: dict[str, str]
    path: str
    parent: str | None
    weight: float = 1.0
    children: tuple[str, ...] = ()
    applies_to: str | None = None
    description: str = ""
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    min_coverage: float | None = None
    # indicator fields
    unit: str = ""
    direction: int = 1
    source: str = "metric"
    measure: str | None = None
    denominator: str | None = None  # a unit attribute column or another indicator code
    valid_range: tuple[float, float] | None = None
    rationale: str = ""
    target: float | None = None
    checklist: str | None = None  # source = "checklist": the code of its [checklists] table

    @property
    def is_indicator(self) -> bool:
        return self.kind == "indicator"

    def label(self, lang: str = "en") -> str:
        return self.name.get(lang) or self.name.get("en") or self.code


@dataclass(frozen=True)
class Framework:
    """A validated framework: metadata, default methods and the node tree in file order."""

    code: str
    version: str
    name: dict[str, str]
    description: str
    source: str
    index_code: str
    methods: dict[str, Any]  # [methods] as written (canonical); see `default()`
    nodes: dict[str, Node]
    trend_scale: str | None = None  # [index] trend_scale as written; None: "pooled"
    min_categories: int | None = None  # [index] min_categories as written (None: not written)
    checklists: dict[str, Checklist] = field(default_factory=dict)  # [checklists], in file order

    # --- structure -----------------------------------------------------------------
    @property
    def index(self) -> Node:
        return self.nodes[self.index_code]

    @property
    def indicators(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "indicator"]

    @property
    def indicator_codes(self) -> list[str]:
        return [n.code for n in self.indicators]

    @property
    def categories(self) -> list[Node]:
        return [self.nodes[c] for c in self.index.children]

    @property
    def ranking_rule(self) -> int:
        """How many categories (children of the index) an entity must be scored on to be
        ranked overall: `[index] min_categories`, else 1 (every entity with an index score)."""
        return self.min_categories if self.min_categories is not None else 1

    def aggregates_bottom_up(self) -> list[Node]:
        """Aggregate nodes ordered so that every node comes after all of its children."""
        order: list[Node] = []

        def visit(code: str) -> None:
            node = self.nodes[code]
            for child in node.children:
                visit(child)
            if node.kind != "indicator":
                order.append(node)

        visit(self.index_code)
        return order

    def levels(self) -> dict[str, int]:
        """COINr-style level numbers: indicators are level 1, a parent one above its highest child."""
        level: dict[str, int] = {}
        for node in self.aggregates_bottom_up():
            level.update({c: 1 for c in node.children if self.nodes[c].is_indicator})
            level[node.code] = 1 + max(level[c] for c in node.children)
        return level

    def ancestors(self, code: str) -> list[str]:
        out: list[str] = []
        parent = self.nodes[code].parent
        while parent is not None:
            out.append(parent)
            parent = self.nodes[parent].parent
        return out

    # --- methods -----------------------------------------------------------------------
    def default(self, stage: str) -> dict[str, Any]:
        """The framework-wide method of a stage: `[methods]`, else the built-in default."""
        spec = self.methods.get(stage)
        return dict(spec) if isinstance(spec, dict) else dict(DEFAULTS[stage])

    def method_of(self, code: str, stage: str) -> dict[str, Any]:
        """The method spec a node uses for a stage (its own, else the framework default)."""
        spec = self.nodes[code].methods.get(stage)
        return dict(spec) if spec else self.default(stage)

    def normalisation_of(self, node: Node) -> dict[str, Any]:
        """The indicator's normalisation spec with the framework default filled in."""
        return self.method_of(node.code, "normalisation")

    @property
    def scale_of_trends(self) -> str:
        """The common scale of a comparison between periods (`TREND_SCALES`; default pooled)."""
        return self.trend_scale or "pooled"

    def has_fixed_scale(self, code: str) -> bool:
        """Whether the indicator's normalisation is the same whatever the other values are
        (fixed goalposts, or none): a score that every period shares without pooling."""
        return str(self.method_of(code, "normalisation")["method"]) in FIXED_NORMALISATIONS

    @property
    def rollup(self) -> str:
        return str(self.default("rollup")["method"])

    @property
    def screening(self) -> dict[str, Any] | None:
        spec = self.methods.get("screening")
        return dict(spec) if spec else None

    def min_coverage_of(self, code: str) -> float:
        """Data-availability threshold of an aggregate: its own, else `[methods]`, else 0."""
        own = self.nodes[code].min_coverage
        return float(own if own is not None else self.methods.get("min_coverage", 0.0))

    def sibling_weights(self, code: str) -> dict[str, float]:
        """Weights of the node's children as written, renormalised to sum to 1."""
        node = self.nodes[code]
        written = {c: self.nodes[c].weight for c in node.children}
        total = sum(written.values())
        if not math.isfinite(total):  # weights near the float maximum: scale by the largest first
            top = max(written.values())
            written = {c: w / top for c, w in written.items()}
            total = sum(written.values())
        return {c: w / total for c, w in written.items()}

    def effective_weights(self) -> dict[str, float]:
        """Each node's share of the index from the written weights: the product of
        renormalised weights on its path (data-driven weightings are in the result)."""
        eff = {self.index_code: 1.0}
        stack = [self.index_code]
        while stack:
            code = stack.pop()
            for child, w in self.sibling_weights(code).items():
                eff[child] = eff[code] * w
                stack.append(child)
        return {c: eff[c] for c in self.nodes}

    # --- identity --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The framework as plain data in the file's own shape (used for hashing and writing)."""
        meta: dict[str, Any] = {"code": self.code, "version": self.version, "name": dict(self.name)}
        if self.description:
            meta["description"] = self.description
        if self.source:
            meta["source"] = self.source
        index = self.index
        index_table: dict[str, Any] = {"code": self.index_code}
        if index.name != self.name:
            index_table["name"] = dict(index.name)
        index_table.update({k: dict(v) for k, v in index.methods.items()})
        if index.min_coverage is not None:
            index_table["min_coverage"] = index.min_coverage
        if self.trend_scale is not None:
            index_table["trend_scale"] = self.trend_scale
        if self.min_categories is not None:  # only when written: older hashes stay as they were
            index_table["min_categories"] = self.min_categories

        def own(node: Node) -> dict[str, Any]:
            out: dict[str, Any] = {k: dict(v) for k, v in node.methods.items()}
            if node.min_coverage is not None:
                out["min_coverage"] = node.min_coverage
            parent = self.nodes[node.parent] if node.parent else None
            if node.applies_to and (parent is None or parent.applies_to != node.applies_to):
                out["applies_to"] = node.applies_to
            if node.description:
                out["description"] = node.description
            return out

        def aggregate(node: Node) -> dict[str, Any]:
            out: dict[str, Any] = {"name": dict(node.name), "weight": node.weight, **own(node)}
            kids = [self.nodes[c] for c in node.children]
            key = "indicators" if kids and kids[0].is_indicator else "dimensions"
            out[key] = {k.code: (indicator(k) if k.is_indicator else aggregate(k)) for k in kids}
            return out

        def indicator(node: Node) -> dict[str, Any]:
            out: dict[str, Any] = {
                "name": dict(node.name),
                "unit": node.unit,
                "direction": node.direction,
                "weight": node.weight,
                "source": node.source,
            }
            if node.measure:
                out["measure"] = node.measure
            if node.denominator:
                out["denominator"] = node.denominator
            if node.valid_range is not None:
                out["range"] = list(node.valid_range)
            if node.target is not None:
                out["target"] = node.target
            if node.checklist is not None:
                out["checklist"] = node.checklist
            out.update(own(node))
            out["rationale"] = node.rationale
            return out

        out: dict[str, Any] = {"framework": meta, "index": index_table}
        if self.methods:
            out["methods"] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.methods.items()}
        if self.checklists:  # only when written: the hashes of frameworks without them stay
            out["checklists"] = {code: c.to_dict() for code, c in self.checklists.items()}
        out["categories"] = {c.code: aggregate(c) for c in self.categories}
        return out

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical content: comments, key order and the way a method or a
        number is written (`"minmax"` or `{ method = "minmax" }`, `1` or `1.0`) do not change it.
        The order of a node's children does: AHP matrices and budget allocations follow it."""
        order = {code: list(node.children) for code, node in self.nodes.items() if node.children}
        content = {"framework": self.to_dict(), "children": order}
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChecklistItem:
    """One check: yes/no (`max` None: yes = 1 point of 1) or scored (0..`max` points)."""

    code: str
    name: dict[str, str]
    weight: float = 1.0
    max: int | None = None
    description: str = ""

    @property
    def points(self) -> int:
        """The most points an answer can give (1 for a yes/no item)."""
        return self.max or 1

    def label(self, lang: str = "en") -> str:
        return self.name.get(lang) or self.name.get("en") or self.code

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": dict(self.name), "weight": self.weight}
        if self.max is not None:
            out["max"] = self.max
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Checklist:
    """A checklist: what it applies to and its items in file order."""

    code: str
    name: dict[str, str]
    applies_to: str
    items: tuple[ChecklistItem, ...]
    objects: tuple[str, ...] = ()  # empty: every object of its kind
    description: str = ""

    def label(self, lang: str = "en") -> str:
        return self.name.get(lang) or self.name.get("en") or self.code

    def item(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": dict(self.name), "applies_to": self.applies_to}
        if self.objects:
            out["objects"] = list(self.objects)
        if self.description:
            out["description"] = self.description
        out["items"] = {i.code: i.to_dict() for i in self.items}
        return out


def checklist_share(checklist: Checklist, answers: Mapping[str, float | None]) -> float | None:
    """The value of a checklist for one object, in % (0-100): the weighted share of points,

        100 × Σ w_i · a_i / max_i  /  Σ w_i

    over the items checked (`answers`: item code → points, a yes = 1 and a no = 0; None = not
    applicable). Items not applicable and items not checked (absent) are left out of both sums,
    so they neither help nor hurt; None when no item counts."""
    num = den = 0.0
    for item in checklist.items:
        points = answers.get(item.code)
        if points is None:
            continue
        num += item.weight * float(points) / item.points
        den += item.weight
    return 100.0 * num / den if den > 0 else None


def kind_within(value: str, parent: str) -> bool:
    """Whether an `applies_to` value (`kind` or `kind.subkind`) lies within `parent`'s."""
    return value == parent or value.startswith(parent + ".")


def applies(node_applies: str | None, kind: str | None, subkind: str | None) -> bool:
    """Whether an indicator with `applies_to = node_applies` applies to an object."""
    if node_applies is None or kind is None:
        return True
    full = f"{kind}.{subkind}" if subkind else kind
    return kind_within(full, node_applies)
