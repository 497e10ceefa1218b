"""Aggregators: combine the scores of a node's children into the node's score.

One signature for the family: `f(values, weights, **params) -> Series`, where `values` is
a units × children DataFrame and `weights` a Series indexed by the children. Missing
values are skipped and the weights of the present children renormalised (COINr's default
for `a_amean`, and the OECD/JRC Handbook's "available case" rule). A unit with no present
child gets a missing score.

Roll-ups (object → department) have the signature `f(scores, groups, volume) -> DataFrame`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.methods import Method, Param, apply


def _present_weights(values: pd.DataFrame, weights: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    v = values.to_numpy(dtype=float)
    if not weights.index.equals(values.columns):
        weights = weights.reindex(values.columns)
    w = np.broadcast_to(weights.to_numpy(dtype=float), v.shape)
    w = np.where(np.isnan(v), 0.0, w)
    return v, w


def _finish(num: np.ndarray, total: np.ndarray, index: pd.Index) -> pd.Series:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total != 0, num / np.where(total != 0, total, 1.0), np.nan)
    return pd.Series(out, index=index, dtype=float)


def _need_positive(values: pd.DataFrame, what: str) -> None:
    v = values.to_numpy(dtype=float)
    if np.any(v[~np.isnan(v)] <= 0):
        bad = [str(c) for c in values.columns if (values[c].dropna() <= 0).any()]
        raise EgovError(
            f"{what} needs values > 0; normalise to a strictly positive scale "
            f"(e.g. minmax with lower = 1); values <= 0 in: {', '.join(bad)}"
        )


def arithmetic(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Weighted arithmetic mean, missing values skipped, weights renormalised.

    # OECD/JRC Handbook (2008) §6, linear aggregation: sum(w_i x_i) / sum(w_i); COINr a_amean.
    """
    v, w = _present_weights(values, weights)
    return _finish(np.nansum(v * w, axis=1), w.sum(axis=1), values.index)


