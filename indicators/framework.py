"""The indicator framework: model, TOML loader with complete validation, canonical hash.

The file format is documented in docs/framework-format.md. The loader never stops at the
first problem: it collects every problem with its key path (for example
`categories.application.dimensions.satisfaction.indicators.csat.weight: must be > 0`) and
raises one `EgovError` holding all of them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from egov.errors import EgovError
from egov.langs import LANGUAGES
from evaluation.registry import (
    AGGREGATE_STAGES,
    DEFAULTS,
    INDICATOR_STAGES,
    STAGES,
    check_fraction,
    check_screening,
    check_stage,
)

OBJECT_KINDS = ("infrastructure", "application", "management")
SUBKINDS = {"management": ("administrative", "security")}
SOURCES = ("metric", "rating")  # "derived" (computed from others) arrives with denomination
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
# \Z, not $: "$" also matches before a final newline, and a code "x\n" would be accepted
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*\Z")
MAX_DEPTH = 30  # aggregate levels below the index (categories are level 1); far beyond any real index

NodeKind = Literal["index", "category", "dimension", "indicator"]

FRAMEWORK_KEYS = {"code", "version", "name", "description", "source"}
INDEX_KEYS = {"code", "name", "aggregation", "weighting", "min_coverage"}
METHODS_KEYS = {*STAGES, "screening", "min_coverage"}
AGGREGATE_KEYS = {
    "name",
    "weight",
    "aggregation",
    "weighting",
    "min_coverage",
    "applies_to",
    "description",
    "dimensions",
    "indicators",
}
INDICATOR_KEYS = {
    "name",
    "unit",
    "direction",
    "weight",
    "source",
    "measure",
    "range",
    "applies_to",
    "rationale",
    "target",
    "description",
    "denominator",
    *INDICATOR_STAGES,
}
TOP_KEYS = {"framework", "index", "methods", "categories"}


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
            out.update(own(node))
            out["rationale"] = node.rationale
            return out

        out: dict[str, Any] = {"framework": meta, "index": index_table}
        if self.methods:
            out["methods"] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.methods.items()}
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


# ----------------------------------------------------------------------------------------
# Loading and validation
# ----------------------------------------------------------------------------------------
class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)


def load_framework(path: str | Path) -> Framework:
    """Read and validate a framework file; raise EgovError listing every problem."""
    p = Path(path)
    if not p.exists():
        raise EgovError(f"{p}: no such framework file")
    if p.is_dir():
        raise EgovError(f"{p}: is a folder, not a framework file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise EgovError(f"{p}: cannot read: {exc.strerror}") from exc
    return parse_framework(raw, origin=str(p))


def parse_framework(raw: bytes | str, origin: str = "<framework>") -> Framework:
    """Parse framework TOML text; raise EgovError listing every problem."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EgovError(f"{origin}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from exc
    else:
        text = raw
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EgovError(f"{origin}: not valid TOML: {exc}") from exc
    except RecursionError as exc:  # tomllib parses nested arrays and inline tables recursively
        raise EgovError(f"{origin}: not valid TOML: arrays or inline tables nested too deeply") from exc
    except ValueError as exc:  # an integer of more than 4,300 digits (int() refuses it)
        raise EgovError(f"{origin}: not valid TOML: a number too long to read ({exc})") from exc
    return build_framework(data, origin=origin)


