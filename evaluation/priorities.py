"""Improvement priorities: the indicators where a realistic step would raise a
department's overall score most, with the gain computed exactly by re-aggregating the
result (`evaluation.structure.reaggregate`). Part of the comparison API
(`evaluation.compare`); pure, no database, file or HTTP access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.engine import EvaluationResult
from evaluation.rank import TIE_DECIMALS, rank_of, tie_key
from evaluation.structure import (
    NO_GROUP,
    as_float,
    check_department,
    comparison_group,
    department_tables,
    department_values,
    node_kinds,
    node_order,
    object_effective_weights,
    reaggregate,
    unit_by_unit,
    value_at,
)
from indicators.framework import Framework

__all__ = ["priorities", "priorities_all"]


def priorities(
    result: EvaluationResult,
    department: str,
    step: Literal["median", "next"] = "median",
    *,
    framework: Framework,
    within: Literal["peers", "all"] | None = None,
) -> pd.DataFrame:
    """Indicators where a realistic step would raise the department's overall score most.

    The department's value of an indicator is its rolled-up normalised score (`evaluation.compare`
    module docstring). The step, for each indicator the department has a value for:
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

    A peer group of fewer than `MIN_PEERS` departments with a value of the indicator is too
    small: all departments count instead (`peer_fallback` True).

    In the indicator's own unit: `raw_value` (`structure.department_values`) and
    `raw_target`, the value of the department whose score is the target (the median of an
    even number: the two middle ones interpolated; `structure.value_at`), and `unit`.

    Columns: indicator, value, target, step, gain, first_order, new_score, new_rank,
    new_peer_rank, score, rank, peer_rank, unit, raw_value, raw_target, peer_fallback;
    sorted by gain (largest first).
    """
    check_department(result, department)
    chosen = _check(step, within)
    ctx = _Context.of(result, framework, department)
    kinds = node_kinds(result)
    rows = []
    for node in node_order(result):
        if kinds[node] != "indicator":
            continue
        value = as_float(ctx.scores.at[department, node])
        if np.isnan(value):
            continue
        if chosen == "peers":
            pool, fallback = comparison_group(ctx.peers, department, ctx.scores[node])
        else:
            pool, fallback = ctx.scores[node].dropna(), False
        target = _target(pool, value, step)
        row = _gain(ctx, node, value, target)
        raw = ctx.values[node]
        row |= {
            "unit": framework.nodes[node].unit,
            "raw_value": as_float(raw[department]),
            "raw_target": value_at(pool, raw, as_float(row["target"])),
            "peer_fallback": fallback,
        }
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["gain", "step"], ascending=False, kind="mergesort").reset_index(drop=True)


def _check(step: str, within: str | None) -> str:
    """The `within` that applies (an error for an unknown step or within)."""
    if step not in ("median", "next"):
        raise EgovError(f"step {step!r}: use median or next")
    within = within or ("peers" if step == "median" else "all")
    if within not in ("peers", "all"):
        raise EgovError(f"within {within!r}: use peers or all")
    return within


@dataclass
class _Context:
    """What every indicator's gain is measured against: the department, its objects, the
    departments whose values count, its index score and ranks."""

    result: EvaluationResult
    framework: Framework
    department: str
    scores: pd.DataFrame  # departments × nodes
    values: pd.DataFrame  # departments × indicators, in the indicators' own units
    peers: pd.Series  # department → peer group
    mine: pd.Index  # the department's objects
    rows: pd.Index  # the objects re-aggregated: its own when every aggregate is unit by unit
    peer_members: pd.Index  # the departments of its peer group
    base: float  # its index score
    rank: float  # its index rank
    peer_rank: float
    eff: pd.Series  # indicator → Σ ω(o, i) over its objects
    ranked: pd.Series  # department → whether it enters the overall ranking (coverage rule)

    @classmethod
    def of(cls, result: EvaluationResult, framework: Framework, department: str) -> _Context:
        scores, ranks, peers = department_tables(result)
        idx = result.index_code
        mine = result.units.index[result.units["department"].astype(str) == department]
        index = result.normalised.index
        rows = index[index.isin(mine)] if unit_by_unit(result, framework) else index
        return cls(
            result=result,
            framework=framework,
            department=department,
            scores=scores,
            values=department_values(result, framework),
            peers=peers,
            mine=mine,
            rows=rows,
            peer_members=peers.index[peers == peers[department]],
            base=as_float(scores.at[department, idx]),
            rank=as_float(ranks.at[department, idx]),
            peer_rank=(
                as_float(result.peer_ranks.at[department, idx]) if result.peer_ranks is not None else np.nan
            ),
            eff=object_effective_weights(result).loc[mine].sum(min_count=1),
            ranked=result.ranked_overall("department"),
        )


def _target(col: pd.Series, value: float, step: str) -> float:
    """The value to reach: the median of `col` (`median`), or the smallest value above
    `value` (`next`; the value itself when none is above)."""
    if step == "median":
        return as_float(col.median())
    above = col[col > value]
    return as_float(above.min()) if len(above) else as_float(value)


def _gain(ctx: _Context, node: str, value: float, target: float) -> dict[str, float | str]:
    """One row of the table: the department's index after its objects' normalised values
    of `node` are all raised by the step to `target` (nothing when already there)."""
    result, department, idx = ctx.result, ctx.department, ctx.result.index_code
    delta = max(target - as_float(value), 0.0)
    if delta > 0:
        normalised = result.normalised.loc[ctx.rows].copy()
        normalised.loc[ctx.mine, node] = normalised.loc[ctx.mine, node] + delta
        _, dept = reaggregate(result, ctx.framework, normalised, changed=node)
        assert dept is not None
        # the departments re-aggregated (only this one when every aggregate is unit by
        # unit: the others' scores cannot move)
        new_index = ctx.scores[idx].copy()
        new_index.loc[dept.index] = dept[idx]
    else:
        new_index = ctx.scores[idx]
    new_score = as_float(new_index[department])
    # ranked as the engine ranks: only the departments the coverage rule lets into the
    # overall ranking (raising a value changes no department's coverage)
    new_index = new_index.where(ctx.ranked)
    return {
        "indicator": node,
        "value": as_float(value),
        "target": as_float(value) + delta,
        "step": delta,
        "gain": new_score - ctx.base,
        "first_order": as_float(ctx.eff[node]) * delta,
        "new_score": new_score,
        "new_rank": rank_of(new_index, department),
        "new_peer_rank": rank_of(new_index[ctx.peer_members], department),
        "score": ctx.base,
        "rank": ctx.rank,
        "peer_rank": ctx.peer_rank,
    }


# --- every department in one pass ------------------------------------------------------------
def priorities_all(
    result: EvaluationResult,
    step: Literal["median", "next"] = "median",
    *,
    framework: Framework,
    within: Literal["peers", "all"] | None = None,
) -> dict[str, pd.DataFrame]:
    """`priorities` of every department of the result: department → its table, the same
    numbers (tests/evaluation/test_priorities_all.py checks them equal on every column).

    When every aggregate scores each unit from its own children (`structure.unit_by_unit`),
    the departments' objects move independently: each indicator is re-aggregated once with
    every department's own step applied to its own objects, and each department reads its
    new score from that one table — one `reaggregate` per indicator instead of one per
    department and indicator. Targets, ranks and values in the indicator's unit are read
    from tables built once per indicator and comparison group. Otherwise (e.g. a Copeland
    aggregate, where one department's values move the others' scores) each department is
    computed on its own by `priorities`."""
    scores, _, _ = department_tables(result)
    chosen = _check(step, within)
    departments = [str(d) for d in scores.index]
    if not unit_by_unit(result, framework):
        return {d: priorities(result, d, step, framework=framework, within=within) for d in departments}
    shared = _Shared.of(result, framework)
    rows: dict[str, list[dict[str, float | str | bool]]] = {d: [] for d in departments}
    kinds = node_kinds(result)
    for node in node_order(result):
        if kinds[node] == "indicator":
            for department, row in _indicator_rows(shared, node, step, chosen).items():
                rows[department].append(row)
    return {d: _table(rows[d]) for d in departments}


def _table(rows: list[dict[str, float | str | bool]]) -> pd.DataFrame:
    """The priorities table of one department from its rows (largest gain first)."""
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["gain", "step"], ascending=False, kind="mergesort").reset_index(drop=True)


@dataclass
class _Shared:
    """What every department's priorities are measured against, built once per result."""

    result: EvaluationResult
    framework: Framework
    scores: pd.DataFrame  # departments × nodes
    values: pd.DataFrame  # departments × indicators, in the indicators' own units
    peers: pd.Series  # department → peer group
    base: dict[str, float]  # department → index score
    rank: dict[str, float]  # department → index rank
    peer_rank: dict[str, float]  # department → peer rank of the index
    eff: pd.DataFrame  # department × indicator: Σ ω(o, i) over its objects
    keys: np.ndarray  # the index scores as ranked (tie_key; NaN: not ranked overall), by position
    position: dict[str, int]  # department → its position in `scores`
    object_department: pd.Series  # the normalised table's objects → their department

    @classmethod
    def of(cls, result: EvaluationResult, framework: Framework) -> _Shared:
        scores, ranks, peers = department_tables(result)
        idx = result.index_code
        units = result.units["department"].astype(str)
        omega = object_effective_weights(result)
        eff = omega.groupby(units.reindex(omega.index).to_numpy(), sort=False).sum(min_count=1)
        peer_ranks = result.peer_ranks
        codes = [str(d) for d in scores.index]
        peer_rank = peer_ranks[idx].reindex(scores.index) if peer_ranks is not None else scores[idx] * np.nan
        return cls(
            result=result,
            framework=framework,
            scores=scores,
            values=department_values(result, framework),
            peers=peers,
            base=dict(zip(codes, scores[idx].to_numpy(dtype=float), strict=True)),
            rank=dict(zip(codes, ranks[idx].reindex(scores.index).to_numpy(dtype=float), strict=True)),
            peer_rank=dict(zip(codes, peer_rank.to_numpy(dtype=float), strict=True)),
            eff=eff,
            keys=tie_key(scores[idx].where(result.ranked_overall("department")).to_numpy(dtype=float)),
            position={d: i for i, d in enumerate(codes)},
            object_department=units.reindex(result.normalised.index),
        )


