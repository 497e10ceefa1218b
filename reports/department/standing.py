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
    keys: np.ndarray  # the scores as ranked (tie_key)
    median: float
    median_value: float
    best: float
    best_value: float
    best_department: str

    @classmethod
    def of(cls, scores: pd.Series, raw: pd.Series) -> _Field:
        median, best = as_float(scores.median()), as_float(scores.max())
        return cls(
            scores=scores,
            keys=tie_key(scores.to_numpy(dtype=float)),
            median=median,
            median_value=value_at(scores, raw, median),
            best=best,
            best_value=value_at(scores, raw, best),
            best_department=_best_of(scores),
        )

    def rank(self, department: str) -> float:
        """`rank_of(scores, department)`: 1 + the number of scores above its own."""
        mine = self.keys[self.scores.index.get_loc(department)]
        return float("nan") if np.isnan(mine) else float(1 + np.count_nonzero(self.keys > mine))

    def percentile(self, department: str) -> float:
        """(number it scores above + half the number it ties with) / others."""
        at = self.scores.index.get_loc(department)
        others = np.delete(self.keys, at)
        if not len(others):
            return float("nan")
        v = self.keys[at]
        return (np.count_nonzero(others < v) + 0.5 * np.count_nonzero(others == v)) / len(others)


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
    for node in node_order(result):
        if kinds[node] != "indicator":
            continue
        col = scores[node].dropna()
        raw = values[node]
        everyone = _Field.of(col, raw)
        groups: dict[str, tuple[_Field, bool]] = {}
        for department in map(str, col.index):
            group_code = str(peers.get(department, NO_GROUP))
            if group_code not in groups:
                pool, fallback = comparison_group(peers, department, col)
                # a pool as large as the column is the column (a pool is a subset, in order)
                groups[group_code] = (everyone if len(pool) == len(col) else _Field.of(pool, raw), fallback)
            group, fallback = groups[group_code]
            s = as_float(col[department])
            rows[department].append(
                {
                    "indicator": node,
                    "unit": framework.nodes[node].unit,
                    "score": s,
                    "value": as_float(raw.get(department, np.nan)),
                    "rank": everyone.rank(department),
                    "n": len(col),
                    "median": everyone.median,
                    "median_value": everyone.median_value,
                    "best": everyone.best,
                    "best_value": everyone.best_value,
                    "best_department": everyone.best_department,
                    "peer_group": "" if fallback else str(peers[department]),
                    "peer_fallback": fallback,
                    "peer_n": len(group.scores),
                    "peer_rank": group.rank(department),
                    "peer_median": group.median,
                    "peer_median_value": group.median_value,
                    "peer_best": group.best,
                    "peer_best_value": group.best_value,
                    "peer_best_department": group.best_department,
                    "percentile": everyone.percentile(department),
                    "vs_median": round(s - everyone.median, TIE_DECIMALS),
                    "peer_percentile": group.percentile(department),
                    "peer_vs_median": round(s - group.median, TIE_DECIMALS),
                }
            )
    return {d: pd.DataFrame(r, columns=STANDING_COLUMNS) for d, r in rows.items()}
