"""The structure of an evaluation result, read for comparison: what kind each node is,
the departments and their peer groups, each value's share of the index (effective
weights) and the share one source of indicators (citizen ratings) carries, and
re-aggregation of a changed normalised table with the result's weights.

Shared by `evaluation.compare`, `evaluation.change` and `evaluation.priorities`. Pure
functions on `EvaluationResult` (and the `Framework` that made it); no database, file or
HTTP access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.aggregate import UNIT_BY_UNIT
from evaluation.engine import EvaluationResult
from evaluation.rank import TIE_DECIMALS, tie_key
from evaluation.spec import EvaluationSpec
from evaluation.stages import StageResolver, aggregate_tree, node_weights, rollup
from indicators.framework import Framework

__all__ = [
    "MIN_PEERS",
    "NO_GROUP",
    "as_float",
    "check_department",
    "check_nodes",
    "comparison_group",
    "department_effective_weights",
    "department_tables",
    "department_values",
    "derived",
    "node_kinds",
    "node_order",
    "object_effective_weights",
    "peer_groups",
    "reaggregate",
    "rollup_shares",
    "source_share",
    "top_down",
    "unit_by_unit",
    "value_at",
]

NO_GROUP = "(none)"  # the peer group of a department that has none
# a peer group with fewer departments than this (with a value at a node) is too small to
# compare with: the comparison falls back to all departments and says so
MIN_PEERS = 3


def as_float(x: Any) -> float:
    """A pandas scalar as a float (pandas-stubs type `.at` and reductions loosely)."""
    return float(x)


def node_kinds(result: EvaluationResult) -> dict[str, str]:
    """Every node of the result → "index", "category", "dimension" or "indicator" (the
    tree is read from `result.weights`: aggregate → its children)."""
    idx = result.index_code
    categories = set(result.weights[idx].index) if idx in result.weights else set()
    out: dict[str, str] = {}
    for code in result.levels:
        if code == idx:
            out[code] = "index"
        elif code in categories:
            out[code] = "category"
        elif code in result.weights:
            out[code] = "dimension"
        else:
            out[code] = "indicator"
    return out


def node_order(result: EvaluationResult) -> list[str]:
    """The result's nodes in framework order (the columns of its scores)."""
    return [str(c) for c in result.scores.columns]


def department_tables(result: EvaluationResult) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(department scores, department ranks, department → peer group); an error when the
    result has no departments."""
    if result.department_scores is None or result.department_ranks is None:
        raise EgovError("this evaluation has no departments (its units have no 'department' attribute)")
    return result.department_scores, result.department_ranks, peer_groups(result)


def peer_groups(result: EvaluationResult) -> pd.Series:
    """Department → its peer group ("(none)" when it has none)."""
    assert result.department_scores is not None
    units = result.units
    groups = units["peer_group"].groupby(units["department"].astype(str)).first()
    groups = groups.reindex(result.department_scores.index)
    return groups.where(groups.notna(), NO_GROUP).astype(str)


def check_department(result: EvaluationResult, department: str) -> None:
    """An error naming the known departments when `department` is not one of the result's."""
    scores, _, _ = department_tables(result)
    if department not in scores.index:
        known = ", ".join(map(str, scores.index))
        raise EgovError(f"unknown department '{department}' (departments of this run: {known})")


def check_nodes(result: EvaluationResult, nodes: list[str]) -> None:
    """An error when a node is not in the result's framework."""
    unknown = [n for n in nodes if n not in result.levels]
    if unknown:
        raise EgovError(
            f"unknown node(s) {', '.join(unknown)} (framework {result.framework_code}; "
            "see `egov framework show`)"
        )


def comparison_group(peers: pd.Series, department: str, column: pd.Series) -> tuple[pd.Series, bool]:
    """The values of `column` (departments → value at one node, NaN dropped) that the
    department is compared with: its peer group's, or all departments' when it has no peer
    group or fewer than `MIN_PEERS` of its peer group have a value (then `True`: a fallback
    the caller must say)."""
    col = column.dropna()
    group = peers.get(department, NO_GROUP)
    if group == NO_GROUP:
        return col, False
    mine = col[col.index.isin(peers.index[peers == group])]
    if len(mine) < MIN_PEERS:
        return col, True
    return mine, False


