"""Fuzz tests of the framework loader (hypothesis; issue 8, "hostile input").

tests/indicators/test_framework_validation.py holds one hand-written case per rule; this file
throws generated documents at the loader instead. Framework documents are built as dicts
(random trees of categories, nested dimensions and indicators, odd Unicode names, extreme
weights, methods from the registries), written as TOML by a small generic writer (it can
also write what a framework file must not hold: NaN, infinity, datetimes, huge integers,
deep arrays), then damaged: a value of another type at any key, unknown keys, removed keys,
empty, invalid and duplicate codes, a node below one of its own codes, denominator cycles,
orphan aggregates, deep nesting, and raw text damage (truncation, random bytes, cut lines).

The law: `parse_framework` either returns a valid `Framework` — every invariant holds (codes,
a tree reachable from the index, sibling weights summing to 1, effective weights of the
indicators summing to 1, a stable content hash, and writer → loader giving the same hash) —
or raises `EgovError` whose every problem starts with a key path of the document (and whose
message names the file). Never another exception. `egov framework check` on bad files exits
1 with a message, never a traceback.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.errors import EgovError
from egov.langs import LANGUAGES
from evaluation.registry import AGGREGATE_STAGES, INDICATOR_STAGES, STAGES, check_stage
from indicators.framework import (
    CODE_RE,
    OBJECT_KINDS,
    RATING_MEASURES,
    Framework,
    parse_framework,
)
from indicators.loader import MAX_DEPTH, TOP_KEYS
from indicators.writer import framework_to_toml

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ORIGIN = "fuzz.toml"
Path_ = tuple[str, ...]

# methods that are valid written as a bare name (no required parameters)
SIMPLE_METHODS = {s: sorted(n for n in STAGES[s] if not check_stage(s, n)[1]) for s in STAGES}


# --- a generic TOML writer (it writes what a framework must not hold, too) ------------------
_BARE = re.compile(r"[A-Za-z0-9_\-]+")
_TABLE_KEYS = {"framework", "index", "methods", "categories", "dimensions", "indicators"}


def toml_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else toml_value(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value).__name__)


def _is_table(parent_key: str | None, key: str, value: Any) -> bool:
    """Write as a [header] table: the document's own tables and the nodes of the tree."""
    return isinstance(value, dict) and (
        key in _TABLE_KEYS or parent_key in ("categories", "dimensions", "indicators")
    )


def dump_toml(doc: dict[str, Any]) -> str:
    lines: list[str] = []

    def table(path: list[str], data: dict[str, Any]) -> None:
        subs = []
        for key, value in data.items():
            if _is_table(path[-1] if path else None, key, value):
                subs.append((key, value))
            else:
                lines.append(f"{toml_key(key)} = {toml_value(value)}")
        for key, value in subs:
            sub_path = [*path, key]
            lines.append("")
            lines.append("[" + ".".join(toml_key(k) for k in sub_path) + "]")
            table(sub_path, value)

    table([], doc)
    return "\n".join(lines) + "\n"


# --- valid documents ---------------------------------------------------------------------------
# A document is built from a seed with `random.Random` (hypothesis chooses the seed and the
# damage): a few hundred hypothesis draws per document made each example ~20 times slower.
ODD = [
    "名稱",
    "Serviços públicos",
    "\u200f\u05e9\u05dc\u05d5\u05dd",  # right-to-left mark, Hebrew
    "e\u0301\u0301",  # combining accents
    "👩‍💻🇲🇴",  # zero-width joiner, flags (outside the BMP)
    "a\x85\u2028\u2029b",  # NEL, line and paragraph separators
    "\ufeffBOM",
    "tab\there",
    "\x00\x01\x1f\x7f",  # control characters and DEL (TOML needs them escaped)
    '"""quoted\\"""',
    "# not a comment [x] = y",
    "'''",
    "ǅ ß ﬁ Ω",
    "\U0010fffd",
]
METHOD_STAGES = sorted(STAGES)


