"""Horizontal comparison of departments: rankings, gaps, strengths and weaknesses,
improvement priorities, head-to-head comparison and change between two evaluations.

This module holds rankings, gaps, strengths and weaknesses and head-to-head comparison,
and gathers the rest of the comparison API: improvement priorities
(`evaluation.priorities`), change between two evaluations (`evaluation.change`), periods
on one common scale (`evaluation.trend`) and the structure of a result they share
(`evaluation.structure`: node kinds, effective weights, re-aggregation).

Pure functions on `EvaluationResult` (and, where scores are recomputed, the `Framework`
that made it): DataFrames in, DataFrames out; no database, file or HTTP access.

**A department's score on an indicator.** When objects are rolled up to departments
("score, then aggregate", DESIGN.md), a department's score on an indicator is its
*rolled-up normalised indicator score* — `result.department_scores[indicator]`: the
roll-up (mean by default) of its objects' normalised, direction-adjusted values. It is on
the same scale for every department (higher is better), it is what the department's
dimension, category and index scores are built from, and it exists only for the indicators
that apply to at least one of its objects with a value. Comparisons are made on scores;
the value in the indicator's own unit is shown beside it (`indicator_standing`,
`structure.department_values`, `structure.value_at`; docs/methods.md, "Comparison").

Ranks come from the engine (`evaluation.rank.rank_desc`: 1 is best, ties take the lowest
rank number, missing scores are not ranked). See docs/methods.md, "Comparison".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.change import Change, change
from evaluation.engine import EvaluationResult
from evaluation.priorities import priorities
from evaluation.rank import TIE_DECIMALS, rank_of, tie_key
from evaluation.structure import (
    MIN_PEERS,
    NO_GROUP,
    as_float,
    check_department,
    check_nodes,
    comparison_group,
    department_effective_weights,
    department_tables,
    department_values,
    node_kinds,
    node_order,
    object_effective_weights,
    reaggregate,
    value_at,
)
from evaluation.trend import CommonScale, common_scale, comparable_change, same_method
from indicators.framework import Framework

__all__ = [
    "MIN_PEERS",
    "NO_GROUP",
    "Change",
    "CommonScale",
    "change",
    "common_scale",
    "comparable_change",
    "comparison_group",
    "department_effective_weights",
    "gaps",
    "head_to_head",
    "indicator_standing",
    "node_kinds",
    "object_effective_weights",
    "priorities",
    "rankings",
    "reaggregate",
    "same_method",
    "standing_all",
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
    departments only), categories_scored and categories_total (the entity's coverage: scored
    on fewer categories than the framework's `min_categories`, it has no overall rank). `level` keeps one level (COINr numbering: indicators 1, the index
    highest); `nodes` keeps those nodes. Rows are ordered by level (highest first), node in
    framework order, then rank. Ties take the lowest rank number; entities without a score
    at a node are left out of that node's ranking.
    """
    if entity == "department":
        scores, ranks, peers = department_tables(result)
        peer_ranks = result.peer_ranks
        covered = result.categories_scored("department")
    elif entity in ("unit", "object"):
        covered = result.categories_scored("unit")
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
                "categories_scored": covered.reindex(scores.index).to_numpy(dtype=int),
                "categories_total": len(result.categories),
            }
        )
        frames.append(part.dropna(subset=["score"]))
    columns = [
        "entity",
        "node",
        "level",
        "score",
        "rank",
        "peer_group",
        "peer_rank",
        "categories_scored",
        "categories_total",
    ]
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
    value, see the module docstring; `indicator_standing` gives indicators in their own
    units): score, rank, best, best_department (whom to learn from), median, n (departments
    with a score at that node), `gap_best` = best − score (≥ 0), `gap_median` = median −
    score (positive: below the median, negative: above it); and the same within its
    comparison group (peer_best, peer_best_department, peer_median, peer_n, peer_gap_best,
    peer_gap_median): its peer group, or all departments when fewer than `MIN_PEERS` of it
    have a score at the node (`peer_fallback` True, `peer_group` then empty). Medians are
    taken over the departments with a score, the department itself included.
    """
    check_department(result, department)
    scores, ranks, peers = department_tables(result)
    kinds = node_kinds(result)
    rows = []
    for node in node_order(result):
        s = as_float(scores.at[department, node])
        if np.isnan(s):
            continue
        col = scores[node].dropna()
        pcol, fallback = comparison_group(peers, department, col)
        rows.append(
            {
                "node": node,
                "kind": kinds[node],
                "level": result.levels[node],
                "score": as_float(s),
                "rank": as_float(ranks.at[department, node]),
                "n": len(col),
                "best": as_float(col.max()),
                "best_department": _best_of(col),
                "median": as_float(col.median()),
                "gap_best": as_float(col.max() - s),
                "gap_median": as_float(col.median() - s),
                "peer_group": "" if fallback else str(peers[department]),
                "peer_fallback": fallback,
                "peer_n": len(pcol),
                "peer_best": as_float(pcol.max()),
                "peer_best_department": _best_of(pcol),
                "peer_median": as_float(pcol.median()),
                "peer_gap_best": as_float(pcol.max() - s),
                "peer_gap_median": as_float(pcol.median() - s),
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("level", ascending=False, kind="mergesort").reset_index(drop=True)


def _best_of(col: pd.Series) -> str:
    """The department(s) with the best score of `col` ("A, B" when tied)."""
    if col.empty:
        return ""
    top = tie_key(col) == round(as_float(col.max()), TIE_DECIMALS)
    return ", ".join(map(str, col.index[top]))


# --- every department's standing in one pass (the department reports of a run) -------------
# `indicator_standing` for all departments at once: the figures of the field and of each
# comparison group once per indicator and group instead of once per department, each
# department then adding its own score, value, ranks and percentiles; the numbers are
# `indicator_standing`'s (tests/reports/test_standing_all.py compares every column of every
# department, bit for bit).
@dataclass
class _Standing:
    """The figures of one set of departments at one indicator (all, or a comparison group)."""

    scores: pd.Series  # department → score, NaN dropped
    ranks: dict[str, float]  # department → `rank_of(scores, department)`
    percentiles: dict[str, float]  # department → (number below + half the ties) / others
    median: float
    median_value: float
    best: float
    best_value: float
    best_department: str

    @classmethod
    def of(cls, scores: pd.Series, raw: pd.Series) -> _Standing:
        median, best = as_float(scores.median()), as_float(scores.max())
        keys = tie_key(scores.to_numpy(dtype=float))
        ordered = np.sort(keys)
        below = np.searchsorted(ordered, keys, side="left")  # its own score is not below itself
        not_above = np.searchsorted(ordered, keys, side="right")
        ties = not_above - below - 1  # the others with its score
        others = len(keys) - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            percentile = (below + 0.5 * ties) / others if others else np.full(len(keys), np.nan)
        codes = [str(d) for d in scores.index]
        return cls(
            scores=scores,
            ranks=dict(zip(codes, (1 + len(keys) - not_above).astype(float), strict=True)),
            percentiles=dict(zip(codes, percentile.astype(float), strict=True)),
            median=median,
            median_value=value_at(scores, raw, median),
            best=best,
            best_value=value_at(scores, raw, best),
            best_department=_best_of(scores),
        )


def standing_all(result: EvaluationResult, framework: Framework) -> dict[str, pd.DataFrame]:
    """Department → its `indicator_standing` table (columns `STANDING_COLUMNS`)."""
    scores, _, peers = department_tables(result)
    values = department_values(result, framework)
    kinds = node_kinds(result)
    rows: dict[str, list[dict[str, object]]] = {str(d): [] for d in scores.index}
    peer_of = peers.to_dict()
    for node in node_order(result):
        if kinds[node] != "indicator":
            continue
        col = scores[node].dropna()
        raw = values[node]
        everyone = _Standing.of(col, raw)
        # plain dicts: a pandas look-up per department and indicator cost seconds at 2,000
        own = dict(zip(map(str, col.index), col.to_numpy(dtype=float), strict=True))
        raw_of = raw.to_dict()
        groups: dict[str, tuple[_Standing, bool]] = {}
        for department in map(str, col.index):
            group_code = str(peer_of.get(department, NO_GROUP))
            if group_code not in groups:
                pool, fallback = comparison_group(peers, department, col)
                # a pool as large as the column is the column (a pool is a subset, in order)
                groups[group_code] = (
                    everyone if len(pool) == len(col) else _Standing.of(pool, raw),
                    fallback,
                )
            group, fallback = groups[group_code]
            s = own[department]
            rows[department].append(
                {
                    "indicator": node,
                    "unit": framework.nodes[node].unit,
                    "score": s,
                    "value": float(raw_of.get(department, np.nan)),
                    "rank": everyone.ranks[department],
                    "n": len(col),
                    "median": everyone.median,
                    "median_value": everyone.median_value,
                    "best": everyone.best,
                    "best_value": everyone.best_value,
                    "best_department": everyone.best_department,
                    "peer_group": "" if fallback else group_code,
                    "peer_fallback": fallback,
                    "peer_n": len(group.scores),
                    "peer_rank": group.ranks[department],
                    "peer_median": group.median,
                    "peer_median_value": group.median_value,
                    "peer_best": group.best,
                    "peer_best_value": group.best_value,
                    "peer_best_department": group.best_department,
                    "percentile": everyone.percentiles[department],
                    "vs_median": round(s - everyone.median, TIE_DECIMALS),
                    "peer_percentile": group.percentiles[department],
                    "peer_vs_median": round(s - group.median, TIE_DECIMALS),
                }
            )
    return {d: pd.DataFrame(r, columns=STANDING_COLUMNS) for d, r in rows.items()}


def _percentile(col: pd.Series, department: str) -> float:
    """(number the department scores above + half the number it ties with) / others."""
    values = tie_key(col.to_numpy(dtype=float))
    at = col.index.get_loc(department)
    others = np.delete(values, at)
    if not len(others):
        return float("nan")
    v = values[at]
    return (np.count_nonzero(others < v) + 0.5 * np.count_nonzero(others == v)) / len(others)


def indicator_standing(
    result: EvaluationResult, department: str, *, framework: Framework | None = None
) -> pd.DataFrame:
    """Where the department stands on every indicator it has a score for, in scores (0–100,
    higher is better) and in the indicator's own unit, against all departments and its
    comparison group, with whom to learn from.

    The value is the department's rolled-up value in the indicator's unit
    (`structure.department_values`; NaN without `framework`); the target values (median,
    best) are `structure.value_at` the target score: the value of the department at that
    position (the two middle ones interpolated for an even median). The comparison group is
    the peer group, or all departments when the department has none or fewer than
    `MIN_PEERS` of its peer group have a value (`peer_fallback` True: say so).

    Columns: indicator, unit, score, value, rank, n, median, median_value, best,
    best_value, best_department (learn from), peer_group, peer_fallback, peer_n, peer_rank,
    peer_median, peer_median_value, peer_best, peer_best_value, peer_best_department,
    percentile and vs_median (among all departments), peer_percentile, peer_vs_median.
    """
    check_department(result, department)
    scores, _, peers = department_tables(result)
    kinds = node_kinds(result)
    values = department_values(result, framework) if framework is not None else None
    rows = []
    for node in node_order(result):
        if kinds[node] != "indicator":
            continue
        col = scores[node].dropna()
        if department not in col.index:
            continue
        raw = values[node] if values is not None else pd.Series(np.nan, index=scores.index)
        group, fallback = comparison_group(peers, department, col)
        s = as_float(col[department])
        rows.append(
            {
                "indicator": node,
                "unit": framework.nodes[node].unit if framework is not None else "",
                "score": s,
                "value": as_float(raw.get(department, np.nan)),
                "rank": rank_of(col, department),
                "n": len(col),
                "median": as_float(col.median()),
                "median_value": value_at(col, raw, as_float(col.median())),
                "best": as_float(col.max()),
                "best_value": value_at(col, raw, as_float(col.max())),
                "best_department": _best_of(col),
                "peer_group": "" if fallback else str(peers[department]),
                "peer_fallback": fallback,
                "peer_n": len(group),
                "peer_rank": rank_of(group, department),
                "peer_median": as_float(group.median()),
                "peer_median_value": value_at(group, raw, as_float(group.median())),
                "peer_best": as_float(group.max()),
                "peer_best_value": value_at(group, raw, as_float(group.max())),
                "peer_best_department": _best_of(group),
                "percentile": _percentile(col, department),
                "vs_median": round(s - as_float(col.median()), TIE_DECIMALS),
                "peer_percentile": _percentile(group, department),
                "peer_vs_median": round(s - as_float(group.median()), TIE_DECIMALS),
            }
        )
    return pd.DataFrame(rows, columns=STANDING_COLUMNS)


STANDING_COLUMNS = [
    "indicator", "unit", "score", "value", "rank", "n", "median", "median_value", "best",
    "best_value", "best_department", "peer_group", "peer_fallback", "peer_n", "peer_rank",
    "peer_median", "peer_median_value", "peer_best", "peer_best_value", "peer_best_department",
    "percentile", "vs_median", "peer_percentile", "peer_vs_median",
]  # fmt: skip


def strengths_weaknesses(
    result: EvaluationResult,
    department: str,
    n: int = 5,
    within: Literal["all", "peers"] = "peers",
    *,
    framework: Framework | None = None,
    standing: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The n indicators where the department does best and the n where it does worst
    relative to its comparison group (`within="peers"`, the default: its peer group, or all
    departments when that is too small, see `indicator_standing`) or to all departments.

    **The rule, one definition**: a strength is an indicator where the department scores
    above the group's median, a weakness one where it scores below it (scores compared to 9
    decimals); an indicator at the median is neither, so none is ever both. Within each
    side the order is the department's **percentile** in the group — (number it scores
    above + half the number it ties with) / (number of others), 0 = the worst, 1 = the best
    — then `vs_median` (score minus the median). Why the percentile: it is scale-free, so
    indicators normalised by different methods or with an outlier that squeezes everyone
    into a narrow band are compared fairly. Indicators with fewer than two departments in
    the group are left out.

    Columns: side ("strength" or "weakness"), indicator, score, value (own unit; NaN
    without `framework`), unit, median (score), median_value, vs_median, percentile, rank,
    n, best_department, best_value, peer_fallback — all within the group chosen.
    `standing`: the department's `indicator_standing` table when the caller has it already.
    """
    if within not in ("all", "peers"):
        raise EgovError(f"within {within!r}: use all or peers")
    table = indicator_standing(result, department, framework=framework) if standing is None else standing
    if within == "peers":
        table = table.assign(
            n=table["peer_n"],
            rank=table["peer_rank"],
            median=table["peer_median"],
            median_value=table["peer_median_value"],
            best_value=table["peer_best_value"],
            best_department=table["peer_best_department"],
            percentile=table["peer_percentile"],
            vs_median=table["peer_vs_median"],
        )
    else:
        table = table.assign(peer_fallback=False)
    table = table[table["n"] >= 2]
    columns = [
        "indicator", "score", "value", "unit", "median", "median_value", "vs_median", "percentile",
        "rank", "n", "best_department", "best_value", "peer_fallback",
    ]  # fmt: skip
    table = table[columns]
    keys = ["percentile", "vs_median"]
    best = table[table["vs_median"] > 0].sort_values(keys, ascending=False, kind="mergesort").head(n)
    worst = table[table["vs_median"] < 0].sort_values(keys, ascending=True, kind="mergesort").head(n)
    best.insert(0, "side", "strength")
    worst.insert(0, "side", "weakness")
    return pd.concat([best, worst], ignore_index=True)


def head_to_head(
    result: EvaluationResult, a: str, b: str, *, framework: Framework | None = None
) -> pd.DataFrame:
    """Two departments side by side at every node: score_a, score_b, difference (a − b),
    rank_a, rank_b, kind, level; nodes in framework order, highest level first. With the
    `framework`, also value_a and value_b: the indicators' values in their own units
    (`structure.department_values`; NaN for aggregates) and unit."""
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
    if framework is not None:
        values = department_values(result, framework).reindex(columns=order)
        out["value_a"] = values.loc[a].to_numpy(dtype=float)
        out["value_b"] = values.loc[b].to_numpy(dtype=float)
        out["unit"] = [framework.nodes[c].unit if c in framework.nodes else "" for c in order]
    return out.sort_values("level", ascending=False, kind="mergesort").reset_index(drop=True)