# --- values in the department's own units ----------------------------------------------------
def derived(result: EvaluationResult, key: str, make: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """`make()` once per result and key (`EvaluationResult.derived`); read-only for callers."""
    if key not in result.derived:
        result.derived[key] = make()
    table: pd.DataFrame = result.derived[key]
    return table


def department_values(result: EvaluationResult, framework: Framework) -> pd.DataFrame:
    """Departments × indicators: the department's value of each indicator in the indicator's
    own unit (after denomination; before imputation and outlier treatment, so an imputed
    value is not shown as a real one), rolled up from its objects by the run's roll-up
    method — the same roll-up that makes its score, so with a linear normalisation (min-max,
    goalposts) and the mean roll-up the score is exactly the normalised value of this value.
    Direction is respected (a `min` roll-up keeps the worst value whatever the direction).
    Only the objects with a normalised value count (screened-out objects do not)."""
    return derived(result, f"values:{framework.content_hash}", lambda: _department_values(result, framework))


def _department_values(result: EvaluationResult, framework: Framework) -> pd.DataFrame:
    assert result.department_scores is not None
    res = StageResolver(framework, EvaluationSpec(**result.spec))
    codes = [c for c in node_order(result) if c in framework.nodes and framework.nodes[c].is_indicator]
    values = result.denominated.reindex(index=result.normalised.index, columns=codes)
    values = values.where(result.normalised.reindex(columns=codes).notna())
    direction = pd.Series({c: float(framework.nodes[c].direction) for c in codes}, dtype=float)
    below = [c for c in framework.nodes if c != framework.index_code]
    rolled = rollup(framework, res, (values * direction).reindex(columns=below), result.units)
    return (rolled[codes] * direction).reindex(result.department_scores.index)


def value_at(scores: pd.Series, values: pd.Series, target: float) -> float:
    """The value (own unit) that corresponds to the score `target` on one indicator, read from
    the departments' (score, value) pairs: the value of the department(s) with that score
    when one has it (the median of an odd number, the best, the next above), otherwise the
    linear interpolation between the two departments around it (the median of an even
    number: the mean of the two middle values under a linear normalisation). NaN when no
    department has both."""
    # numpy, not a frame grouped by the rounded score: a department report calls this
    # thousands of times, and a frame per call cost milliseconds each
    score = scores.to_numpy(dtype=float)
    value = values.reindex(scores.index).to_numpy(dtype=float)
    keep = ~(np.isnan(score) | np.isnan(value))
    if not keep.any() or np.isnan(target):
        return float("nan")
    keys, where = np.unique(tie_key(score[keep]), return_inverse=True)
    means = np.bincount(where, weights=value[keep]) / np.bincount(where)
    key = round(float(target), TIE_DECIMALS)
    hit = np.searchsorted(keys, key)
    if hit < len(keys) and keys[hit] == key:
        return float(means[hit])
    return float(np.interp(target, keys, means))


# --- effective weights -------------------------------------------------------------------
def top_down(result: EvaluationResult, scores: pd.DataFrame, start: dict[str, float]) -> pd.DataFrame:
    """Each node's share of the start node(s), renormalised over the children present at
    every aggregate (the engine skips missing children and renormalises)."""
    eff = pd.DataFrame(np.nan, index=scores.index, columns=scores.columns, dtype=float)
    for code, value in start.items():
        eff[code] = value
    below = max(result.levels[c] for c in start)
    for node in sorted(result.weights, key=lambda c: -result.levels[c]):  # top-down
        if result.levels[node] > below:
            continue
        w = result.weights[node]
        children = [str(c) for c in w.index]
        present = scores[children].notna().to_numpy()
        wm = np.where(present, w.to_numpy(dtype=float)[None, :], 0.0)
        total = wm.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, wm / np.where(total > 0, total, 1.0), np.nan)
        eff[children] = share * eff[[node]].to_numpy()
    return eff.where(scores.notna())


def department_effective_weights(result: EvaluationResult) -> pd.DataFrame:
    """Departments × nodes: each node's share of the department's index, renormalised over
    the children the department has a score for at every aggregate: the first-order weight
    of a department-level value."""
    scores, _, _ = department_tables(result)
    return top_down(result, scores, {result.index_code: 1.0})


def rollup_shares(result: EvaluationResult, categories: list[str]) -> pd.DataFrame:
    """Objects × categories: each object's share of its department's category score. The
    roll-up is recognised from the result: the volume-weighted mean when it reproduces the
    department scores, else the plain mean (exact for `mean`; for `min`, `max` and
    `median` a linear stand-in whose error goes to the residual)."""
    assert result.department_scores is not None
    scores = result.scores[categories]
    groups = result.units["department"].reindex(scores.index).astype(str)
    present = scores.notna().astype(float)
    if "volume" in result.units.columns:
        volume = pd.to_numeric(result.units["volume"].reindex(scores.index), errors="coerce")
        weighted = present.mul(volume, axis=0)
        totals = weighted.groupby(groups).transform("sum")
        shares = weighted / totals.where(totals > 0)
        rolled = (scores.fillna(0.0) * shares).groupby(groups).sum(min_count=1)
        expected = result.department_scores[categories].reindex(rolled.index)
        if np.allclose(rolled.to_numpy(), expected.to_numpy(), equal_nan=True):
            return shares.where(scores.notna())
    counts = present.groupby(groups).transform("sum")
    return (present / counts.where(counts > 0)).where(scores.notna())