def _text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(ODD)
    chars = []
    for _ in range(rng.randint(1, 8)):
        cp = rng.choice([rng.randint(0x20, 0x7E), rng.randint(0, 0xFFFF), rng.randint(0, 0x10FFFF)])
        chars.append(chr(cp) if not 0xD800 <= cp <= 0xDFFF else "?")  # no lone surrogates in TOML
    text = "".join(chars)
    return text if text.strip() else text + "·"


def _names(rng: random.Random) -> dict[str, str]:
    return {lang: _text(rng) for lang in LANGUAGES}


def _weight(rng: random.Random) -> float | int:
    return rng.choice(
        [
            rng.randint(1, 10),
            rng.uniform(1e-6, 1e6),
            rng.choice([5e-324, 1e-300, 1e300, 1.7976931348623157e308]),  # extremes, still > 0
        ]
    )


def _method(rng: random.Random, stage: str) -> str | dict[str, str]:
    name = rng.choice(SIMPLE_METHODS[stage])
    return name if rng.random() < 0.5 else {"method": name}


def make_document(seed: int) -> dict[str, Any]:
    """A valid framework document: 1–3 categories, dimensions nested up to 3 deep, 1–3
    indicators per aggregate, every code unique across the tree."""
    rng = random.Random(seed)
    stems = rng.sample(["c", "X", "9", "a-b_", "Ind", "0_-"], rng.randint(1, 3))
    serial = itertools.count()

    def code() -> str:
        n = next(serial)
        return f"{stems[n % len(stems)]}{n}"

    def indicator() -> dict[str, Any]:
        out: dict[str, Any] = {"name": _names(rng), "unit": _text(rng), "direction": rng.choice([1, -1])}
        if rng.random() < 0.5:
            out["weight"] = _weight(rng)
        if rng.random() < 0.4:
            out["source"] = "rating"
            out["measure"] = rng.choice(RATING_MEASURES)
        if rng.random() < 0.5:
            out["range"] = sorted([rng.uniform(-1e12, 1e12), rng.choice([0, 100, rng.uniform(-1e12, 1e12)])])
        if rng.random() < 0.3:
            out["target"] = rng.uniform(-1e9, 1e9)
        for stage in INDICATOR_STAGES:
            if stage != "denomination" and rng.random() < 0.25:
                out[stage] = _method(rng, stage)
        if rng.random() < 0.25:
            out["description"] = _text(rng)
        out["rationale"] = _text(rng)
        return out

    def aggregate(depth: int, applies: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"name": _names(rng)}
        if rng.random() < 0.5:
            out["weight"] = _weight(rng)
        for stage in AGGREGATE_STAGES:
            if rng.random() < 0.25:
                out[stage] = _method(rng, stage)
        if rng.random() < 0.25:
            out["min_coverage"] = rng.choice([0, 1, 0.5, rng.random()])
        if applies is None and rng.random() < 0.5:
            applies = out["applies_to"] = rng.choice([*OBJECT_KINDS, "management.security"])
        elif applies == "management" and rng.random() < 0.25:
            applies = out["applies_to"] = "management.administrative"
        if rng.random() < 0.25:
            out["description"] = _text(rng)
        if depth >= 3 or rng.random() < 0.5:
            out["indicators"] = {code(): indicator() for _ in range(rng.randint(1, 3))}
        else:
            out["dimensions"] = {code(): aggregate(depth + 1, applies) for _ in range(rng.randint(1, 2))}
        return out

    index_code = code()
    doc: dict[str, Any] = {
        "framework": {
            "code": rng.choice(stems) + "-fw",
            "version": rng.choice([_text(rng), rng.randint(0, 10**6), rng.uniform(0, 1e6)]),
            "name": _names(rng),
        }
    }
    if rng.random() < 0.5:
        doc["framework"]["description"] = _text(rng)
    if rng.random() < 0.5:
        index: dict[str, Any] = {"code": index_code}
        for stage in AGGREGATE_STAGES:
            if rng.random() < 0.5:
                index[stage] = _method(rng, stage)
        if rng.random() < 0.5:
            index["name"] = _names(rng)
        doc["index"] = index
    if rng.random() < 0.5:
        doc["methods"] = {s: _method(rng, s) for s in rng.sample(METHOD_STAGES, rng.randint(0, 4))}
        if rng.random() < 0.5:
            doc["methods"]["min_coverage"] = rng.random()
    doc["categories"] = {code(): aggregate(1, None) for _ in range(rng.randint(1, 3))}
    return doc