class _Lookup:
    """`structure.value_at(scores, values, target)` for many targets on one (scores,
    values) pair: the pairs are grouped once (the same arithmetic as `value_at`)."""

    def __init__(self, scores: pd.Series, values: pd.Series) -> None:
        score = scores.to_numpy(dtype=float)
        value = values.reindex(scores.index).to_numpy(dtype=float)
        keep = ~(np.isnan(score) | np.isnan(value))
        self.empty = not keep.any()
        if not self.empty:
            self.keys, where = np.unique(tie_key(score[keep]), return_inverse=True)
            self.means = np.bincount(where, weights=value[keep]) / np.bincount(where)

    def at(self, target: float) -> float:
        if self.empty or np.isnan(target):
            return float("nan")
        key = round(float(target), TIE_DECIMALS)
        hit = np.searchsorted(self.keys, key)
        if hit < len(self.keys) and self.keys[hit] == key:
            return float(self.means[hit])
        return float(np.interp(target, self.keys, self.means))


@dataclass
class _Pool:
    """The departments whose values count for one comparison group at one indicator."""

    scores: pd.Series
    fallback: bool
    median: float
    ordered: np.ndarray  # the pool's scores, sorted (for the `next` step)
    lookup: _Lookup


def _pools(shared: _Shared, node: str, within: str) -> dict[str, _Pool]:
    """Department → its pool at `node` (one pool per comparison group, shared)."""
    column = shared.scores[node]
    have = column.dropna()
    by_group: dict[str, _Pool] = {}
    out: dict[str, _Pool] = {}
    for department in map(str, have.index):
        group = str(shared.peers.get(department, NO_GROUP)) if within == "peers" else ""
        if group not in by_group:
            pool, fallback = (
                comparison_group(shared.peers, department, column) if within == "peers" else (have, False)
            )
            by_group[group] = _Pool(
                scores=pool,
                fallback=fallback,
                median=as_float(pool.median()),
                ordered=np.sort(pool.to_numpy(dtype=float)),
                lookup=_Lookup(pool, shared.values[node]),
            )
        out[department] = by_group[group]
    return out