def build_framework(data: dict[str, Any], origin: str = "<framework>") -> Framework:
    """Validate framework data (as parsed from TOML) and build the model."""
    ck = _Checker()
    data = _no_huge_ints(data)
    for key in data:
        if key not in TOP_KEYS:
            ck.add(key, f"unknown key (allowed at the top level: {', '.join(sorted(TOP_KEYS))})")
    meta = data.get("framework")
    if not isinstance(meta, dict):
        ck.add("framework", "missing table [framework]")
        meta = {}
    _unknown(ck, "framework", meta, FRAMEWORK_KEYS)
    code = _string(ck, "framework.code", meta.get("code"), required=True)
    version = _string(ck, "framework.version", meta.get("version"), required=True, coerce_number=True)
    name = _names(ck, "framework.name", meta.get("name"))
    description = _string(ck, "framework.description", meta.get("description"))
    source = _string(ck, "framework.source", meta.get("source"))

    index = data.get("index", {})
    if not isinstance(index, dict):
        ck.add("index", "must be a table")
        index = {}
    _unknown(ck, "index", index, INDEX_KEYS)
    index_code = _string(ck, "index.code", index.get("code", "index"), required=True)
    if index_code and not CODE_RE.match(index_code):
        ck.add("index.code", f"'{index_code}' is not a valid code ({_CODE_RULE})")
    index_name = _names(ck, "index.name", index["name"]) if "index" in data and "name" in index else name
    index_methods = _node_methods(ck, "index", index, AGGREGATE_STAGES)
    index_cov = _coverage(ck, "index.min_coverage", index.get("min_coverage"))

    methods = _methods_table(ck, data.get("methods", {}))

    nodes: dict[str, Node] = {}
    seen_paths: dict[str, str] = {}
    categories = data.get("categories")
    category_codes: list[str] = []
    if not isinstance(categories, dict) or not categories:
        ck.add("categories", "the framework needs at least one category ([categories.CODE])")
        categories = {}
    for ccode, cdata in categories.items():
        path = f"categories.{ccode}"
        if _register_code(ck, path, ccode, seen_paths, index_code):
            category_codes.append(ccode)
        _aggregate(ck, nodes, seen_paths, path, ccode, cdata, "category", index_code, None, index_code)

    nodes_in_order = {
        index_code: Node(
            code=index_code,
            kind="index",
            name=index_name,
            path="index",
            parent=None,
            children=tuple(category_codes),
            methods=index_methods,
            min_coverage=index_cov,
        )
    }
    nodes_in_order.update(nodes)
    _check_references(ck, nodes_in_order)
    _check_weighting_sizes(ck, nodes_in_order, methods)

    if ck.problems:
        raise EgovError(
            f"{origin}: invalid framework ({len(ck.problems)} problem{'s' if len(ck.problems) != 1 else ''})",
            ck.problems,
        )
    return Framework(
        code=code,
        version=version,
        name=name,
        description=description,
        source=source,
        index_code=index_code,
        methods=methods,
        nodes=nodes_in_order,
    )