def documents() -> st.SearchStrategy[dict[str, Any]]:
    return st.integers(0, 2**32).map(make_document)


codes = st.sampled_from(["c", "X", "9", "a-b_", "Ind", "0_-"])


# --- strategies: any TOML value, and damage -----------------------------------------------------
huge_ints = st.integers(1, 400).map(lambda n: int("9" * n))
scalars = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    st.integers(),
    huge_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e308, 5e-324, 0, -1]),
    st.booleans(),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
    st.times(),
)
# arrays of mixed types are valid TOML 1.0 (and read by tomllib)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def all_paths(doc: Any, prefix: Path_ = ()) -> list[Path_]:
    out: list[Path_] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append((*prefix, k))
            out.extend(all_paths(v, (*prefix, k)))
    return out


def table_paths(doc: Any, prefix: Path_ = ()) -> list[Path_]:
    out: list[Path_] = [prefix] if isinstance(doc, dict) else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(table_paths(v, (*prefix, k)))
    return out


def get(doc: Any, path: Path_) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def put(doc: dict[str, Any], path: Path_, value: Any) -> None:
    get(doc, path[:-1])[path[-1]] = value


def node_paths(doc: dict[str, Any]) -> list[Path_]:
    """Paths of the tree's nodes (categories, dimensions, indicators)."""
    return [
        p
        for p in all_paths(doc)
        if len(p) >= 2
        and p[-2] in ("categories", "dimensions", "indicators")
        and isinstance(get(doc, p), dict)
    ]


