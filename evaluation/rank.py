"""Ranking: 1 is the best (highest score); ties take the lowest rank number (COINr, the
reference data's convention: "min" ranking); missing scores are not ranked.

Ties have one definition for the whole project: two scores are tied when they are equal
once rounded to `TIE_DECIMALS` decimal places (`tie_key`). The engine's ranks
(`rank_desc`) and the Monte Carlo's (`evaluation.vectorised.rank_rows`, and so the rank
intervals, P(A above B) and tiers of `evaluation.uncertainty`) use it, so a difference
left by summing the same numbers in another order (about 1e-13 on a 0-100 scale) is never
a difference in rank. See docs/methods.md, "Ranks and ties"."""

from __future__ import annotations

from typing import TypeVar, overload

import numpy as np
import pandas as pd

__all__ = ["TIE_DECIMALS", "rank_columns", "rank_desc", "rank_exact", "rank_of", "tie_key"]

TIE_DECIMALS = 9  # scores equal to 9 decimal places are tied

# one column of scores, or a table of them ranked column by column in one call
Scores = TypeVar("Scores", pd.Series, pd.DataFrame)


@overload
def tie_key(scores: pd.Series) -> pd.Series: ...
@overload
def tie_key(scores: pd.DataFrame) -> pd.DataFrame: ...
@overload
def tie_key(scores: np.ndarray) -> np.ndarray: ...
def tie_key(scores: pd.Series | pd.DataFrame | np.ndarray) -> pd.Series | pd.DataFrame | np.ndarray:
    """The scores as ranking compares them: rounded to TIE_DECIMALS decimal places."""
    if isinstance(scores, pd.Series | pd.DataFrame):
        return scores.round(TIE_DECIMALS)
    return np.round(scores, TIE_DECIMALS)


def rank_desc(scores: Scores) -> Scores:
    """Competition ranking ("1224"), highest score first, scores equal to TIE_DECIMALS
    decimals tied; NaN stays NaN. A table is ranked column by column (`rank_columns`)."""
    if isinstance(scores, pd.DataFrame):
        ranks = rank_columns(scores.to_numpy(dtype=float))
        return pd.DataFrame(ranks, index=scores.index, columns=scores.columns)
    return tie_key(scores.astype(float)).rank(ascending=False, method="min", na_option="keep")


def rank_columns(scores: np.ndarray) -> np.ndarray:
    """`rank_desc` of every column of a units × nodes array: 1 + the number of scores above
    (ties by `tie_key`), NaN where the score is missing. One sort for the whole table."""
    key = -tie_key(scores)
    n = key.shape[0]
    order = np.argsort(key, axis=0, kind="stable")  # NaN last
    ordered = np.take_along_axis(key, order, axis=0)
    rows = np.arange(n)[:, None]
    new_value = np.ones(ordered.shape, dtype=bool)
    new_value[1:] = ordered[1:] != ordered[:-1]
    first = np.maximum.accumulate(np.where(new_value, rows, 0), axis=0)  # where each run of ties starts
    ranks = np.empty(key.shape)
    np.put_along_axis(ranks, order, first + 1.0, axis=0)
    ranks[np.isnan(key)] = np.nan
    return ranks


def rank_of(scores: pd.Series, unit: object) -> float:
    """`rank_desc(scores)[unit]` without ranking every unit: 1 + the number of scores above
    the unit's (ties by `tie_key`); NaN when its score is missing."""
    values = tie_key(scores.to_numpy(dtype=float))
    mine = values[scores.index.get_loc(unit)]
    if np.isnan(mine):
        return float("nan")
    return float(1 + np.count_nonzero(values > mine))


def rank_exact(scores: Scores) -> Scores:
    """`rank_desc` without the tie tolerance (exactly equal scores only): the rule of runs
    stored before it, kept only to verify their results hashes (`egov.record`)."""
    return scores.rank(ascending=False, method="min", na_option="keep")