def geometric(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Weighted geometric mean: exp(sum(w_i ln x_i) / sum(w_i)); needs values > 0.

    # OECD/JRC Handbook (2008) §6, geometric aggregation; COINr a_gmean.
    """
    _need_positive(values, "the geometric mean")
    v, w = _present_weights(values, weights)
    logs = np.log(np.where(np.isnan(v), 1.0, v))
    mean_log = _finish((logs * w).sum(axis=1), w.sum(axis=1), values.index)
    return pd.Series(np.exp(mean_log.to_numpy()), index=values.index, dtype=float)


def harmonic(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Weighted harmonic mean: sum(w_i) / sum(w_i / x_i); needs values > 0.

    # COINr a_hmean.
    """
    _need_positive(values, "the harmonic mean")
    v, w = _present_weights(values, weights)
    inv = np.where(np.isnan(v), 0.0, w / np.where(np.isnan(v), 1.0, v))
    return _finish(w.sum(axis=1), inv.sum(axis=1), values.index)


def generalised(values: pd.DataFrame, weights: pd.Series, p: float = 1.0) -> pd.Series:
    """Weighted generalised (power) mean: (sum(w_i x_i^p) / sum(w_i))^(1/p); p = 0 is the
    geometric mean. Needs values > 0 when p <= 0.

    # Hardy, Littlewood & Pólya, Inequalities (1934), ch. II; COINr a_genmean.
    """
    if p == 0:
        return geometric(values, weights)
    if p < 0:
        _need_positive(values, f"the generalised mean with p = {p:g}")
    v, w = _present_weights(values, weights)
    powered = np.where(np.isnan(v), 0.0, np.power(np.where(np.isnan(v), 1.0, v), p))
    mean = _finish((powered * w).sum(axis=1), w.sum(axis=1), values.index)
    return mean.pow(1.0 / p)


def copeland(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Copeland score from the weighted outranking matrix of the units.

    # Copeland (1951); COINr a_copeland / outrankMatrix (Munda & Nardo (2009), Applied
    # Economics 41: 1513–1523, non-compensatory aggregation).
    For units a and b, win(a, b) = sum of the weights of the children where a > b, lose(a, b)
    where a < b (equal values count for neither: half to each side in COINr's matrix).
    a outranks b when win > lose. Score(a) = #{b: a outranks b} − #{b: b outranks a}, an
    integer between −(n − 1) and n − 1. Missing values: a pair is compared on the children
    both units have (COINr credits a missing comparison to the unit listed later); a unit
    with no value gets no score. Weights may be of any scale; only their ratios matter.
    """
    v = values.to_numpy(dtype=float)
    w = weights.reindex(values.columns).to_numpy(dtype=float)
    n = v.shape[0]
    margin = np.zeros((n, n))
    for k in range(v.shape[1]):
        col = v[:, k]
        diff = np.sign(col[:, None] - col[None, :])  # nan where either is missing
        margin += w[k] * np.nan_to_num(diff, nan=0.0)
    tol = 1e-9 * float(np.abs(w).sum() or 1.0)
    score = (margin > tol).sum(axis=1) - (margin < -tol).sum(axis=1)
    out = pd.Series(score.astype(float), index=values.index)
    return out.where(values.notna().any(axis=1))


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
        "harmonic", harmonic, doc="Weighted harmonic mean; values must be > 0.", source="COINr a_hmean"
    ),
    "generalised": Method(
        "generalised",
        generalised,
        {"p": Param("number", 1.0, help="the power: 1 arithmetic, 0 geometric, -1 harmonic")},
        doc="Weighted generalised (power) mean with exponent p.",
        source="Hardy, Littlewood & Pólya (1934); COINr a_genmean",
    ),
    "copeland": Method(
        "copeland",
        copeland,
        doc="Copeland outranking score: pairwise wins minus losses over the other units.",
        source="Copeland (1951); COINr a_copeland / outrankMatrix",
    ),
}


# the aggregations that score each unit from its own children alone: re-aggregating a subset
# of units gives them the scores they have in the whole table (Copeland compares units)
UNIT_BY_UNIT = frozenset({"arithmetic", "geometric", "harmonic", "generalised"})


def volume_weights(scores: pd.DataFrame, volume: pd.Series | None) -> pd.Series:
    """Each object's weight in the volume-weighted roll-up: its `volume` (a number >= 0 for
    every object of `scores`, else an error)."""
    if volume is None:
        raise EgovError("the volume-weighted roll-up needs a volume per object (units column 'volume')")
    vol = pd.to_numeric(volume.reindex(scores.index), errors="coerce")
    if vol.isna().any() or (vol < 0).any():
        bad = ", ".join(map(str, vol.index[vol.isna() | (vol < 0)][:5]))
        raise EgovError(
            f"the volume-weighted roll-up needs a volume >= 0 for every object; missing or negative: {bad}"
        )
    return vol


def rollup_mean(scores: pd.DataFrame, groups: pd.Series, volume: pd.Series | None = None) -> pd.DataFrame:
    """Mean of the department's object scores (missing skipped)."""
    return scores.groupby(groups, sort=True).mean()


def rollup_volume(scores: pd.DataFrame, groups: pd.Series, volume: pd.Series | None = None) -> pd.DataFrame:
    """Mean of the department's object scores weighted by each object's volume (e.g. its
    number of transactions), missing scores skipped with their weight."""
    vol = volume_weights(scores, volume)
    present = scores.notna()
    num = scores.fillna(0.0).mul(vol, axis=0).groupby(groups, sort=True).sum()
    den = present.mul(vol, axis=0).groupby(groups, sort=True).sum()
    return num / den.where(den > 0)


def rollup_min(scores: pd.DataFrame, groups: pd.Series, volume: pd.Series | None = None) -> pd.DataFrame:
    """The department's weakest object."""
    return scores.groupby(groups, sort=True).min()


def rollup_max(scores: pd.DataFrame, groups: pd.Series, volume: pd.Series | None = None) -> pd.DataFrame:
    """The department's best object."""
    return scores.groupby(groups, sort=True).max()


def rollup_median(scores: pd.DataFrame, groups: pd.Series, volume: pd.Series | None = None) -> pd.DataFrame:
    """Median of the department's object scores."""
    return scores.groupby(groups, sort=True).median()


ROLLUPS: dict[str, Method] = {
    "mean": Method("mean", rollup_mean, doc="Mean of the department's object scores (missing skipped)."),
    "volume_weighted": Method(
        "volume_weighted",
        rollup_volume,
        doc="Mean of the object scores weighted by each object's volume (units column 'volume').",
    ),
    "min": Method(
        "min", rollup_min, doc="The department's weakest object (a chain is as strong as its weakest link)."
    ),
    "max": Method("max", rollup_max, doc="The department's best object."),
    "median": Method("median", rollup_median, doc="Median of the department's object scores."),
}


def aggregate(values: pd.DataFrame, weights: pd.Series, spec: dict[str, Any]) -> pd.Series:
    """Apply a canonical aggregation spec ({"method": …, **params})."""
    result: pd.Series = apply(AGGREGATORS, spec, values, weights)
    return result