def object_effective_weights(result: EvaluationResult) -> pd.DataFrame:
    """Objects × indicators: each object's indicator value's share of its department's
    index, ω(o, i) = W(d, c) × r(o, c) × e(o, i), with W(d, c) the department's weight of
    category c (renormalised over its categories), r(o, c) the object's share of the
    department's category score (roll-up) and e(o, i) the indicator's share of the object's
    category score (renormalised over the object's indicators). With arithmetic
    aggregation and a mean or volume-weighted roll-up, the department index is exactly
    Σ_o Σ_i ω(o, i) v(o, i) over its objects."""
    return derived(result, "object_effective_weights", lambda: _object_effective_weights(result))


def _object_effective_weights(result: EvaluationResult) -> pd.DataFrame:
    dept_eff = department_effective_weights(result)
    idx = result.index_code
    categories = [str(c) for c in result.weights[idx].index]
    within = top_down(result, result.scores, dict.fromkeys(categories, 1.0))
    shares = rollup_shares(result, categories)
    groups = result.units["department"].reindex(result.scores.index).astype(str)
    parent = {str(child): node for node, w in result.weights.items() for child in w.index}
    kinds = node_kinds(result)
    out = pd.DataFrame(index=result.scores.index)
    for code in node_order(result):
        if kinds[code] != "indicator":
            continue
        cat = code
        while parent.get(cat) not in (idx, None):
            cat = parent[cat]
        w_cat = dept_eff[cat].reindex(groups.to_numpy()).to_numpy()
        out[code] = w_cat * shares[cat].to_numpy() * within[code].to_numpy()
    return out


def source_share(result: EvaluationResult, framework: Framework, source: str = "rating") -> pd.Series:
    """Departments: the share of each department's index that indicators of `source`
    (`rating`: derived from citizen ratings; `metric`: collected) carry, the sum of their
    object effective weights ω(o, i) over the department's objects. 0 for a department with
    no value of that source (e.g. no application object with ratings). First-order, like
    the effective weights: exact with arithmetic aggregation and a mean or volume roll-up."""
    assert result.department_scores is not None
    omega = object_effective_weights(result)
    codes = [n.code for n in framework.indicators if n.source == source and n.code in omega.columns]
    groups = result.units["department"].reindex(omega.index).astype(str)
    carried = omega[codes].fillna(0.0).sum(axis=1).groupby(groups).sum()
    return carried.reindex(result.department_scores.index, fill_value=0.0).rename(f"{source}_share")


# --- re-aggregation with the result's weights ------------------------------------------------
def unit_by_unit(result: EvaluationResult, framework: Framework) -> bool:
    """Whether every aggregate of the result scores each unit from its own children alone
    (no Copeland), so that `reaggregate` on one department's objects gives them, and the
    department, the scores they would have in the whole table."""
    res = StageResolver(framework, EvaluationSpec(**result.spec))
    return all(
        res.aggregate(node.code, "aggregation")["method"] in UNIT_BY_UNIT
        for node in framework.aggregates_bottom_up()
    )


def reaggregate(
    result: EvaluationResult, framework: Framework, normalised: pd.DataFrame, changed: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Recompute every aggregate, the roll-up and the department index from a (changed)
    normalised table, holding the weights fixed at those of `result` (data-driven
    weightings such as entropy or PCA are not re-estimated) and using the aggregation,
    coverage and roll-up methods that made `result` (framework + its spec).

    Returns (unit scores, department scores or None). On `result.normalised` it gives back
    `result.scores` and `result.department_scores` (a test checks it).

    `changed`: the one indicator whose values differ from `result.normalised`; only its
    ancestors are re-aggregated, the other aggregates are read from `result.scores` (the
    same numbers, fewer aggregates to compute).
    """
    if framework.content_hash != result.framework_hash:
        raise EgovError(
            f"framework {framework.code} {framework.version} is not the one that made this result "
            f"(hash {framework.content_hash[:12]} ≠ {result.framework_hash[:12]})"
        )
    res = StageResolver(framework, EvaluationSpec(**result.spec))
    if changed is None:
        scores, _ = aggregate_tree(framework, res, normalised, weights=result.weights)
    else:
        start = result.scores.loc[normalised.index].copy()
        start[changed] = normalised[changed]
        only = set(framework.ancestors(changed))
        scores, _ = aggregate_tree(framework, res, normalised, start=start, only=only, weights=result.weights)
    if result.department_scores is None:
        return scores, None
    dept = rollup(framework, res, scores, result.units)
    idx = framework.index_code
    # the weights the engine used for the department index: its weighting applied to the
    # department category scores of `result` (held fixed afterwards)
    weights = node_weights(framework, res, idx, result.department_scores[list(framework.index.children)])
    dept, _ = aggregate_tree(framework, res, dept, start=dept, only={idx}, weights={idx: weights})
    return scores, dept