def rename(doc: dict[str, Any], path: Path_, new: str) -> None:
    """Give the node at `path` the code `new`, keeping its place among its siblings."""
    parent = get(doc, path[:-1])
    items = [(new if k == path[-1] else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)


def dotted(path: Path_) -> str:
    return ".".join(path)


# --- the law ------------------------------------------------------------------------------------
def load_or_error(raw: str | bytes) -> Framework | None:
    """Load a document; check the law either way. Anything but EgovError propagates (a failure)."""
    try:
        fw = parse_framework(raw, origin=ORIGIN)
    except EgovError as exc:
        check_error(exc, raw)
        return None
    check_framework(fw)
    return fw


def check_error(exc: EgovError, raw: str | bytes) -> None:
    assert exc.message.startswith(ORIGIN), exc.message
    if not exc.problems:  # the file as a whole: not UTF-8, not TOML, nested too deeply for TOML
        assert re.search(r"not UTF-8|not valid TOML|nested too deeply|number", exc.message), exc.message
        return
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    import tomllib

    roots = TOP_KEYS | set(tomllib.loads(text))
    for problem in exc.problems:
        assert any(problem.startswith((f"{r}.", f"{r}:")) for r in roots), problem
        assert ": " in problem and problem.split(": ", 1)[1].strip(), problem


def check_framework(fw: Framework) -> None:
    """The invariants of a loaded framework."""
    nodes = fw.nodes
    index = fw.index
    assert index.kind == "index" and index.parent is None
    # a tree: every node reached exactly once from the index, children point back
    seen: list[str] = []
    stack = [fw.index_code]
    while stack:
        code = stack.pop()
        seen.append(code)
        node = nodes[code]
        assert CODE_RE.match(code) and "\n" not in code, repr(code)
        if node.is_indicator:
            assert not node.children
            continue
        assert node.children, f"aggregate {code} without children"
        kinds = {nodes[c].is_indicator for c in node.children}
        assert len(kinds) == 1, f"{code} mixes indicators and aggregates"
        for child in node.children:
            assert nodes[child].parent == code
            expected = (
                "indicator"
                if nodes[child].is_indicator
                else "category"
                if code == fw.index_code
                else "dimension"
            )
            assert nodes[child].kind == expected
            if node.applies_to:
                child_applies = nodes[child].applies_to
                assert child_applies is not None
                assert (child_applies + ".").startswith(node.applies_to + ".")
        stack.extend(node.children)
    assert sorted(seen) == sorted(nodes), "nodes not reachable from the index, or reached twice"
    assert fw.indicators, "a framework without indicators"
    # weights
    for node in nodes.values():
        assert math.isfinite(node.weight) and node.weight > 0, (node.code, node.weight)
        if node.children:
            shares = fw.sibling_weights(node.code)
            assert math.isclose(math.fsum(shares.values()), 1.0, rel_tol=1e-9), (node.code, shares)
            assert all(0 <= s <= 1 for s in shares.values())
    eff = fw.effective_weights()
    assert math.isclose(math.fsum(eff[n.code] for n in fw.indicators), 1.0, rel_tol=1e-9), eff
    levels = fw.levels()
    assert levels[fw.index_code] == max(levels.values())
    assert [n.code for n in fw.aggregates_bottom_up()][-1] == fw.index_code
    # identity: plain finite data, a stable hash, and the writer's text reads back the same
    json.dumps(fw.to_dict(), allow_nan=False)
    text = framework_to_toml(fw, header="fuzz\nround trip")
    again = parse_framework(text, origin="written.toml")
    assert again.content_hash == fw.content_hash
    assert again.to_dict() == fw.to_dict()
    assert framework_to_toml(again, header="fuzz\nround trip") == text
    assert list(again.nodes) == list(fw.nodes)


# --- which values each key accepts (the type oracle for wrong-type damage) ----------------------
NUMBER = (int, float)


def accepted(doc: dict[str, Any], path: Path_) -> tuple[type, ...] | None:
    """The Python types (as tomllib gives them) that the key at `path` accepts; None when
    the oracle does not know the key (its value is then free)."""
    top = path[0]
    if top == "framework" and len(path) == 2:
        return {"code": (str,), "version": (str, *NUMBER), "name": (dict,)}.get(path[1], (str,))
    if top == "index" and len(path) == 2:
        return {"code": (str,), "name": (dict,), "min_coverage": NUMBER}.get(path[1], (str, dict))
    if top == "methods" and len(path) == 2:
        return {"min_coverage": NUMBER, "screening": (dict,)}.get(path[1], (str, dict))
    if path[-2:-1] == ("name",) and len(path) >= 3 and path[-1] in LANGUAGES:
        return (str,)
    if len(path) == 1:
        return (dict,)
    if path[-2] in ("categories", "dimensions", "indicators") and len(path) >= 2:
        return (dict,)
    if len(path) >= 3 and path[-3] in ("categories", "dimensions", "indicators"):
        is_indicator = path[-3] == "indicators"
        key = path[-1]
        common: dict[str, tuple[type, ...]] = {
            "name": (dict,),
            "weight": NUMBER,
            "applies_to": (str,),
            "description": (str,),
        }
        if is_indicator:
            common |= {
                "unit": (str,),
                "direction": (int,),
                "source": (str,),
                "measure": (str,),
                "range": (list,),
                "rationale": (str,),
                "target": NUMBER,
                "denominator": (str,),
            }
            common |= {s: (str, dict) for s in INDICATOR_STAGES}
        else:
            common |= {"min_coverage": NUMBER, "dimensions": (dict,), "indicators": (dict,)}
            common |= {s: (str, dict) for s in AGGREGATE_STAGES}
        return common.get(key)
    return None


def must_reject(doc: dict[str, Any], path: Path_, value: Any) -> bool:
    types = accepted(doc, path)
    if types is None:
        return False
    if isinstance(value, bool):
        return bool not in types
    if not isinstance(value, types):
        return True
    if isinstance(value, int | float) and set(types) <= {int, float} and path[-1] != "direction":
        return not math.isfinite(value) if isinstance(value, float) else abs(value) > 1.7976931348623157e308
    return False


# --- tests ---------------------------------------------------------------------------------------
@FUZZ
@given(documents())
def test_generated_frameworks_load_and_keep_their_invariants(doc: dict[str, Any]) -> None:
    text = dump_toml(doc)
    fw = load_or_error(text)
    assert fw is not None, "the generator makes valid documents only"
    # what was written is what was loaded (the loader drops nothing silently)
    assert set(fw.nodes) == {p[-1] for p in node_paths(doc)} | {fw.index_code}
    assert fw.code == doc["framework"]["code"]
    for p in node_paths(doc):
        node = fw.nodes[p[-1]]
        assert node.path == dotted(p)
        assert node.name == get(doc, p)["name"]
        assert node.weight == float(get(doc, p).get("weight", 1))
        assert node.description == get(doc, p).get("description", "")
    # the hash does not depend on key order within tables
    shuffled = _reorder_keys(doc)
    assert parse_framework(dump_toml(shuffled), origin=ORIGIN).content_hash == fw.content_hash


def _reorder_keys(doc: Any, parent: str | None = None) -> Any:
    """The same document with the keys of each table reversed (children keep their order)."""
    if not isinstance(doc, dict):
        return doc
    items = [(k, _reorder_keys(v, k)) for k, v in doc.items()]
    if parent not in ("categories", "dimensions", "indicators"):
        items.reverse()
    return dict(items)


@FUZZ
@given(documents(), st.data())
def test_a_wrong_value_at_any_key_is_reported_at_that_key(doc: dict[str, Any], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(all_paths(doc)), label="path")
    value = data.draw(toml_values, label="value")
    put(doc, path, value)
    text = dump_toml(doc)
    try:
        fw = parse_framework(text, origin=ORIGIN)
    except EgovError as exc:
        check_error(exc, text)
        if must_reject(doc, path, value):
            assert any(p.startswith((dotted(path) + ":", dotted(path) + ".")) for p in exc.problems), (
                dotted(path),
                exc.problems,
            )
        return
    assert not must_reject(doc, path, value), f"{dotted(path)} = {value!r} was accepted"
    check_framework(fw)


@FUZZ
@given(documents(), st.data())
def test_unknown_and_missing_keys_are_reported(doc: dict[str, Any], data: st.DataObject) -> None:
    if data.draw(st.booleans(), label="add unknown key"):
        tables = [
            p for p in table_paths(doc) if p[-1:] not in (("dimensions",), ("indicators",), ("categories",))
        ]
        where = data.draw(st.sampled_from(tables), label="table")
        key = data.draw(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8))
        table = get(doc, where)
        if key in table or (where and where[-1] in ("aggregation", "weighting") and key == "method"):
            return
        table[key] = data.draw(toml_values)
        expected = dotted((*where, key))
    else:
        required = [
            p
            for p in all_paths(doc)
            if p in (("framework",), ("framework", "code"), ("framework", "name"), ("categories",))
            or (len(p) >= 3 and p[-3] == "indicators" and p[-1] in ("name", "unit", "direction", "rationale"))
            or (
                len(p) >= 3
                and p[-3] in ("categories", "dimensions")
                and p[-1] in ("dimensions", "indicators")
            )
            or (len(p) >= 2 and p[-2] == "name")
        ]
        path = data.draw(st.sampled_from(required), label="removed")
        del get(doc, path[:-1])[path[-1]]
        expected = dotted(path) if path[-1] not in ("dimensions", "indicators") else dotted(path[:-1])
    text = dump_toml(doc)
    try:
        parse_framework(text, origin=ORIGIN)
    except EgovError as exc:
        check_error(exc, text)
        assert any(p.startswith((expected + ":", expected + ".")) for p in exc.problems), (
            expected,
            exc.problems,
        )
        return
    raise AssertionError(f"{expected}: an unknown or missing key was accepted")


