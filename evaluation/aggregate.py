"""Aggregators: combine the scores of a node's children into the node's score.

One signature for the family: `f(values, weights) -> Series`, where `values` is a
units × children DataFrame and `weights` a Series indexed by the children. Missing values
are skipped and the weights of the present children renormalised (COINr's default
behaviour for `a_amean`, and the OECD/JRC Handbook's "available case" rule).
A unit with no present child gets a missing score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.methods import Method


def _present_weights(values: pd.DataFrame, weights: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    v = values.to_numpy(dtype=float)
    w = np.broadcast_to(weights.reindex(values.columns).to_numpy(dtype=float), v.shape)
    w = np.where(np.isnan(v), 0.0, w)
    return v, w


def arithmetic(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Weighted arithmetic mean, missing values skipped, weights renormalised.

    # OECD/JRC Handbook (2008) §6, linear aggregation: sum(w_i x_i) / sum(w_i);
    # COINr a_amean.
    """
    v, w = _present_weights(values, weights)
    total = w.sum(axis=1)
    num = np.nansum(v * w, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, num / np.where(total > 0, total, 1.0), np.nan)
    return pd.Series(out, index=values.index, dtype=float)


def geometric(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Weighted geometric mean: exp(sum(w_i ln x_i) / sum(w_i)); needs values > 0.

    # OECD/JRC Handbook (2008) §6, geometric aggregation; COINr a_gmean.
    """
    v, w = _present_weights(values, weights)
    if np.any(v[~np.isnan(v)] <= 0):
        bad = [c for c in values.columns if (values[c].dropna() <= 0).any()]
        raise EgovError(
            "geometric mean needs values > 0; normalise to a strictly positive scale "
            f"(e.g. minmax with lower = 1); values <= 0 in: {', '.join(map(str, bad))}"
        )
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.where(np.isnan(v), 0.0, np.log(np.where(np.isnan(v), 1.0, v)))
        out = np.where(total > 0, np.exp((logs * w).sum(axis=1) / np.where(total > 0, total, 1.0)), np.nan)
    return pd.Series(out, index=values.index, dtype=float)


def harmonic(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Weighted harmonic mean: sum(w_i) / sum(w_i / x_i); needs values > 0.

    # COINr a_hmean.
    """
    v, w = _present_weights(values, weights)
    if np.any(v[~np.isnan(v)] <= 0):
        bad = [c for c in values.columns if (values[c].dropna() <= 0).any()]
        raise EgovError(f"harmonic mean needs values > 0; values <= 0 in: {', '.join(map(str, bad))}")
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(np.isnan(v), 0.0, w / np.where(np.isnan(v), 1.0, v))
        out = np.where(total > 0, total / inv.sum(axis=1), np.nan)
    return pd.Series(out, index=values.index, dtype=float)


AGGREGATORS: dict[str, Method] = {
    "arithmetic": Method(
        "arithmetic",
        arithmetic,
        doc="Weighted arithmetic mean; missing skipped, weights renormalised.",
        source="OECD/JRC Handbook (2008) §6; COINr a_amean",
    ),
    "geometric": Method(
        "geometric",
        geometric,
        doc="Weighted geometric mean; values must be > 0.",
        source="OECD/JRC Handbook (2008) §6; COINr a_gmean",
    ),
    "harmonic": Method(
        "harmonic",
        harmonic,
        doc="Weighted harmonic mean; values must be > 0.",
        source="COINr a_hmean",
    ),
}


def _rollup_mean(scores: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    return scores.groupby(groups, sort=True).mean()


def _rollup_min(scores: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    return scores.groupby(groups, sort=True).min()


def _rollup_max(scores: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    return scores.groupby(groups, sort=True).max()


def _rollup_median(scores: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    return scores.groupby(groups, sort=True).median()


# Object → department roll-up: `f(scores, groups) -> DataFrame` (one row per department).
ROLLUPS: dict[str, Method] = {
    "mean": Method("mean", _rollup_mean, doc="Mean of the department's object scores (missing skipped)."),
    "min": Method(
        "min", _rollup_min, doc="The department's weakest object (a chain is as strong as its weakest link)."
    ),
    "max": Method("max", _rollup_max, doc="The department's best object."),
    "median": Method("median", _rollup_median, doc="Median of the department's object scores."),
}