def _pool_target(pool: _Pool, value: float, step: str) -> float:
    """`_target` on a pool built once: its median, or the smallest score above `value`."""
    if step == "median":
        return pool.median
    above = np.searchsorted(pool.ordered, value, side="right")
    return float(pool.ordered[above]) if above < len(pool.ordered) else value


def _indicator_rows(
    shared: _Shared, node: str, step: str, within: str
) -> dict[str, dict[str, float | str | bool]]:
    """Every department's row of `priorities` at `node`, from one re-aggregation."""
    result, idx = shared.result, shared.result.index_code
    pools = _pools(shared, node, within)
    column = shared.scores[node]
    values = dict(zip(map(str, column.index), column.to_numpy(dtype=float), strict=True))
    deltas = {d: max(_pool_target(pool, values[d], step) - values[d], 0.0) for d, pool in pools.items()}
    moved = {d: delta for d, delta in deltas.items() if delta > 0}
    new_scores = dict(shared.base)
    if moved:
        normalised = result.normalised.copy()
        shift = shared.object_department.map(moved).to_numpy(dtype=float)
        before = normalised[node].to_numpy(dtype=float)
        normalised[node] = np.where(np.isnan(shift), before, before + shift)
        _, dept = reaggregate(result, shared.framework, normalised, changed=node)
        assert dept is not None
        new_scores.update(zip(moved, dept[idx].reindex(list(moved)).to_numpy(dtype=float), strict=True))
    ranks = _new_ranks(shared, new_scores, list(pools))
    eff = shared.eff[node].to_dict() if node in shared.eff else {}
    raw = shared.values[node].to_dict()
    unit = shared.framework.nodes[node].unit
    out: dict[str, dict[str, float | str | bool]] = {}
    for (department, pool), (new_rank, new_peer_rank) in zip(pools.items(), ranks, strict=True):
        value, delta, base = values[department], deltas[department], shared.base[department]
        out[department] = {
            "indicator": node,
            "value": value,
            "target": value + delta,
            "step": delta,
            "gain": new_scores[department] - base,
            "first_order": float(eff.get(department, np.nan)) * delta,
            "new_score": new_scores[department],
            "new_rank": new_rank,
            "new_peer_rank": new_peer_rank,
            "score": base,
            "rank": shared.rank[department],
            "peer_rank": shared.peer_rank[department],
            "unit": unit,
            "raw_value": float(raw.get(department, np.nan)),
            "raw_target": pool.lookup.at(value + delta),
            "peer_fallback": pool.fallback,
        }
    return out


