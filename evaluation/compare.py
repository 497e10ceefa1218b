"""Horizontal comparison of departments: rankings, gaps, strengths and weaknesses,
improvement priorities, head-to-head comparison and change between two evaluations.

Pure functions on `EvaluationResult` (and, where scores are recomputed, the `Framework`
that made it): DataFrames in, DataFrames out; no database, file or HTTP access.

**A department's value of an indicator.** When objects are rolled up to departments
("score, then aggregate", DESIGN.md), a department's value of an indicator is its
*rolled-up normalised indicator score* — `result.department_scores[indicator]`: the
roll-up (mean by default) of its objects' normalised, direction-adjusted values. It is on
the same scale for every department (higher is better), it is what the department's
dimension, category and index scores are built from, and it exists only for the indicators
that apply to at least one of its objects with a value. Raw values are not comparable
across departments of different sizes or kinds of object; normalised ones are.

Ranks come from the engine (`evaluation.rank.rank_desc`: 1 is best, ties take the lowest
rank number, missing scores are not ranked). See docs/methods.md, "Comparison".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.aggregate import ROLLUPS, aggregate
from evaluation.engine import EvaluationResult, _Resolver
from evaluation.rank import rank_desc
from evaluation.spec import EvaluationSpec
from evaluation.weights import weigh
from indicators.framework import Framework

__all__ = [
    "Change",
    "change",
    "gaps",
    "head_to_head",
    "node_kinds",
    "priorities",
    "rankings",
    "reaggregate",
    "strengths_weaknesses",
]

NO_GROUP = "(none)"


# --- structure of a result ---------------------------------------------------------------
def _f(x: Any) -> float:
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


def _node_order(result: EvaluationResult) -> list[str]:
    return [str(c) for c in result.scores.columns]


def _departments(result: EvaluationResult) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    if result.department_scores is None or result.department_ranks is None:
        raise EgovError("this evaluation has no departments (its units have no 'department' attribute)")
    return result.department_scores, result.department_ranks, _peer_groups(result)


def _peer_groups(result: EvaluationResult) -> pd.Series:
    """Department → its peer group ("(none)" when it has none)."""
    assert result.department_scores is not None
    units = result.units
    groups = units["peer_group"].groupby(units["department"].astype(str)).first()
    groups = groups.reindex(result.department_scores.index)
    return groups.where(groups.notna(), NO_GROUP).astype(str)


def _check_department(result: EvaluationResult, department: str) -> None:
    scores, _, _ = _departments(result)
    if department not in scores.index:
        known = ", ".join(map(str, scores.index))
        raise EgovError(f"unknown department '{department}' (departments of this run: {known})")


def _check_nodes(result: EvaluationResult, nodes: list[str]) -> None:
    unknown = [n for n in nodes if n not in result.levels]
    if unknown:
        raise EgovError(
            f"unknown node(s) {', '.join(unknown)} (framework {result.framework_code}; "
            "see `egov framework show`)"
        )


# --- 1. rankings ---------------------------------------------------------------------------
def rankings(
    result: EvaluationResult,
    entity: Literal["department", "unit", "object"] = "department",
    level: int | None = None,
    nodes: list[str] | None = None,
) -> pd.DataFrame:
    """Rankings overall, per category and per dimension, as one long table.

    Columns: entity, node, level, score, rank, peer_group, peer_rank (peer ranks for
    departments only). `level` keeps one level (COINr numbering: indicators 1, the index
    highest); `nodes` keeps those nodes. Rows are ordered by level (highest first), node in
    framework order, then rank. Ties take the lowest rank number; entities without a score
    at a node are left out of that node's ranking.
    """
    if entity == "department":
        scores, ranks, peers = _departments(result)
        peer_ranks = result.peer_ranks
    elif entity in ("unit", "object"):
        scores, ranks, peer_ranks = result.scores, result.ranks, None
        units = result.units
        peers = units["peer_group"].reindex(scores.index)
        peers = peers.where(peers.notna(), NO_GROUP).astype(str)
    else:
        raise EgovError(f"entity {entity!r}: use department, unit or object")
    order = _node_order(result)
    if nodes is not None:
        _check_nodes(result, nodes)
        order = [c for c in order if c in set(nodes)]
    if level is not None:
        if level not in set(result.levels.values()):
            raise EgovError(f"level {level}: this framework has levels {sorted(set(result.levels.values()))}")
        order = [c for c in order if result.levels[c] == level]
    frames = []
    for node in order:
        part = pd.DataFrame(
            {
                "entity": scores.index.astype(str),
                "node": node,
                "level": result.levels[node],
                "score": scores[node].to_numpy(dtype=float),
                "rank": ranks[node].to_numpy(dtype=float),
                "peer_group": peers.reindex(scores.index).to_numpy(),
                "peer_rank": (
                    peer_ranks[node].reindex(scores.index).to_numpy(dtype=float)
                    if peer_ranks is not None
                    else np.nan
                ),
            }
        )
        frames.append(part.dropna(subset=["score"]))
    columns = ["entity", "node", "level", "score", "rank", "peer_group", "peer_rank"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    position = {c: i for i, c in enumerate(_node_order(result))}
    out["_pos"] = out["node"].map(position)
    out = out.sort_values(
        ["level", "_pos", "rank", "entity"], ascending=[False, True, True, True], kind="mergesort"
    )
    return out.drop(columns="_pos").reset_index(drop=True)[columns]


# --- 2. gaps, strengths and weaknesses ----------------------------------------------------
def gaps(result: EvaluationResult, department: str) -> pd.DataFrame:
    """Distance to the best and to the median at every node (indicators and aggregates).

    One row per node the department has a score for (indicators: its rolled-up normalised
    value, see the module docstring): score, rank, best, median, n (departments with a
    score at that node), `gap_best` = best − score (≥ 0), `gap_median` = median − score
    (positive: below the median, negative: above it); and the same within its peer group
    (peer_best, peer_median, peer_n, peer_gap_best, peer_gap_median). Medians are taken over
    the departments with a score, the department itself included.
    """
    _check_department(result, department)
    scores, ranks, peers = _departments(result)
    group = peers[department]
    in_group = peers.index[peers == group]
    kinds = node_kinds(result)
    rows = []
    for node in _node_order(result):
        s = _f(scores.at[department, node])
        if np.isnan(s):
            continue
        col = scores[node].dropna()
        pcol = col[col.index.isin(in_group)]
        rows.append(
            {
                "node": node,
                "kind": kinds[node],
                "level": result.levels[node],
                "score": _f(s),
                "rank": _f(ranks.at[department, node]),
                "n": len(col),
                "best": _f(col.max()),
                "median": _f(col.median()),
                "gap_best": _f(col.max() - s),
                "gap_median": _f(col.median() - s),
                "peer_group": group,
                "peer_n": len(pcol),
                "peer_best": _f(pcol.max()),
                "peer_median": _f(pcol.median()),
                "peer_gap_best": _f(pcol.max() - s),
                "peer_gap_median": _f(pcol.median() - s),
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("level", ascending=False, kind="mergesort").reset_index(drop=True)


def strengths_weaknesses(
    result: EvaluationResult, department: str, n: int = 5, within: Literal["all", "peers"] = "all"
) -> pd.DataFrame:
    """The n indicators where the department does best and the n where it does worst
    relative to the other departments (`within="peers"`: its peer group).

    Measure: the department's **percentile** among the departments with a value of the
    indicator — (number it scores above + half the number it ties with) / (number of others),
    0 = the worst, 1 = the best — tie-broken by `vs_median`, its rolled-up normalised value
    minus the median. Why the percentile: it is scale-free, so indicators normalised by
    different methods (min-max, z-scores, ranks, goalposts) or with an outlier that squeezes
    everyone else into a narrow band are compared fairly; a raw difference in normalised
    points would favour indicators with a wide spread. `vs_median` is reported for the size
    of the gap. Indicators with fewer than two departments with a value are left out.

    Columns: side ("strength" or "weakness"), indicator, value, median, vs_median,
    percentile, rank, n.
    """
    _check_department(result, department)
    scores, _, peers = _departments(result)
    if within == "peers":
        scores = scores[peers == peers[department]]
    elif within != "all":
        raise EgovError(f"within {within!r}: use all or peers")
    kinds = node_kinds(result)
    rows = []
    for node in _node_order(result):
        if kinds[node] != "indicator":
            continue
        col = scores[node].dropna()
        if department not in col.index or len(col) < 2:
            continue
        v = _f(col[department])
        others = col.drop(department)
        pct = (_f((others < v).sum()) + 0.5 * _f((others == v).sum())) / len(others)
        rows.append(
            {
                "indicator": node,
                "value": v,
                "median": _f(col.median()),
                "vs_median": v - _f(col.median()),
                "percentile": pct,
                "rank": _f(rank_desc(col)[department]),
                "n": len(col),
            }
        )
    table = pd.DataFrame(
        rows, columns=["indicator", "value", "median", "vs_median", "percentile", "rank", "n"]
    )
    best = table.sort_values(["percentile", "vs_median"], ascending=False, kind="mergesort").head(n)
    worst = table.sort_values(["percentile", "vs_median"], ascending=True, kind="mergesort").head(n)
    best.insert(0, "side", "strength")
    worst.insert(0, "side", "weakness")
    return pd.concat([best, worst], ignore_index=True)


def head_to_head(result: EvaluationResult, a: str, b: str) -> pd.DataFrame:
    """Two departments side by side at every node: score_a, score_b, difference (a − b),
    rank_a, rank_b, kind, level; nodes in framework order, highest level first."""
    for d in (a, b):
        _check_department(result, d)
    scores, ranks, _ = _departments(result)
    order = _node_order(result)
    kinds = node_kinds(result)
    out = pd.DataFrame(
        {
            "node": order,
            "kind": [kinds[c] for c in order],
            "level": [result.levels[c] for c in order],
            "score_a": scores.loc[a, order].to_numpy(dtype=float),
            "score_b": scores.loc[b, order].to_numpy(dtype=float),
            "rank_a": ranks.loc[a, order].to_numpy(dtype=float),
            "rank_b": ranks.loc[b, order].to_numpy(dtype=float),
        }
    )
    out["difference"] = out["score_a"] - out["score_b"]
    return out.sort_values("level", ascending=False, kind="mergesort").reset_index(drop=True)


# --- re-aggregation with the result's weights ------------------------------------------------
def reaggregate(
    result: EvaluationResult, framework: Framework, normalised: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Recompute every aggregate, the roll-up and the department index from a (changed)
    normalised table, holding the weights fixed at those of `result` (data-driven
    weightings such as entropy or PCA are not re-estimated) and using the aggregation,
    coverage and roll-up methods that made `result` (framework + its spec).

    Returns (unit scores, department scores or None). On `result.normalised` it gives back
    `result.scores` and `result.department_scores` (a test checks it).
    """
    if framework.content_hash != result.framework_hash:
        raise EgovError(
            f"framework {framework.code} {framework.version} is not the one that made this result "
            f"(hash {framework.content_hash[:12]} ≠ {result.framework_hash[:12]})"
        )
    res = _Resolver(framework, EvaluationSpec(**result.spec))
    scores = normalised.copy()
    for node in framework.aggregates_bottom_up():
        children = list(node.children)
        values = scores[children]
        agg = aggregate(values, result.weights[node.code], res.aggregate(node.code, "aggregation"))
        threshold = res.coverage(node.code)
        if threshold > 0:  # as the engine: the aggregate needs this share of its children
            share = values.notna().sum(axis=1) / len(children)
            agg = agg.where(share >= threshold - 1e-12)
        scores[node.code] = agg
    scores = scores[[c for c in framework.nodes if c in scores.columns]]
    if result.department_scores is None:
        return scores, None
    units = result.units.reindex(scores.index)
    groups = units["department"].astype(str)
    idx = framework.index_code
    below = [c for c in framework.nodes if c != idx]
    rspec = res.rollup()
    volume = units["volume"] if "volume" in units.columns else None
    params = {k: v for k, v in rspec.items() if k != "method"}
    dept = ROLLUPS[rspec["method"]].func(scores[below], groups, volume, **params)
    dept = dept.reindex(columns=below)
    children = list(framework.index.children)
    weights = _department_index_weights(result, framework, res)
    dept[idx] = aggregate(dept[children], weights, res.aggregate(idx, "aggregation"))
    threshold = res.coverage(idx)
    if threshold > 0:
        share = dept[children].notna().sum(axis=1) / len(children)
        dept[idx] = dept[idx].where(share >= threshold - 1e-12)
    return scores, dept[[c for c in framework.nodes if c in dept.columns]]