bad_codes = st.one_of(
    st.just(""),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8).filter(
        lambda s: not CODE_RE.fullmatch(s)
    ),
    codes.map(lambda c: c + "\n"),
    codes.map(lambda c: "-" + c),
    codes.map(lambda c: c + " x"),
    codes.map(lambda c: c + ".y"),
)


@FUZZ
@given(documents(), st.data())
def test_bad_duplicate_and_cyclic_codes_are_reported(doc: dict[str, Any], data: st.DataObject) -> None:
    paths = node_paths(doc)
    path = data.draw(st.sampled_from(paths), label="node")
    how = data.draw(st.sampled_from(["bad", "duplicate", "ancestor", "index", "denominator", "orphan"]))
    if how == "bad":
        new = data.draw(bad_codes, label="code")
        if new in get(doc, path[:-1]):
            return
        rename(doc, path, new)
        expected = dotted((*path[:-1], new))
    elif how in ("duplicate", "ancestor"):
        others = [p for p in paths if p[-1] != path[-1]]
        if how == "ancestor":  # a node holding a node with its own code: a cycle in codes
            others = [p for p in paths if p[-1] != path[-1] and path[: len(p)] == p]
        if not others:
            return
        other = data.draw(st.sampled_from(others), label="other")
        new = other[-1]
        if new in get(doc, path[:-1]):
            return
        rename(doc, path, new)
        expected = dotted((*path[:-1], new))
        also = dotted(other)  # the first in file order keeps the code, the later one is reported
    elif how == "index":
        new = doc.get("index", {}).get("code", "index")
        if new in get(doc, path[:-1]):
            return
        rename(doc, path, new)
        expected = dotted((*path[:-1], new))
    elif how == "denominator":
        indicators = [p for p in paths if p[-2] == "indicators"]
        a = data.draw(st.sampled_from(indicators), label="a")
        b = data.draw(st.sampled_from(indicators), label="b")
        get(doc, a)["denominator"] = b[-1]
        get(doc, b)["denominator"] = a[-1]  # a cycle (or an indicator divided by itself)
        expected = dotted(a) + ".denominator"
    else:  # orphan: an aggregate without children
        aggregates = [p for p in paths if p[-2] != "indicators"]
        agg = data.draw(st.sampled_from(aggregates), label="aggregate")
        node = get(doc, agg)
        for key in ("dimensions", "indicators"):
            if key in node:
                if data.draw(st.booleans(), label="empty table"):
                    node[key] = {}
                else:
                    del node[key]
        expected = dotted(agg)
    text = dump_toml(doc)
    try:
        parse_framework(text, origin=ORIGIN)
    except EgovError as exc:
        check_error(exc, text)
        targets = {expected}
        if how == "denominator":
            targets |= {dotted(b) + ".denominator"}
        if how in ("duplicate", "ancestor"):
            targets |= {also}
        assert any(p.startswith((t + ":", t + ".")) for p in exc.problems for t in targets), (
            targets,
            exc.problems,
        )
        return
    raise AssertionError(f"{how} code at {dotted(path)} was accepted")