def _no_huge_ints(data: dict[str, Any]) -> dict[str, Any]:
    """The data with integers beyond the float range (tomllib reads integers of any size) as
    ±infinity, so that every number check reports them instead of `float()` raising
    OverflowError. Walked without recursion (tables can nest as deep as a file's headers go);
    only the tables and arrays on the way to such a number are copied."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
            found.append(path)
    if not found:
        return data
    out = dict(data)
    fresh = {id(out)}
    for path in found:
        parent: Any = out
        for key in path[:-1]:
            child = parent[key]
            if id(child) not in fresh:
                child = dict(child) if isinstance(child, dict) else list(child)
                fresh.add(id(child))
                parent[key] = child
            parent = child
        parent[path[-1]] = math.inf if parent[path[-1]] > 0 else -math.inf
    return out


def _methods_table(ck: _Checker, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        ck.add("methods", "must be a table")
        return {}
    _unknown(ck, "methods", table, METHODS_KEYS)
    out: dict[str, Any] = {}
    for stage in STAGES:
        if stage in table:
            spec = _stage(ck, f"methods.{stage}", stage, table[stage])
            if spec is not None:
                out[stage] = spec
    if "screening" in table:
        spec, problems = check_screening(table["screening"])
        _report(ck, "methods.screening", problems)
        if spec is not None:
            out["screening"] = spec
    if "min_coverage" in table:
        cov = _coverage(ck, "methods.min_coverage", table["min_coverage"])
        if cov is not None:
            out["min_coverage"] = cov
    return out


def _report(ck: _Checker, path: str, problems: list[tuple[str, str]]) -> None:
    for key, message in problems:
        ck.add(f"{path}.{key}" if key else path, message)


def _stage(ck: _Checker, path: str, stage: str, value: Any) -> dict[str, Any] | None:
    spec, problems = check_stage(stage, value)
    _report(ck, path, problems)
    return spec


def _node_methods(ck: _Checker, path: str, data: dict[str, Any], stages: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stage in stages:
        if stage in data:
            spec = _stage(ck, f"{path}.{stage}", stage, data[stage])
            if spec is not None:
                out[stage] = spec
    return out


def _coverage(ck: _Checker, path: str, value: Any) -> float | None:
    if value is None:
        return None
    msg = check_fraction(value)
    if msg:
        ck.add(path, msg)
        return None
    return float(value)


def _check_references(ck: _Checker, nodes: dict[str, Node]) -> None:
    """Cross-node rules on denominators (an indicator, or a unit column checked at run time)."""
    for node in nodes.values():
        by = node.denominator
        if by is None:
            continue
        if by == node.code:
            ck.add(f"{node.path}.denominator", "an indicator cannot be divided by itself")
        elif by in nodes and not nodes[by].is_indicator:
            ck.add(f"{node.path}.denominator", f"'{by}' is an aggregate, not a variable or indicator")
        elif by in nodes and nodes[by].denominator:
            ck.add(f"{node.path}.denominator", f"'{by}' is itself denominated; divide by a raw variable")


def _check_weighting_sizes(ck: _Checker, nodes: dict[str, Node], methods: dict[str, Any]) -> None:
    """An AHP matrix or budget allocations list one entry per child, in the children's
    order: check the size against each aggregate that uses them (its own or [methods])."""
    for node in nodes.values():
        own = node.methods.get("weighting")
        spec = own or methods.get("weighting")
        if node.is_indicator or not spec or not node.children:
            continue
        n, path = len(node.children), f"{node.path}.weighting" if own else "methods.weighting"
        kids = ", ".join(node.children)
        if "matrix" in spec and len(spec["matrix"]) != n:
            ck.add(
                f"{path}.matrix",
                f"{len(spec['matrix'])} rows, but '{node.code}' has {n} children ({kids})",
            )
        rows = spec.get("allocations") or []
        if any(len(r) != n for r in rows):
            ck.add(
                f"{path}.allocations",
                f"each allocation needs {n} numbers, one per child of '{node.code}' ({kids})",
            )


_CODE_RULE = "letters, digits, '_' and '-' only, starting with a letter or digit"


def _register_code(ck: _Checker, path: str, code: str, seen: dict[str, str], index_code: str) -> bool:
    ok = True
    if not CODE_RE.match(code):
        ck.add(path, f"'{code}' is not a valid code ({_CODE_RULE})")
        ok = False
    if code == index_code:
        ck.add(path, f"duplicate code '{code}': it is the index code")
        ok = False
    elif code in seen:
        ck.add(path, f"duplicate code '{code}': already used at {seen[code]}")
        ok = False
    else:
        seen[code] = path
    return ok


def _aggregate(
    ck: _Checker,
    nodes: dict[str, Node],
    seen: dict[str, str],
    path: str,
    code: str,
    data: Any,
    kind: NodeKind,
    parent: str,
    inherited_applies: str | None,
    index_code: str,
    depth: int = 1,
) -> None:
    if not isinstance(data, dict):
        ck.add(path, "must be a table")
        return
    if depth > MAX_DEPTH:
        ck.add(path, f"nested too deeply: more than {MAX_DEPTH} levels of categories and dimensions")
        return
    _unknown(ck, path, data, AGGREGATE_KEYS)
    name = _names(ck, f"{path}.name", data.get("name"))
    weight = _weight(ck, f"{path}.weight", data.get("weight", 1))
    node_methods = _node_methods(ck, path, data, AGGREGATE_STAGES)
    coverage = _coverage(ck, f"{path}.min_coverage", data.get("min_coverage"))
    applies = _applies(ck, f"{path}.applies_to", data.get("applies_to"), inherited_applies)
    description = _string(ck, f"{path}.description", data.get("description"))
    has_dims, has_inds = "dimensions" in data, "indicators" in data
    children: list[str] = []
    if has_dims and has_inds:
        ck.add(path, "holds both 'dimensions' and 'indicators'; an aggregate holds one kind of child")
    elif not has_dims and not has_inds:
        ck.add(path, "orphan aggregate: it has no dimensions or indicators")
    key = "dimensions" if has_dims else "indicators"
    kids = data.get(key, {})
    if (has_dims or has_inds) and (not isinstance(kids, dict) or not kids):
        ck.add(f"{path}.{key}", "orphan aggregate: must hold at least one child")
        kids = {}
    for ccode, cdata in kids.items() if isinstance(kids, dict) else []:
        cpath = f"{path}.{key}.{ccode}"
        if _register_code(ck, cpath, ccode, seen, index_code):
            children.append(ccode)
        if key == "dimensions":
            _aggregate(
                ck, nodes, seen, cpath, ccode, cdata, "dimension", code, applies, index_code, depth + 1
            )
        else:
            _indicator(ck, nodes, cpath, ccode, cdata, code, applies)
    nodes[code] = Node(
        code=code,
        kind=kind,
        name=name,
        path=path,
        parent=parent,
        weight=weight,
        children=tuple(children),
        methods=node_methods,
        min_coverage=coverage,
        applies_to=applies,
        description=description,
    )


def _indicator(
    ck: _Checker,
    nodes: dict[str, Node],
    path: str,
    code: str,
    data: Any,
    parent: str,
    inherited_applies: str | None,
) -> None:
    if not isinstance(data, dict):
        ck.add(path, "must be a table")
        return
    _unknown(ck, path, data, INDICATOR_KEYS)
    name = _names(ck, f"{path}.name", data.get("name"))
    unit = _string(ck, f"{path}.unit", data.get("unit"), required=True)
    direction = data.get("direction")
    if direction is None:
        ck.add(f"{path}.direction", "missing (1 = higher is better, -1 = lower is better)")
        direction = 1
    elif isinstance(direction, bool) or direction not in (1, -1):
        ck.add(f"{path}.direction", f"must be 1 or -1, not {direction!r}")
        direction = 1
    weight = _weight(ck, f"{path}.weight", data.get("weight", 1))
    source = data.get("source", "metric")
    if source not in SOURCES:
        ck.add(f"{path}.source", f"unknown source {source!r} (known: {', '.join(SOURCES)})")
        source = "metric"
    measure = data.get("measure")
    if source == "rating":
        if measure is None:
            ck.add(f"{path}.measure", f'required for source = "rating" (one of {", ".join(RATING_MEASURES)})')
        elif measure not in RATING_MEASURES:
            ck.add(
                f"{path}.measure", f"unknown rating measure {measure!r} (known: {', '.join(RATING_MEASURES)})"
            )
    elif measure is not None:
        ck.add(f"{path}.measure", 'only allowed with source = "rating"')
        measure = None
    node_methods = _node_methods(ck, path, data, INDICATOR_STAGES)
    denominator = data.get("denominator")
    if denominator is not None and (not isinstance(denominator, str) or not denominator.strip()):
        ck.add(f"{path}.denominator", "must name a unit attribute column or another indicator")
        denominator = None
    valid_range: tuple[float, float] | None = None
    if "range" in data:
        r = data["range"]
        if (
            not isinstance(r, list)
            or len(r) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in r)
        ):
            ck.add(f"{path}.range", "must be [min, max] with two numbers")
        elif not all(math.isfinite(v) for v in r):
            ck.add(f"{path}.range", "min and max must be finite numbers")
        elif r[0] > r[1]:
            ck.add(f"{path}.range", f"min {r[0]} is greater than max {r[1]}")
        else:
            valid_range = (float(r[0]), float(r[1]))
    target = data.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, int | float)):
        ck.add(f"{path}.target", f"must be a number, not {target!r}")
        target = None
    elif target is not None and not math.isfinite(target):
        ck.add(f"{path}.target", f"must be a finite number, not {target!r}")
        target = None
    rationale = _string(ck, f"{path}.rationale", data.get("rationale"), required=True)
    applies = _applies(ck, f"{path}.applies_to", data.get("applies_to"), inherited_applies)
    description = _string(ck, f"{path}.description", data.get("description"))
    nodes[code] = Node(
        code=code,
        kind="indicator",
        name=name,
        path=path,
        parent=parent,
        weight=weight,
        unit=unit,
        direction=int(direction),
        source=source,
        measure=measure,
        methods=node_methods,
        denominator=denominator,
        valid_range=valid_range,
        rationale=rationale,
        applies_to=applies,
        target=float(target) if target is not None else None,
        description=description,
    )


# --- field checks ------------------------------------------------------------------------
def _unknown(ck: _Checker, path: str, data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            ck.add(f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _string(ck: _Checker, path: str, value: Any, required: bool = False, coerce_number: bool = False) -> str:
    if value is None:
        if required:
            ck.add(path, "missing")
        return ""
    if coerce_number and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            ck.add(path, f"must be a string or a finite number, not {value!r}")
            return ""
        return str(value)
    if not isinstance(value, str):
        ck.add(path, f"must be a string, not {value!r}")
        return ""
    if required and not value.strip():
        ck.add(path, "must not be empty")
    return value


def _names(ck: _Checker, path: str, value: Any) -> dict[str, str]:
    if value is None:
        ck.add(path, f"missing names (a table with {', '.join(LANGUAGES)})")
        return {}
    if not isinstance(value, dict):
        ck.add(path, f"must be a table of names by language ({', '.join(LANGUAGES)})")
        return {}
    for lang in value:
        if lang not in LANGUAGES:
            ck.add(f"{path}.{lang}", f"unknown language (allowed: {', '.join(LANGUAGES)})")
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if text is None:
            ck.add(f"{path}.{lang}", "missing name")
        elif not isinstance(text, str) or not text.strip():
            ck.add(f"{path}.{lang}", "must be a non-empty string")
        else:
            out[lang] = text
    return out


def _weight(ck: _Checker, path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        ck.add(path, f"must be a number, not {value!r}")
        return 1.0
    if not math.isfinite(value) or value <= 0:
        ck.add(path, "must be > 0")
        return 1.0
    return float(value)


def _applies(ck: _Checker, path: str, value: Any, inherited: str | None) -> str | None:
    if value is None:
        return inherited
    if not isinstance(value, str):
        ck.add(path, f'must be a string such as "application", not {value!r}')
        return inherited
    kind, _, sub = value.partition(".")
    if kind not in OBJECT_KINDS:
        ck.add(path, f"unknown object kind {kind!r} (known: {', '.join(OBJECT_KINDS)})")
        return inherited
    if sub and sub not in SUBKINDS.get(kind, ()):
        allowed = ", ".join(SUBKINDS.get(kind, ())) or "none"
        ck.add(path, f"unknown subkind {sub!r} of {kind!r} (known: {allowed})")
        return inherited
    if inherited and not _within(value, inherited):
        ck.add(path, f"{value!r} is outside its parent's {inherited!r}")
        return inherited
    return value


def _within(value: str, parent: str) -> bool:
    return value == parent or value.startswith(parent + ".")


def applies(node_applies: str | None, kind: str | None, subkind: str | None) -> bool:
    """Whether an indicator with `applies_to = node_applies` applies to an object."""
    if node_applies is None or kind is None:
        return True
    full = f"{kind}.{subkind}" if subkind else kind
    return _within(full, node_applies)


# --- built-in framework -----------------------------------------------------------------
BUILTIN_DIR = Path(__file__).parent / "frameworks"


def builtin_path(name: str = "macau") -> Path:
    """Path of a built-in framework file (`macau`)."""
    path = BUILTIN_DIR / f"{name}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")))
        raise EgovError(f"no built-in framework '{name}' (built-in: {known})")
    return path


def resolve_framework(spec: str | Path | None) -> Framework:
    """Load a framework by file path, or a built-in one by name (`macau`, the default)."""
    if spec is None or (isinstance(spec, str) and CODE_RE.match(spec) and not Path(spec).exists()):
        return load_framework(builtin_path(str(spec) if spec else "macau"))
    return load_framework(spec)
