"""The engine's stages as a public API: which method applies where, and one function per stage.

`evaluation.engine.evaluate` is these stages run in order; `evaluation.compare`,
`evaluation.change`, `evaluation.priorities` and `evaluation.uncertainty` call the same
functions to redo one stage on changed input (a changed normalised table, fixed weights,
another normalisation), so every rule has one definition. In the spirit of
scikit-criteria's pipeline steps and COINr's one function family per stage (`Impute`,
`Treat`, `Normalise`, `Aggregate`); OECD/JRC Handbook on Constructing Composite Indicators
(2008), steps 3–6.

- `StageResolver`: which method and parameters a stage uses for an indicator or an
  aggregate (precedence: spec > framework node > framework `[methods]` > built-in
  default; see `evaluation.spec`).
- Table stages, units × indicators in, units × indicators out: `applicability`,
  `denominate_table`, `impute_table`, `screen`, `treat_table`, `normalise_table`.
- Tree stages: `node_weights` (weigh an aggregate's children), `aggregate_node` (one
  aggregate, with its coverage threshold), `aggregate_tree` (every aggregate bottom-up),
  `effective_weights` (each node's share of the index) and `rollup` (objects to
  departments).

Pure: DataFrames in, DataFrames out; no database, file or HTTP access.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.aggregate import ROLLUPS, aggregate
from evaluation.denominate import denominate
from evaluation.impute import TABLE_IMPUTERS, impute, impute_frame
from evaluation.normalise import COLUMN_NORMALISERS, NORMALISERS, normalise, normalise_columns
from evaluation.spec import EvaluationSpec
from evaluation.treat import treat
from evaluation.weights import weigh
from indicators.framework import Framework, applies

__all__ = [
    "COVERAGE_TOLERANCE",
    "StageResolver",
    "aggregate_node",
    "aggregate_tree",
    "applicability",
    "arithmetic_tree",
    "check_spec",
    "denominate_table",
    "effective_weights",
    "impute_table",
    "meets_coverage",
    "node_weights",
    "normalise_table",
    "override_spec",
    "rollup",
    "screen",
    "summarise_warnings",
    "treat_table",
]

# the two per-indicator warnings of an indicator without data; `summarise_warnings` folds them
NO_DATA_COLUMN = "indicator '{}': no data column; treated as missing for every unit"
NO_VALUES = "indicator '{}': no values for any unit; left out of every aggregate"
_NO_DATA = [
    re.compile("^" + re.escape(t).replace(re.escape("{}"), "(.+)") + "$") for t in (NO_DATA_COLUMN, NO_VALUES)
]
LISTED = 10  # indicators named in a summary line

COVERAGE_TOLERANCE = 1e-12  # a share of present children counts as meeting the threshold this close below it

Share = TypeVar("Share", pd.Series, np.ndarray)


class StageResolver:
    """Which method each indicator and aggregate uses for a stage, for one framework and
    spec (precedence, most specific first: spec `[indicators.X]` / `[aggregates.X]` →
    spec `[methods]` → the framework node's own method → the framework's `[methods]` →
    built-in default). Every method returned is a fresh canonical dict
    (`{"method": …, **params}`) that the caller may change."""

    def __init__(self, framework: Framework, spec: EvaluationSpec) -> None:
        self.fw, self.spec = framework, spec

    def indicator(self, code: str, stage: str) -> dict[str, Any]:
        """The method of an indicator stage (denomination, imputation, treatment, normalisation)."""
        own = self.spec.indicators.get(code, {}).get(stage) or self.spec.methods.get(stage)
        return dict(own) if own else self.fw.method_of(code, stage)

    def aggregate(self, code: str, stage: str) -> dict[str, Any]:
        """The method of an aggregate stage (weighting, aggregation)."""
        own = self.spec.aggregates.get(code, {}).get(stage) or self.spec.methods.get(stage)
        return dict(own) if own else self.fw.method_of(code, stage)

    def coverage(self, code: str) -> float:
        """The aggregate's data-availability threshold (share of children present; 0: none)."""
        own = self.spec.aggregates.get(code, {}).get("min_coverage")
        if own is None:
            own = self.spec.methods.get("min_coverage")
        return float(own) if own is not None else self.fw.min_coverage_of(code)

    def rollup(self) -> dict[str, Any]:
        """The roll-up of object scores to departments."""
        own = self.spec.methods.get("rollup")
        return dict(own) if own else self.fw.default("rollup")

    def screening(self) -> float:
        """The minimum share of applicable indicators with a value a unit needs (0: no screening)."""
        own = self.spec.methods.get("screening") or self.fw.screening
        return float(own["min_coverage"]) if own else 0.0


