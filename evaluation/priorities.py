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
from evaluation.rank import rank_of
from evaluation.structure import (
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

__all__ = ["priorities"]


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
    if step not in ("median", "next"):
        raise EgovError(f"step {step!r}: use median or next")
    within = within or ("peers" if step == "median" else "all")
    if within not in ("peers", "all"):
        raise EgovError(f"within {within!r}: use peers or all")
    ctx = _Context.of(result, framework, department)
    kinds = node_kinds(result)
    rows = []
    for node in node_order(result):
        if kinds[node] != "indicator":
            continue
        value = as_float(ctx.scores.at[department, node])
        if np.isnan(value):
            continue
        if within == "peers":
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
