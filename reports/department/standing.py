"""Every department's indicator standing in one pass: the table
`evaluation.compare.indicator_standing(result, department, framework=…)` gives for one
department, for all departments of a result at once, so that the department reports of a
run share the work (`ReportCache.standing`).

The figures of the field (all departments: n, median, best and their values in the
indicator's unit, whom to learn from) and of each comparison group (peer group, or all
departments when fewer than `MIN_PEERS` of it have a value) are computed once per
indicator and group instead of once per department; each department then adds its own
score, value, ranks and percentiles. The numbers are those of `indicator_standing`
(tests/reports/test_standing_all.py compares every column of every department, bit for
bit); the definitions are there and in docs/methods.md, "Comparison".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.compare import STANDING_COLUMNS
from evaluation.engine import EvaluationResult
from evaluation.rank import TIE_DECIMALS, tie_key
from evaluation.structure import (
    NO_GROUP,
    as_float,
    comparison_group,
    department_tables,
    department_values,
    node_kinds,
    node_order,
    value_at,
)
from indicators.framework import Framework

__all__ = ["standing_all"]


@dataclass
class _Field:
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
    def of(cls, scores: pd.Series, raw: pd.Series) -> _Field:
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


def _best_of(col: pd.Series) -> str:
    """The department(s) with the best score of `col` ("A, B" when tied)."""
    if col.empty:
        return ""
    top = tie_key(col) == round(as_float(col.max()), TIE_DECIMALS)
    return ", ".join(map(str, col.index[top]))


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
        everyone = _Field.of(col, raw)
        # plain dicts: a pandas look-up per department and indicator cost seconds at 2,000
        own = dict(zip(map(str, col.index), col.to_numpy(dtype=float), strict=True))
        raw_of = raw.to_dict()
        groups: dict[str, tuple[_Field, bool]] = {}
        for department in map(str, col.index):
            group_code = str(peer_of.get(department, NO_GROUP))
            if group_code not in groups:
                pool, fallback = comparison_group(peers, department, col)
                # a pool as large as the column is the column (a pool is a subset, in order)
                groups[group_code] = (everyone if len(pool) == len(col) else _Field.of(pool, raw), fallback)
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
