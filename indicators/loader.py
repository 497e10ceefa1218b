"""Loading and validating framework files (TOML) into the model (`indicators.model`).

The file format is documented in docs/framework-format.md. The loader never stops at the
first problem: it collects every problem with its key path (for example
`categories.application.dimensions.satisfaction.indicators.csat.weight: must be > 0`) and
raises one `EgovError` holding all of them. Built-in frameworks are found by name
(`builtin_path`, `resolve_framework`).
"""

from __future__ import annotations

import math
import sys
import tomllib
from pathlib import Path
from typing import Any

from egov.errors import EgovError
from egov.langs import LANGUAGES
from evaluation.registry import (
    AGGREGATE_STAGES,
    INDICATOR_STAGES,
    STAGES,
    check_category_count,
    check_fraction,
    check_screening,
    check_stage,
)
from indicators.checklists import check_checklist_references, read_checklists
from indicators.model import (
    CODE_RE,
    OBJECT_KINDS,
    RATING_MEASURES,
    SOURCES,
    SUBKINDS,
    TREND_SCALES,
    Framework,
    Node,
    NodeKind,
    kind_within,
)

__all__ = [
    "BUILTIN_DIR",
    "build_framework",
    "builtin_path",
    "load_framework",
    "parse_framework",
    "resolve_framework",
]

MAX_DEPTH = 30  # aggregate levels below the index (categories are level 1); far beyond any real index

FRAMEWORK_KEYS = {"code", "version", "name", "description", "source"}
INDEX_KEYS = {"code", "name", "aggregation", "weighting", "min_coverage", "min_categories", "trend_scale"}
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
    "checklist",
    *INDICATOR_STAGES,
}
TOP_KEYS = {"framework", "index", "methods", "categories", "checklists"}


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
    checklists, found = read_checklists(data.get("checklists"))
    ck.problems += [f"{p}: {m}" for p, m in found + check_checklist_references(nodes_in_order, checklists)]
    _check_weighting_sizes(ck, nodes_in_order, methods)
    min_categories = index.get("min_categories")
    if min_categories is not None and (msg := check_category_count(min_categories, len(category_codes))):
        ck.add("index.min_categories", msg)
    trend_scale = index.get("trend_scale")
    if trend_scale is not None and trend_scale not in TREND_SCALES:
        ck.add("index.trend_scale", f"must be one of: {', '.join(TREND_SCALES)}")
    about = (code, version, name, description, source)  # min_categories checked above: an int, or None
    fw = Framework(*about, index_code, methods, nodes_in_order, trend_scale, min_categories, checklists)
    for node in fw.indicators if trend_scale == "goalposts" and not ck.problems else []:
        if not fw.has_fixed_scale(node.code):
            ck.add(f"{node.path}.normalisation", 'index.trend_scale = "goalposts" needs fixed goalposts here')
    if ck.problems:
        raise EgovError(
            f"{origin}: invalid framework ({len(ck.problems)} problem{'s' if len(ck.problems) != 1 else ''})",
            ck.problems,
        )
    return fw


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
    direction = _direction(ck, path, data.get("direction"))
    weight = _weight(ck, f"{path}.weight", data.get("weight", 1))
    source, measure = _source_and_measure(ck, path, data.get("source", "metric"), data.get("measure"))
    node_methods = _node_methods(ck, path, data, INDICATOR_STAGES)
    denominator = data.get("denominator")
    if denominator is not None and (not isinstance(denominator, str) or not denominator.strip()):
        ck.add(f"{path}.denominator", "must name a unit attribute column or another indicator")
        denominator = None
    valid_range = _valid_range(ck, path, data["range"]) if "range" in data else None
    target = _target(ck, path, data.get("target"))
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
        direction=direction,
        source=source,
        measure=measure,
        methods=node_methods,
        denominator=denominator,
        valid_range=valid_range,
        rationale=rationale,
        applies_to=applies,
        target=target,
        description=description,
        checklist=data.get("checklist"),
    )


def _direction(ck: _Checker, path: str, direction: Any) -> int:
    if direction is None:
        ck.add(f"{path}.direction", "missing (1 = higher is better, -1 = lower is better)")
        return 1
    if isinstance(direction, bool) or direction not in (1, -1):
        ck.add(f"{path}.direction", f"must be 1 or -1, not {direction!r}")
        return 1
    return int(direction)


def _source_and_measure(ck: _Checker, path: str, source: Any, measure: Any) -> tuple[str, str | None]:
    """The indicator's source, and its rating measure (required for, and only allowed
    with, source = "rating")."""
    if source not in SOURCES:
        ck.add(f"{path}.source", f"unknown source {source!r} (known: {', '.join(SOURCES)})")
        source = "metric"
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
    return source, measure


def _valid_range(ck: _Checker, path: str, r: Any) -> tuple[float, float] | None:
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
        return (float(r[0]), float(r[1]))
    return None


def _target(ck: _Checker, path: str, target: Any) -> float | None:
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, int | float):
        ck.add(f"{path}.target", f"must be a number, not {target!r}")
        return None
    if not math.isfinite(target):
        ck.add(f"{path}.target", f"must be a finite number, not {target!r}")
        return None
    return float(target)


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
    if inherited and not kind_within(value, inherited):
        ck.add(path, f"{value!r} is outside its parent's {inherited!r}")
        return inherited
    return value


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
