"""Horizontal comparison of departments: rankings, gaps, strengths and weaknesses,
improvement priorities, head-to-head comparison and change between two evaluations.

This module holds rankings, gaps, strengths and weaknesses and head-to-head comparison,
and gathers the rest of the comparison API: improvement priorities
(`evaluation.priorities`), change between two evaluations (`evaluation.change`) and the
structure of a result they share (`evaluation.structure`: node kinds, effective weights,
re-aggregation).

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

from typing import Literal

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.change import Change, change
from evaluation.engine import EvaluationResult
from evaluation.priorities import priorities
from evaluation.rank import rank_desc
from evaluation.structure import (
    NO_GROUP,
    as_float,
    check_department,
    check_nodes,
    department_effective_weights,
    department_tables,
    node_kinds,
    node_order,
    object_effective_weights,
    reaggregate,
)

__all__ = [
    "Change",
    "change",
    "department_effective_weights",
    "gaps",
    "head_to_head",
    "node_kinds",
    "object_effective_weights",
    "priorities",
    "rankings",
    "reaggregate",
    "strengths_weaknesses",
]


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
        scores, ranks, peers = department_tables(result)
        peer_ranks = result.peer_ranks
    elif entity in ("unit", "object"):
        scores, ranks, peer_ranks = result.scores, result.ranks, None
        units = result.units
        peers = units["peer_group"].reindex(scores.index)
        peers = peers.where(peers.notna(), NO_GROUP).astype(str)
    else:
        raise EgovError(f"entity {entity!r}: use department, unit or object")
    order = node_order(result)
    if nodes is not None:
        check_nodes(result, nodes)
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
    position = {c: i for i, c in enumerate(node_order(result))}
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
    check_department(result, department)
    scores, ranks, peers = department_tables(result)
    group = peers[department]
    in_group = peers.index[peers == group]
    kinds = node_kinds(result)
    rows = []
    for node in node_order(result):
        s = as_float(scores.at[department, node])
        if np.isnan(s):
            continue
        col = scores[node].dropna()
        pcol = col[col.index.isin(in_group)]
        rows.append(
            {
                "node": node,
                "kind": kinds[node],
                "level": result.levels[node],
                "score": as_float(s),
                "rank": as_float(ranks.at[department, node]),
                "n": len(col),
                "best": as_float(col.max()),
                "median": as_float(col.median()),
                "gap_best": as_float(col.max() - s),
                "gap_median": as_float(col.median() - s),
                "peer_group": group,
                "peer_n": len(pcol),
                "peer_best": as_float(pcol.max()),
                "peer_median": as_float(pcol.median()),
                "peer_gap_best": as_float(pcol.max() - s),
                "peer_gap_median": as_float(pcol.median() - s),
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
    check_department(result, department)
    scores, _, peers = department_tables(result)
    if within == "peers":
        scores = scores[peers == peers[department]]
    elif within != "all":
        raise EgovError(f"within {within!r}: use all or peers")
    kinds = node_kinds(result)
    rows = []
    for node in node_order(result):
        if kinds[node] != "indicator":
            continue
        col = scores[node].dropna()
        if department not in col.index or len(col) < 2:
            continue
        v = as_float(col[department])
        others = col.drop(department)
        pct = (as_float((others < v).sum()) + 0.5 * as_float((others == v).sum())) / len(others)
        rows.append(
            {
                "indicator": node,
                "value": v,
                "median": as_float(col.median()),
                "vs_median": v - as_float(col.median()),
                "percentile": pct,
                "rank": as_float(rank_desc(col)[department]),
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
        check_department(result, d)
    scores, ranks, _ = department_tables(result)
    order = node_order(result)
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