def check_spec(framework: Framework, spec: EvaluationSpec) -> list[str]:
    """Problems of a spec against a framework: spec tables naming codes that are not an
    indicator (`indicators.X`) or an aggregate (`aggregates.X`) of the framework."""
    problems: list[str] = []
    for code in spec.indicators:
        if code not in framework.nodes or not framework.nodes[code].is_indicator:
            problems.append(f"spec indicators.{code}: not an indicator of framework {framework.code}")
    for code in spec.aggregates:
        if code not in framework.nodes or framework.nodes[code].is_indicator:
            problems.append(f"spec aggregates.{code}: not an aggregate of framework {framework.code}")
    return problems


def override_spec(spec: EvaluationSpec, stage: str, method: dict[str, Any]) -> EvaluationSpec:
    """The spec with `method` for `stage` on every indicator or aggregate (the per-node
    choices of that stage removed, the others kept)."""
    indicators = {c: {k: v for k, v in t.items() if k != stage} for c, t in spec.indicators.items()}
    aggregates = {c: {k: v for k, v in t.items() if k != stage} for c, t in spec.aggregates.items()}
    return EvaluationSpec(
        methods={**spec.methods, stage: dict(method)}, indicators=indicators, aggregates=aggregates
    )


# --- table stages (units × indicators) -----------------------------------------------------
def applicability(framework: Framework, units: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    """Units × indicators, True where the indicator applies to the unit's kind and subkind
    (`units` columns `kind`, `subkind`; an indicator without `applies_to` applies to all)."""
    out = np.ones((len(units.index), len(codes)), dtype=bool)
    restricted = [(j, framework.nodes[c].applies_to) for j, c in enumerate(codes)]
    restricted = [(j, rule) for j, rule in restricted if rule is not None]
    if restricted:
        kinds = units["kind"].where(units["kind"].notna(), None)
        subs = units["subkind"].where(units["subkind"].notna(), None)
        for j, rule in restricted:
            out[:, j] = [applies(rule, k, s) for k, s in zip(kinds, subs, strict=True)]
    return pd.DataFrame(out, index=units.index, columns=codes)


def _denominator(code: str, by: str, raw: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    if by in raw.columns:
        return raw[by]
    if by in units.columns:
        values = pd.to_numeric(units[by], errors="coerce")
        bad = units[by].notna() & values.isna()
        if bad.any():
            raise EgovError(
                f"denominator '{by}' of indicator '{code}': {units[by][bad].iloc[0]!r} is not a number"
            )
        return values.astype(float)
    raise EgovError(f"indicator '{code}': its denominator '{by}' is neither a unit column nor an indicator")


def denominate_table(
    framework: Framework, res: StageResolver, raw: pd.DataFrame, units: pd.DataFrame, warnings: list[str]
) -> pd.DataFrame:
    """Divide each indicator with a `denominator` (another indicator or a unit column) by
    it. Takes the raw units × indicators table; returns the denominated one (a division by
    0 is left missing, with a warning appended to `warnings`)."""
    changed: dict[str, np.ndarray] = {}
    denominators: dict[str, pd.Series] = {}
    for node in framework.indicators:
        spec = res.indicator(node.code, "denomination")
        if spec["method"] == "none":
            continue
        if node.denominator is None:
            continue  # nothing to divide by: the indicator is already a ratio
        by = denominators.get(node.denominator)
        if by is None:
            by = _denominator(node.code, node.denominator, raw, units).reindex(raw.index)
            denominators[node.denominator] = by
        x = raw[node.code]
        d = by.to_numpy(dtype=float)
        zero = x.notna().to_numpy() & (d == 0)
        if zero.any():
            warnings.append(
                f"indicator '{node.code}': denominator '{node.denominator}' is 0 for "
                f"{', '.join(map(str, raw.index[zero][:5]))}; left missing"
            )
        if spec["method"] == "divide":  # evaluation.denominate.divide on arrays: the same values
            changed[node.code] = x.to_numpy(dtype=float) / np.where(d != 0, d, np.nan) * spec["scale"]
        else:
            changed[node.code] = denominate(x, spec, by).reindex(raw.index).to_numpy(dtype=float)
    out = raw.copy()
    for code, values in changed.items():
        out[code] = values
    return out


def impute_table(
    framework: Framework,
    res: StageResolver,
    data: pd.DataFrame,
    applicable: pd.DataFrame,
    units: pd.DataFrame,
    history: list[pd.DataFrame],
    supplied: pd.DataFrame | None,
) -> pd.DataFrame:
    """Fill the missing applicable values of each indicator by its imputation method.
    Takes units × indicators (`data`, `applicable`), the unit attributes (for an
    imputation `by` group), earlier periods' tables oldest first and supplied values;
    returns the imputed units × indicators table (non-applicable cells untouched).

    Indicators that apply to every unit and share a method of `TABLE_IMPUTERS` (the same
    `by`) are imputed together, as one table (the same values as one by one); the others
    one at a time, in framework order."""
    out = data.copy()
    specs = [(node, res.indicator(node.code, "imputation")) for node in framework.indicators]
    if all(spec["method"] == "none" for _, spec in specs):
        return out
    everywhere = applicable.all(axis=0)
    gaps = (data.isna() & applicable).any(axis=0)
    blocks: dict[tuple[str, str | None], list[str]] = {}
    for node, spec in specs:
        if spec["method"] == "none":
            continue
        if not gaps[node.code]:
            continue
        mask = applicable[node.code]
        by = spec.get("by")
        if by is not None and by not in units.columns:
            raise EgovError(f"indicator '{node.code}': imputation by '{by}' needs a unit column '{by}'")
        if spec["method"] in TABLE_IMPUTERS and everywhere[node.code] and not history:
            members = blocks.setdefault((spec["method"], by), [])
            if not members:  # a block is checked at its first indicator, as one by one would
                _impute_block(out, data, [node.code], spec, units, by)
            members.append(node.code)
            continue
        _impute_one(out, node.code, spec, data, mask, units, history, supplied)
    for (method, by), members in blocks.items():
        rest = members[1:]
        if rest:
            _impute_block(out, data, rest, {"method": method, "by": by}, units, by)
    return out


def _impute_block(
    out: pd.DataFrame,
    data: pd.DataFrame,
    codes: list[str],
    spec: dict[str, Any],
    units: pd.DataFrame,
    by: str | None,
) -> None:
    """Impute the columns `codes` (indicators that apply to every unit) as one table."""
    groups = units[by].reindex(data.index) if by is not None else None
    try:
        out[codes] = impute_frame(data[codes], spec, groups=groups)
    except EgovError as exc:
        raise EgovError(f"indicator '{codes[0]}': {exc.message}", exc.problems) from exc


def _impute_one(
    out: pd.DataFrame,
    code: str,
    spec: dict[str, Any],
    data: pd.DataFrame,
    mask: pd.Series,
    units: pd.DataFrame,
    history: list[pd.DataFrame],
    supplied: pd.DataFrame | None,
) -> None:
    """Impute one indicator on the units it applies to."""
    x = data.loc[mask, code]
    by = spec.get("by")
    groups = units.loc[mask, by] if by is not None else None
    hist = None
    if history:
        hist = pd.DataFrame([h[code].reindex(x.index) for h in history]).reset_index(drop=True)
    sup = supplied[code] if supplied is not None and code in supplied.columns else None
    try:
        out.loc[mask, code] = impute(x, spec, groups=groups, history=hist, supplied_values=sup)
    except EgovError as exc:
        raise EgovError(f"indicator '{code}': {exc.message}", exc.problems) from exc


def screen(min_coverage: float, data: pd.DataFrame, applicable: pd.DataFrame) -> dict[str, float]:
    """Units to screen out: those whose share of applicable indicators with a value is
    below `min_coverage`, as unit → that share (empty when `min_coverage` <= 0)."""
    if min_coverage <= 0:
        return {}
    n_applicable = applicable.sum(axis=1).astype(float)
    coverage = (data.notna() & applicable).sum(axis=1) / n_applicable.where(n_applicable > 0)
    out = coverage[coverage.fillna(0) < min_coverage]
    return {str(u): float(c) for u, c in out.fillna(0).items()}


def treat_table(
    framework: Framework, res: StageResolver, data: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outlier treatment of each indicator. Returns (the treated units × indicators
    table, one row per treated indicator: the method and what it did)."""
    rows: dict[str, dict[str, Any]] = {}
    changed: dict[str, np.ndarray] = {}
    table = data.to_numpy(dtype=float)
    col = {c: j for j, c in enumerate(data.columns)}
    for node in framework.indicators:
        spec = res.indicator(node.code, "treatment")
        if spec["method"] == "none":
            continue
        column = table[:, col[node.code]]
        has = ~np.isnan(column)
        if not has.any():
            continue
        x = pd.Series(column[has], index=data.index[has], name=node.code)
        treated, details = treat(x, spec)
        if treated is not x:
            values = column.copy()
            values[has] = treated.reindex(x.index).to_numpy(dtype=float)
            changed[node.code] = values
        rows[node.code] = {"method": spec["method"], **details}
    out = data.copy()
    for code, values in changed.items():
        out[code] = values
    treatment = pd.DataFrame.from_dict(rows, orient="index")
    treatment.index.name = "indicator"
    return out, treatment


def normalise_table(
    framework: Framework, res: StageResolver, data: pd.DataFrame, warnings: list[str]
) -> pd.DataFrame:
    """Normalise each indicator by its method and direction (higher is better after).
    Takes the treated units × indicators table; returns the normalised one (an indicator
    that cannot tell the units apart is left all missing, with a warning appended).

    Indicators sharing a method of `COLUMN_NORMALISERS` with the same parameters are
    normalised together in one array operation (the same values, to the last bit, as one
    by one); the others one at a time."""
    codes = list(data.columns)
    x = data.to_numpy(dtype=float, copy=True)
    out = np.full(x.shape, np.nan)
    col = {c: i for i, c in enumerate(codes)}
    specs: dict[str, dict[str, Any]] = {}
    blocks: dict[tuple[str, ...], list[str]] = {}
    for node in framework.indicators:
        spec = res.indicator(node.code, "normalisation")
        if "target" in NORMALISERS[spec["method"]].params and spec.get("target") is None:
            if node.target is None:
                raise EgovError(
                    f"indicator '{node.code}': normalisation {spec['method']} needs a target "
                    "(set `target` on the indicator or in the method)"
                )
            spec["target"] = node.target
        specs[node.code] = spec
        if spec["method"] in COLUMN_NORMALISERS:
            blocks.setdefault(tuple(repr(kv) for kv in sorted(spec.items())), []).append(node.code)
    for members in blocks.values():
        idx = [col[c] for c in members]
        dirs = np.array([framework.nodes[c].direction for c in members], dtype=float)
        out[:, idx] = normalise_columns(x[:, idx], specs[members[0]], dirs)
    present = ~np.isnan(x)
    for node in framework.indicators:
        j, spec = col[node.code], specs[node.code]
        if spec["method"] not in COLUMN_NORMALISERS and present[:, j].any():
            has = present[:, j]
            out[has, j] = normalise(data[node.code][has], spec, node.direction).to_numpy(dtype=float)
    out[~present] = np.nan
    has_values = present.any(axis=0).tolist()
    gives_values = (~np.isnan(out)).any(axis=0).tolist()
    for node in framework.indicators:  # the warnings, in framework order
        j = col[node.code]
        if not has_values[j]:
            warnings.append(NO_VALUES.format(node.code))
        elif not gives_values[j]:
            _warn_no_values(node.code, specs[node.code], data[node.code][present[:, j]], warnings)
    # rows contiguous, as a table filled column by column is: the sums of the aggregates
    # along a row then add in the same order, to the last bit
    return pd.DataFrame(out, index=data.index, columns=data.columns, copy=False)


def _warn_no_values(code: str, spec: dict[str, Any], present: pd.Series, warnings: list[str]) -> None:
    """The warning of an indicator whose normalisation gives no value for any unit."""
    if present.nunique() > 1:
        warnings.append(
            f"indicator '{code}': normalisation {spec['method']} gives no value for any unit"
            f"{_why_no_values(spec, present)}; left out of every aggregate"
        )
    else:
        warnings.append(
            f"indicator '{code}': all {len(present)} units have the same value "
            f"({present.iloc[0]:g}); zero range, so it cannot tell units apart and is left out"
        )


def _why_no_values(spec: dict[str, Any], present: pd.Series) -> str:
    """Why a normaliser returned nothing although the values differ (for the warning)."""
    method = spec["method"]
    if method == "distance_to_reference":
        if spec["unit"] not in present.index:
            return f" (the reference unit '{spec['unit']}' has no value for it)"
        return f" (the reference unit '{spec['unit']}' has the worst value)"
    if method == "distance_to_target":
        return f" (the target {spec['target']:g} equals the worst value)"
    if method == "fraction_of_max":
        return " (the best value is 0)"
    return ""


# --- tree stages ---------------------------------------------------------------------------
def meets_coverage(share: Share, threshold: float) -> Share:
    """Where the share of an aggregate's children present reaches its threshold (within
    `COVERAGE_TOLERANCE`); works on a Series or an array of shares."""
    out: Share = share >= threshold - COVERAGE_TOLERANCE
    return out


def node_weights(framework: Framework, res: StageResolver, code: str, values: pd.DataFrame) -> pd.Series:
    """The weights of aggregate `code`'s children by its weighting method, from the
    children's written weights and their scores `values` (units × children; data-driven
    weightings such as PCA or entropy use them). Returns a Series indexed by the children
    in framework order."""
    children = list(framework.nodes[code].children)
    written = pd.Series([framework.nodes[c].weight for c in children], index=children, dtype=float)
    wspec = res.aggregate(code, "weighting")
    try:
        weights = weigh(values, written, wspec)
        if not weights.index.equals(written.index):
            weights = weights.reindex(children)
        if weights.dtype != np.float64:
            weights = weights.astype(float)
        if not np.isfinite(weights.to_numpy()).all():  # NaN included
            raise EgovError(f"weighting {wspec['method']} gave no weight for some children")
    except EgovError as exc:
        raise EgovError(f"weighting '{code}' ({wspec['method']}): {exc.message}", exc.problems) from exc
    return weights


def aggregate_node(res: StageResolver, code: str, values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """The score of aggregate `code` for every unit: its aggregation method on the
    children's scores `values` (units × children) with `weights`, missing where fewer
    children than its coverage threshold have a score."""
    aspec = res.aggregate(code, "aggregation")
    try:
        agg = aggregate(values, weights, aspec)
    except EgovError as exc:
        raise EgovError(f"aggregating '{code}' ({aspec['method']}): {exc.message}", exc.problems) from exc
    threshold = res.coverage(code)
    if threshold > 0:
        share = values.notna().sum(axis=1) / len(values.columns)
        agg = agg.where(meets_coverage(share, threshold))
    return agg


def aggregate_tree(
    framework: Framework,
    res: StageResolver,
    normalised: pd.DataFrame,
    start: pd.DataFrame | None = None,
    only: set[str] | None = None,
    weights: dict[str, pd.Series] | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Score every aggregate bottom-up from the normalised indicators.

    Takes the units × indicators normalised table (or `start`, a table already holding
    some node scores); `only` restricts the aggregates scored; `weights` (aggregate →
    weights of its children) holds the weights fixed instead of weighing again. Returns
    (units × every node scored, in framework order; aggregate → the weights used)."""
    scores = normalised.copy() if start is None else start.copy()
    used: dict[str, pd.Series] = {}
    for node in framework.aggregates_bottom_up():
        if only is not None and node.code not in only:
            continue
        values = scores[list(node.children)]
        w = node_weights(framework, res, node.code, values) if weights is None else weights[node.code]
        scores[node.code] = aggregate_node(res, node.code, values, w)
        used[node.code] = w
    order = [c for c in framework.nodes if c in scores.columns]
    return scores[order], used


def arithmetic_tree(
    framework: Framework, res: StageResolver, normalised: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, pd.Series]] | None:
    """`aggregate_tree(framework, res, normalised)` on arrays, for the table `normalise_table`
    returns, when every aggregate takes the weighted arithmetic mean with written or equal
    weights and has children of one kind (indicators, or aggregates); None otherwise (then
    `aggregate_tree`). The same values to the last bit: `evaluation.aggregate.arithmetic`'s
    operations on the children laid out in memory as that table gives them (a row of
    indicators contiguous, aggregates column by column), so that sums of 8 or more children
    add in the same order."""
    nodes = framework.aggregates_bottom_up()
    for node in nodes:
        kinds = {framework.nodes[c].is_indicator for c in node.children}
        methods = (
            res.aggregate(node.code, "aggregation")["method"],
            res.aggregate(node.code, "weighting")["method"],
        )
        if len(kinds) != 1 or methods[0] != "arithmetic" or methods[1] not in ("manual", "equal"):
            return None
    base = normalised.to_numpy(dtype=float)
    position = {c: j for j, c in enumerate(normalised.columns)}
    columns: dict[str, np.ndarray] = {}
    used: dict[str, pd.Series] = {}
    no_data = pd.DataFrame(index=normalised.index)  # written and equal weights read no data
    for node in nodes:
        kids = list(node.children)
        if framework.nodes[kids[0]].is_indicator:
            v = np.ascontiguousarray(base[:, [position[c] for c in kids]])
        else:
            v = np.asfortranarray(np.column_stack([columns[c] for c in kids]))
        w = _written_or_equal(framework, res, node.code, no_data)
        wb = np.where(np.isnan(v), 0.0, np.broadcast_to(w.to_numpy(dtype=float), v.shape))
        num, total = np.nansum(v * wb, axis=1), wb.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(total != 0, num / np.where(total != 0, total, 1.0), np.nan)
        threshold = res.coverage(node.code)
        if threshold > 0:
            share = (~np.isnan(v)).sum(axis=1) / len(kids)
            out = np.where(meets_coverage(share, threshold), out, np.nan)
        columns[node.code], used[node.code] = out, w
    order = [c for c in framework.nodes if c in position or c in columns]
    table = np.column_stack([base[:, position[c]] if c in position else columns[c] for c in order])
    return pd.DataFrame(table, index=normalised.index, columns=pd.Index(order)), used