def _department_index_weights(result: EvaluationResult, framework: Framework, res: _Resolver) -> pd.Series:
    """The weights the engine used for the department index: its weighting applied to the
    department category scores of `result` (held fixed afterwards)."""
    assert result.department_scores is not None
    idx = framework.index_code
    children = list(framework.index.children)
    written = pd.Series({c: framework.nodes[c].weight for c in children}, dtype=float)
    w = weigh(result.department_scores[children], written, res.aggregate(idx, "weighting"))
    return w.reindex(children).astype(float)


# --- improvement priorities ------------------------------------------------------------------
def priorities(
    result: EvaluationResult,
    department: str,
    step: Literal["median", "next"] = "median",
    *,
    framework: Framework,
    within: Literal["peers", "all"] | None = None,
) -> pd.DataFrame:
    """Indicators where a realistic step would raise the department's overall score most.

    The department's value of an indicator is its rolled-up normalised score (module
    docstring). The step, for each indicator the department has a value for:
    - `median`: reach the median value of the departments in its peer group that have a
      value (the department included; all departments when it has no peer group) —
      nothing when it is already at or above it;
    - `next`: reach the value of the next-ranked department above it on that indicator
      among all departments (the smallest value above its own) — nothing when it is the best.
    `within` ("peers" or "all") overrides whose values count (default: peers for `median`,
    all departments for `next`).

    The gain is computed exactly: the department's objects' normalised values of that
    indicator are all shifted by the step (every roll-up — mean, volume-weighted, min, max,
    median — then moves by exactly the step), and the whole tree, roll-up and department
    index are re-aggregated with the result's weights and methods (`reaggregate`).
    Normalisation is held fixed (the other units' normalised values do not move), so the
    step is a target on the normalised scale; an object may end up beyond the scale's best.
    `first_order` = step × Σ ω(o, i) over the department's objects (`object_effective_weights`)
    is the linear view for comparison: it equals the gain for arithmetic aggregation with a
    mean or volume-weighted roll-up and fixed weights, not otherwise.

    Columns: indicator, value, target, step, gain, first_order, new_score, new_rank,
    new_peer_rank, score, rank, peer_rank; sorted by gain (largest first).
    """
    _check_department(result, department)
    if step not in ("median", "next"):
        raise EgovError(f"step {step!r}: use median or next")
    within = within or ("peers" if step == "median" else "all")
    if within not in ("peers", "all"):
        raise EgovError(f"within {within!r}: use peers or all")
    scores, ranks, peers = _departments(result)
    idx = result.index_code
    no_group = peers[department] == NO_GROUP  # no peer group: its peers are all departments
    pool = scores if within == "all" or no_group else scores[peers == peers[department]]
    mine = result.units.index[result.units["department"].astype(str) == department]
    base = _f(scores.at[department, idx])
    peer_members = peers.index[peers == peers[department]]
    kinds = node_kinds(result)
    eff = object_effective_weights(result).loc[mine].sum(min_count=1)
    rows = []
    for node in _node_order(result):
        if kinds[node] != "indicator":
            continue
        value = _f(scores.at[department, node])
        if np.isnan(value):
            continue
        col = pool[node].dropna()
        if step == "median":
            target = _f(col.median())
        else:
            above = col[col > value]
            target = _f(above.min()) if len(above) else _f(value)
        delta = max(target - _f(value), 0.0)
        if delta > 0:
            normalised = result.normalised.copy()
            normalised.loc[mine, node] = normalised.loc[mine, node] + delta
            _, dept = reaggregate(result, framework, normalised)
            assert dept is not None
            new_index = dept[idx]
        else:
            new_index = scores[idx]
        new_score = _f(new_index[department])
        rows.append(
            {
                "indicator": node,
                "value": _f(value),
                "target": _f(value) + delta,
                "step": delta,
                "gain": new_score - base,
                "first_order": _f(eff[node]) * delta,
                "new_score": new_score,
                "new_rank": _f(rank_desc(new_index)[department]),
                "new_peer_rank": _f(rank_desc(new_index[peer_members])[department]),
                "score": base,
                "rank": _f(ranks.at[department, idx]),
                "peer_rank": (
                    _f(result.peer_ranks.at[department, idx]) if result.peer_ranks is not None else np.nan
                ),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["gain", "step"], ascending=False, kind="mergesort").reset_index(drop=True)


# --- 3. change between two evaluations ----------------------------------------------------
@dataclass
class Change:
    """Change between two evaluations (see `change`)."""

    summary: pd.DataFrame  # one row per department
    contributions: pd.DataFrame  # one row per (department, indicator)
    method_changed: bool
    notes: list[str] = field(default_factory=list)


def _top_down(result: EvaluationResult, scores: pd.DataFrame, start: dict[str, float]) -> pd.DataFrame:
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
    scores, _, _ = _departments(result)
    return _top_down(result, scores, {result.index_code: 1.0})


def _rollup_shares(result: EvaluationResult, categories: list[str]) -> pd.DataFrame:
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
    dept_eff = department_effective_weights(result)
    idx = result.index_code
    categories = [str(c) for c in result.weights[idx].index]
    within = _top_down(result, result.scores, dict.fromkeys(categories, 1.0))
    shares = _rollup_shares(result, categories)
    groups = result.units["department"].reindex(result.scores.index).astype(str)
    parent = {str(child): node for node, w in result.weights.items() for child in w.index}
    kinds = node_kinds(result)
    out = pd.DataFrame(index=result.scores.index)
    for code in _node_order(result):
        if kinds[code] != "indicator":
            continue
        cat = code
        while parent.get(cat) not in (idx, None):
            cat = parent[cat]
        w_cat = dept_eff[cat].reindex(groups.to_numpy()).to_numpy()
        out[code] = w_cat * shares[cat].to_numpy() * within[code].to_numpy()
    return out


def change(
    previous: EvaluationResult,
    current: EvaluationResult,
    *,
    current_data_previous_method: EvaluationResult | None = None,
    previous_data_current_method: EvaluationResult | None = None,
) -> Change:
    """Score and rank change of every department from `previous` to `current`.

    **Per-indicator contributions** (Bennet (1920) symmetric decomposition). To first
    order the department's index is S = Σ_o Σ_i ω(o, i) x(o, i) over its objects o and
    indicators i, with x the normalised value and ω its share of the department's index
    (`object_effective_weights`: category weight × the object's roll-up share × the
    indicator's share of the object's category score, each renormalised over what is
    present). Then exactly Σ (ω1 x1 − ω0 x0) = Σ ω̄ Δx + Σ x̄ Δω (bars: averages of the
    two periods), so an indicator's contribution, summed over the department's objects, is
    `value_effect` (ω̄ Δx: its values changed) + `weight_effect` (x̄ Δω: its share changed
    — a new framework, or another indicator or object appearing or disappearing). A value
    present in one period only contributes its ω x of that period (as a weight effect).
    The `residual` = actual change − Σ contributions is what the linear view misses; it is
    0 for arithmetic aggregation with a mean or volume-weighted roll-up and fixed weights,
    and carries geometric, harmonic or Copeland aggregation, min/max/median roll-ups,
    data-driven weights and coverage thresholds — so the parts always add up exactly to
    the change. Normalised values are relative to the other departments, so a value can
    change without the department's raw data changing. `value_previous`/`value_current`
    are the department-level (rolled-up) values and `weight_previous`/`weight_current`
    their effective weights (`department_effective_weights`), for reading.

    **Data versus method** (only when the framework hash or the spec differ, and when the
    swapped evaluations are given): with S(D, M) the index of data D under method M,
    the "data first" path is [S(D1,M0) − S(D0,M0)] + [S(D1,M1) − S(D1,M0)] and the "method
    first" path [S(D0,M1) − S(D0,M0)] + [S(D1,M1) − S(D0,M1)]. Both add up to the change; the
    reported `data_effect` and `method_effect` are the averages of the two paths, the
    Shapley value of the two factors (Shorrocks (2013), J. Econ. Inequality 11: 99–126),
    which does not depend on an arbitrary order. With one swapped evaluation only, that
    one path is reported.

    `summary` columns: department, score_previous, score_current, change, rank_previous,
    rank_current, rank_change (previous − current: positive = moved up), value_effect,
    weight_effect, residual, and when split: data_effect, method_effect, the per-path
    effects (data_first_data, data_first_method, method_first_method, method_first_data).
    `contributions` columns: department, indicator, value_previous, value_current,
    weight_previous, weight_current, value_effect, weight_effect, contribution.
    """
    s0, r0, _ = _departments(previous)
    s1, r1, _ = _departments(current)
    idx0, idx1 = previous.index_code, current.index_code
    departments = sorted(set(map(str, s0.index)) | set(map(str, s1.index)))
    notes: list[str] = []
    only = sorted(set(map(str, s0.index)) ^ set(map(str, s1.index)))
    if only:
        notes.append(
            f"departments in only one of the two evaluations (no change computed): {', '.join(only)}"
        )
    method_changed = previous.framework_hash != current.framework_hash or previous.spec != current.spec

    # per-indicator contributions: Bennet at the object level, summed per department
    k0, k1 = node_kinds(previous), node_kinds(current)
    indicators = [c for c in _node_order(current) if k1[c] == "indicator"]
    indicators += [c for c in _node_order(previous) if k0[c] == "indicator" and c not in indicators]
    objects = sorted(set(map(str, previous.scores.index)) | set(map(str, current.scores.index)))
    o0 = object_effective_weights(previous).reindex(index=objects, columns=indicators)
    o1 = object_effective_weights(current).reindex(index=objects, columns=indicators)
    x0 = previous.normalised.reindex(index=objects, columns=indicators).where(o0.notna())
    x1 = current.normalised.reindex(index=objects, columns=indicators).where(o1.notna())
    owner = (
        pd.concat([current.units["department"].astype(str), previous.units["department"].astype(str)])
        .groupby(level=0)
        .first()
        .reindex(objects)
    )
    both = x0.notna() & x1.notna()
    t0, t1 = (o0 * x0).fillna(0.0), (o1 * x1).fillna(0.0)
    value_effect = ((o0 + o1) / 2 * (x1 - x0)).where(both, 0.0).groupby(owner).sum()
    weight_effect = ((x0 + x1) / 2 * (o1 - o0)).where(both, t1 - t0).groupby(owner).sum()
    contribution = (t1 - t0).groupby(owner).sum()
    value_effect, weight_effect, contribution = (
        df.reindex(index=departments, columns=indicators, fill_value=0.0)
        for df in (value_effect, weight_effect, contribution)
    )
    w0 = department_effective_weights(previous).reindex(index=departments, columns=indicators)
    w1 = department_effective_weights(current).reindex(index=departments, columns=indicators)
    v0 = s0.reindex(index=departments, columns=indicators)
    v1 = s1.reindex(index=departments, columns=indicators)

    def stack(df: pd.DataFrame, name: str) -> pd.Series:
        s = pd.Series(df.stack(future_stack=True), name=name)
        s.index.names = ["department", "indicator"]
        return s

    contributions = pd.concat(
        [
            stack(v0, "value_previous"),
            stack(v1, "value_current"),
            stack(w0, "weight_previous"),
            stack(w1, "weight_current"),
            stack(value_effect, "value_effect"),
            stack(weight_effect, "weight_effect"),
            stack(contribution, "contribution"),
        ],
        axis=1,
    ).reset_index()
    contributions = contributions[
        contributions["value_previous"].notna() | contributions["value_current"].notna()
    ]
    common = [d for d in departments if d in s0.index and d in s1.index]
    contributions = contributions[contributions["department"].isin(common)].reset_index(drop=True)

    score0 = s0[idx0].reindex(departments)
    score1 = s1[idx1].reindex(departments)
    summary = pd.DataFrame(
        {
            "department": departments,
            "score_previous": score0.to_numpy(),
            "score_current": score1.to_numpy(),
            "rank_previous": r0[idx0].reindex(departments).to_numpy(),
            "rank_current": r1[idx1].reindex(departments).to_numpy(),
        }
    )
    summary["change"] = summary["score_current"] - summary["score_previous"]
    summary["rank_change"] = summary["rank_previous"] - summary["rank_current"]
    summary["value_effect"] = value_effect.sum(axis=1).to_numpy()
    summary["weight_effect"] = weight_effect.sum(axis=1).to_numpy()
    summary["residual"] = summary["change"] - (summary["value_effect"] + summary["weight_effect"])
    summary.loc[summary["change"].isna(), ["value_effect", "weight_effect", "residual"]] = np.nan

    if method_changed:
        d1m0 = _index_of(current_data_previous_method, departments)
        d0m1 = _index_of(previous_data_current_method, departments)
        a, b = summary["score_previous"].to_numpy(), summary["score_current"].to_numpy()
        paths = []
        if d1m0 is not None:
            summary["data_first_data"] = d1m0 - a
            summary["data_first_method"] = b - d1m0
            paths.append(("data_first_data", "data_first_method"))
        if d0m1 is not None:
            summary["method_first_method"] = d0m1 - a
            summary["method_first_data"] = b - d0m1
            paths.append(("method_first_data", "method_first_method"))
        if paths:
            summary["data_effect"] = sum(summary[d] for d, _ in paths) / len(paths)
            summary["method_effect"] = sum(summary[m] for _, m in paths) / len(paths)
        else:
            notes.append(
                "the method changed (framework or spec) but no swapped evaluation was given: "
                "data and method effects are not separated"
            )
    summary = summary.sort_values(["rank_current", "department"], kind="mergesort", na_position="last")
    return Change(summary.reset_index(drop=True), contributions, method_changed, notes)


def _index_of(result: EvaluationResult | None, departments: list[str]) -> np.ndarray | None:
    if result is None:
        return None
    scores, _, _ = _departments(result)
    return scores[result.index_code].reindex(departments).to_numpy(dtype=float)
