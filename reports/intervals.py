"""The Monte Carlo intervals of a stored run's department ranking, one definition for the
assessor's report, the department reports and the web ranking page, so that all three
show the same intervals: `evaluation.uncertainty.monte_carlo` with MC_N replications and
seed MC_SEED (the defaults of `egov report --mc --seed`) on the run's stored inputs.

A department that is not ranked overall (the coverage rule, `[index] min_categories`) has
neither a rank nor an interval: its interval columns are empty, as its rank is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from egov.record import RunInputs
from evaluation.engine import EvaluationResult
from evaluation.uncertainty import monte_carlo

MC_N = 200
MC_SEED = 1
INTERVAL_COLUMNS = ("score_p05", "score_p95", "rank_p05", "rank_p95")


def ranking_intervals(
    inputs: RunInputs, result: EvaluationResult, *, n: int = MC_N, seed: int = MC_SEED
) -> pd.DataFrame:
    """Per department (or per unit when the run has no departments): the Monte Carlo
    summary (median_rank, rank_p05, rank_p95, score_p05, score_p95, tier …; index = code),
    with no interval for a department not ranked overall. Raises EgovError when the
    simulation cannot run (its message says why)."""
    by_department = result.department_scores is not None
    mc = monte_carlo(
        inputs.data,
        inputs.framework,
        inputs.spec,
        inputs.units,
        n=n,
        seed=seed,
        sensitivity_n=0,
        history=inputs.history,
        level="department" if by_department else "unit",
    )
    summary = mc.summary.copy()
    summary.index = summary.index.astype(str)
    if by_department:
        ranked = result.ranked_overall("department").rename(index=str).reindex(summary.index)
        unranked = ~ranked.fillna(False).astype(bool)
        for column in INTERVAL_COLUMNS:
            if column in summary.columns:
                summary.loc[unranked, column] = np.nan
    return summary