def _written_or_equal(
    framework: Framework, res: StageResolver, code: str, no_data: pd.DataFrame
) -> pd.Series:
    """`node_weights` of an aggregate weighted by its written weights (the common case, made
    here without the registry's call) or equally."""
    if res.aggregate(code, "weighting")["method"] != "manual":
        return node_weights(framework, res, code, no_data)
    children = list(framework.nodes[code].children)
    weights = pd.Series([framework.nodes[c].weight for c in children], index=children, dtype=float)
    if not np.isfinite(weights.to_numpy()).all():
        return node_weights(framework, res, code, no_data)  # its error
    return weights


def effective_weights(framework: Framework, used: dict[str, pd.Series]) -> pd.Series:
    """Each node's share of the index: the product of its ancestors' renormalised weights
    (`used`: aggregate → the weights of its children). # COINr get_eff_weights."""
    eff = {framework.index_code: 1.0}
    for node in reversed(framework.aggregates_bottom_up()):  # top-down
        w = used.get(node.code)
        if w is None:
            continue
        values = w.to_numpy(dtype=float)
        total = float(np.nansum(values))  # Series.sum: NaN skipped, the same order of addition
        for child, wi in zip(w.index, values.tolist(), strict=True):
            eff[str(child)] = eff.get(node.code, np.nan) * (wi / total if total else np.nan)
    codes = list(framework.nodes)
    return pd.Series([eff.get(c, np.nan) for c in codes], index=codes, dtype=float)