@FUZZ
@given(documents(), st.data())
def test_damaged_text_loads_or_is_reported(doc: dict[str, Any], data: st.DataObject) -> None:
    raw = dump_toml(doc).encode("utf-8")
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        i = data.draw(st.integers(0, len(raw)), label="at")
        how = data.draw(
            st.sampled_from(["truncate", "insert", "delete", "replace", "duplicate line", "swap lines"])
        )
        if how == "truncate":
            raw = raw[:i]
        elif how == "insert":
            raw = raw[:i] + data.draw(st.binary(min_size=1, max_size=8), label="bytes") + raw[i:]
        elif how == "delete":
            raw = raw[:i] + raw[i + data.draw(st.integers(1, 40)) :]
        elif how == "replace" and i < len(raw):
            raw = raw[:i] + bytes([data.draw(st.integers(0, 255))]) + raw[i + 1 :]
        else:
            lines = raw.split(b"\n")
            j = data.draw(st.integers(0, len(lines) - 1))
            k = data.draw(st.integers(0, len(lines) - 1))
            if how == "duplicate line":
                lines.insert(k, lines[j])
            else:
                lines[j], lines[k] = lines[k], lines[j]
            raw = b"\n".join(lines)
    load_or_error(raw)


def deep_chain(n: int) -> str:
    """A new category holding a chain of n nested dimensions and one indicator at the bottom."""
    path = "categories.deep"
    chain = [f"[{path}]", 'name = { zh-Hant = "深", pt = "fundo", en = "deep" }']
    for i in range(n):
        path += f".dimensions.d{i}"
        chain += [f"[{path}]", 'name = { zh-Hant = "深", pt = "fundo", en = "deep" }']
    chain += [
        f"[{path}.indicators.leaf]",
        'name = { zh-Hant = "葉", pt = "folha", en = "leaf" }',
        'unit = "%"',
        "direction = 1",
        'rationale = "deep"',
    ]
    return "\n" + "\n".join(chain) + "\n"