def _new_ranks(
    shared: _Shared, new_scores: dict[str, float], departments: list[str]
) -> list[tuple[float, float]]:
    """(overall rank, peer rank) of each department with its new score and every other
    department's score unchanged, as `rank_of` ranks: 1 + the number of the others' ranked
    scores above (counted in the sorted scores, its own old score taken out); NaN when it is
    not ranked overall."""
    at = np.array([shared.position[d] for d in departments], dtype=int)
    keys = shared.keys
    mine = tie_key(np.array([new_scores[d] for d in departments], dtype=float))
    own_above = keys[at] > mine  # its own old score, counted among the scores above
    overall = 1 + _count_above(keys, mine) - own_above
    peers = shared.peers.to_numpy()
    peer = np.empty(len(at))
    for group in set(peers[at]):
        here = peers[at] == group
        peer[here] = 1 + _count_above(keys[peers == group], mine[here]) - own_above[here]
    unranked = np.isnan(keys[at])
    overall = np.where(unranked, np.nan, overall)
    peer = np.where(unranked, np.nan, peer)
    return [(float(a), float(b)) for a, b in zip(overall, peer, strict=True)]


def _count_above(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each of `values`, how many of `keys` (NaN: not counted) are greater."""
    ordered = np.sort(keys[~np.isnan(keys)])
    return len(ordered) - np.searchsorted(ordered, values, side="right")