def rollup(
    framework: Framework, res: StageResolver, scores: pd.DataFrame, units: pd.DataFrame
) -> pd.DataFrame:
    """Object scores rolled up to departments at every node below the index ("score, then
    aggregate"), by the roll-up method. Takes objects × nodes and the objects' attributes
    (`department`, and `volume` for the volume-weighted roll-up); returns departments ×
    nodes below the index (the department index is aggregated from these afterwards)."""
    units = units.reindex(scores.index)
    missing = units.index[units["department"].isna()]
    if len(missing):
        raise EgovError(f"objects without a department: {', '.join(map(str, missing[:10]))}")
    rspec = res.rollup()
    groups = units["department"].astype(str)
    below = [c for c in framework.nodes if c != framework.index_code]
    volume = units["volume"] if "volume" in units.columns else None
    params = {k: v for k, v in rspec.items() if k != "method"}
    dept: pd.DataFrame = ROLLUPS[rspec["method"]].func(scores[below], groups, volume, **params)
    return dept.reindex(columns=below)


def summarise_warnings(warnings: list[str], n_indicators: int, where: str = "") -> list[str]:
    """The warnings as a person reads them: repeated ones once, and the per-indicator lines
    of indicators without data (`NO_DATA_COLUMN`, `NO_VALUES`) as one line where the first
    of them was — "37 of 43 indicators have no data in period 2024 and are left out of every
    aggregate: a, b, … (+27 more)". `where` follows "no data" (e.g. " in period 2024")."""
    missing: list[str] = []
    out: list[str] = []
    slot = -1
    for w in warnings:
        m = next((m for p in _NO_DATA if (m := p.match(w))), None)
        if m is None:
            out.append(w)
            continue
        if slot < 0:
            slot = len(out)
        missing.append(m.group(1))
    out = list(dict.fromkeys(out))
    if missing:
        codes = list(dict.fromkeys(missing))
        more = f", … (+{len(codes) - LISTED} more)" if len(codes) > LISTED else ""
        of = f" of {n_indicators}" if n_indicators >= len(codes) else ""
        one = len(codes) == 1
        noun = "indicator" if one and not of else "indicators"
        verbs = "has no data{} and is" if one else "have no data{} and are"
        out.insert(
            min(slot, len(out)),
            f"{len(codes)}{of} {noun} {verbs.format(where)} left out of every aggregate: "
            f"{', '.join(codes[:LISTED])}{more}",
        )
    return out