@settings(FUZZ, max_examples=60)
@given(documents(), st.data())
def test_deep_nesting_and_huge_numbers_are_reported(doc: dict[str, Any], data: st.DataObject) -> None:
    how = data.draw(st.sampled_from(["dimensions", "array", "inline table", "digits"]))
    text = dump_toml(doc)
    if how == "dimensions":  # the file's size grows with n², so n stays small here
        near = [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1]
        n = data.draw(st.one_of(st.sampled_from(near), st.integers(1, 80)), label="depth")
        text += deep_chain(n)
    else:
        n = data.draw(st.integers(1, 1500), label="depth")
    if how == "array":
        text = text.replace("[framework]\n", "[framework]\ndescription = " + "[" * n + "]" * n + "\n", 1)
    elif how == "inline table":
        text = text.replace(
            "[framework]\n", "[framework]\nsource = " + "{ a = " * n + "1" + " }" * n + "\n", 1
        )
    elif how == "digits":
        text = re.sub(r"(?m)^version = .*$", "version = " + "9" * (n * 4), text, count=1)
    fw = load_or_error(text)
    if how == "dimensions":
        assert (fw is not None) == (n < MAX_DEPTH), n
        if fw is not None:
            assert fw.levels()["deep"] == n + 2
    elif how == "digits":
        assert (fw is not None) == (n * 4 <= 308), n  # beyond the float range: not a version
    else:
        assert fw is None  # an array or a table is never a string


def test_very_deep_dimensions_are_reported_not_a_recursion_error() -> None:
    """500 nested dimensions (1,000 nested tables): more than Python's recursion limit."""
    text = dump_toml(make_document(0)) + deep_chain(500)
    with pytest.raises(EgovError) as exc:
        parse_framework(text, origin=ORIGIN)
    deep = [p for p in exc.value.problems if p.startswith("categories.deep.")]
    assert len(deep) == 1 and f"nested too deeply: more than {MAX_DEPTH} levels" in deep[0], deep


def test_generic_writer_round_trips() -> None:
    """The test's own TOML writer writes what tomllib reads back (so damage is deliberate)."""
    import tomllib

    doc = {
        "framework": {"a": [1, 2.5, "x\x7f\n"], "b": {"c": float("inf")}, "d": date(2024, 1, 2)},
        "categories": {"k y": {"name": {"en": "é"}, "dimensions": {}}},
    }
    back = tomllib.loads(dump_toml(doc))
    assert back["framework"]["a"] == [1, 2.5, "x\x7f\n"] and back["framework"]["b"]["c"] == float("inf")
    assert back["categories"]["k y"] == {"name": {"en": "é"}, "dimensions": {}}


_counter = itertools.count()


@settings(
    FUZZ, max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(doc=documents(), data=st.data())
def test_cli_check_of_a_bad_file_is_a_message(
    doc: dict[str, Any], data: st.DataObject, egov, tmp_path: Path
) -> None:
    paths = [p for p in all_paths(doc) if accepted(doc, p) is not None]
    path = data.draw(st.sampled_from(paths), label="path")
    put(doc, path, data.draw(st.sampled_from([[], {}, "", float("nan"), 10**400, date(2024, 1, 1)])))
    raw = dump_toml(doc).encode("utf-8")
    if data.draw(st.booleans(), label="damage bytes"):
        raw = raw[: data.draw(st.integers(0, len(raw)))] + data.draw(
            st.sampled_from([b"\xff", b"[", b"\x00"])
        )
    file = tmp_path / f"fuzz-{next(_counter)}.toml"
    file.write_bytes(raw)
    r = egov(["framework", "check", file, "--lang", "en"])
    if r.code == 0:  # the damage happened to leave a valid framework
        assert "valid" in r.out
        return
    assert r.code == 1, r.out + r.err
    assert r.err.startswith("error: ") and file.name in r.err, r.err
    assert "Traceback" not in r.err + r.out
