"""Normalisers: bring indicators with different units onto one scale.

One signature for the family: `f(x, *, direction, **params) -> Series`. The direction is
applied first (x is multiplied by -1 for a lower-is-better indicator, as COINr's
`Normalise.numeric` does), so that after normalisation a higher value is always better.
The goalposts method is the exception: its goalposts are given in the indicator's own
units, and the direction flips them. Missing values stay missing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from evaluation.methods import Method, Param, apply, positive


def _nan_like(x: pd.Series) -> pd.Series:
    return pd.Series(np.nan, index=x.index, dtype=float)


def minmax(x: pd.Series, *, direction: int, lower: float = 0.0, upper: float = 100.0) -> pd.Series:
    """Min-max scaling to [lower, upper] after multiplying by the direction.

    # OECD/JRC Handbook on Constructing Composite Indicators (2008), §5;
    # COINr n_minmax: (x - min) / (max - min) * (u - l) + l.
    A zero range (all units equal) yields missing values; the engine records a warning.
    """
    y = x.astype(float) * direction
    lo, hi = y.min(skipna=True), y.max(skipna=True)
    rng = hi - lo
    if not np.isfinite(rng) or rng == 0:
        return _nan_like(x)
    return (y - lo) / rng * (upper - lower) + lower


def zscore(x: pd.Series, *, direction: int, mean: float = 0.0, sd: float = 1.0) -> pd.Series:
    """Standardisation to a given mean and standard deviation (sample sd, n - 1).

    # OECD/JRC Handbook (2008) §5, standardisation; COINr n_zscore:
    # (x - mean(x)) / sd(x) * sd + mean.
    """
    y = x.astype(float) * direction
    s = y.std(ddof=1, skipna=True)
    if not np.isfinite(s) or s == 0:
        return _nan_like(x)
    return (y - y.mean(skipna=True)) / s * sd + mean


def rank(x: pd.Series, *, direction: int) -> pd.Series:
    """Rank of each value, the highest (after direction) getting the highest rank; ties take
    the lowest rank ("min").

    # COINr n_rank: rank(x, ties.method = "min", na.last = "keep").
    """
    return (x.astype(float) * direction).rank(method="min", na_option="keep")


def percentile(x: pd.Series, *, direction: int, scale: float = 100.0) -> pd.Series:
    """Percentile rank: (rank - 1) / (n - 1), times `scale`; ties take the lowest rank.

    # COINr n_prank: (rank(x, ties = "min") - 1) / (sum(!is.na(x)) - 1).
    """
    y = x.astype(float) * direction
    n = int(y.notna().sum())
    if n < 2:
        return _nan_like(x)
    return (y.rank(method="min", na_option="keep") - 1) / (n - 1) * scale


def goalposts(
    x: pd.Series,
    *,
    direction: int,
    min: float,
    max: float,
    clip: bool = True,
    scale: float = 100.0,
) -> pd.Series:
    """Distance between fixed goalposts: (x - min) / (max - min) * scale.

    # OECD/JRC Handbook (2008) §5 ("distance to a reference" with fixed goalposts);
    # COINr n_goalposts; DESI 2022 methodological note: (x - Min) / (Max - Min), not clipped.
    For direction -1 the goalposts are flipped: (max - x) / (max - min) * scale.
    With `clip` the result is limited to [0, scale].
    """
    y = x.astype(float)
    span = max - min
    z = (y - min) / span if direction > 0 else (max - y) / span
    z = z * scale
    if clip:
        z = z.clip(lower=0.0, upper=scale)
    return z


def target_band(
    x: pd.Series,
    *,
    direction: int,
    low: float,
    high: float,
    zero_below: float,
    zero_above: float,
    scale: float = 100.0,
) -> pd.Series:
    """Closeness to a planned band: `scale` within [low, high], falling linearly to 0 at
    `zero_below` and at `zero_above` (and 0 beyond), in the indicator's own units.

    For an indicator where both too little and too much are worse (budget execution against
    plan): the band says what is best, so the direction is not applied.
    """
    y = x.astype(float)
    below = (y - zero_below) / (low - zero_below)
    above = (zero_above - y) / (zero_above - high)
    z = pd.concat([below, above], axis=1).min(axis=1, skipna=False).clip(lower=0.0, upper=1.0)
    return z * scale


def distance_to_max(x: pd.Series, *, direction: int, scale: float = 100.0) -> pd.Series:
    """1 - (max - x) / (max - min), times `scale`.

    # COINr n_dist2max.
    """
    y = x.astype(float) * direction
    lo, hi = y.min(skipna=True), y.max(skipna=True)
    if not np.isfinite(hi - lo) or hi == lo:
        return _nan_like(x)
    return (1 - (hi - y) / (hi - lo)) * scale


def distance_to_reference(
    x: pd.Series, *, direction: int, unit: str, cap: bool = False, scale: float = 100.0
) -> pd.Series:
    """1 - (x_ref - x) / (x_ref - min), times `scale`; the reference is a named unit.

    # COINr n_dist2ref (there the reference is given by position; here by unit code).
    With `cap`, values beyond the reference score `scale`.
    """
    y = x.astype(float) * direction
    if unit not in y.index or pd.isna(y.get(unit)):
        return _nan_like(x)
    ref, lo = float(y[unit]), y.min(skipna=True)
    if ref == lo:
        return _nan_like(x)
    z = 1 - (ref - y) / (ref - lo)
    if cap:
        z = z.clip(upper=1.0)
    return z * scale


def distance_to_target(
    x: pd.Series, *, direction: int, target: float, cap: bool = False, scale: float = 100.0
) -> pd.Series:
    """(x - min) / (target - min), times `scale`, after applying the direction to x and to
    the target (for direction -1: (max - x) / (max - target)).

    # COINr n_dist2targ. With `cap`, values beyond the target score `scale`.
    """
    y = x.astype(float) * direction
    t = target * direction
    lo = y.min(skipna=True)
    if not np.isfinite(lo) or t == lo:
        return _nan_like(x)
    z = (y - lo) / (t - lo)
    if cap:
        z = z.clip(upper=1.0)
    return z * scale


def fraction_of_max(x: pd.Series, *, direction: int, scale: float = 100.0) -> pd.Series:
    """x / max(x), times `scale` (after the direction).

    # COINr n_fracmax.
    """
    y = x.astype(float) * direction
    hi = y.max(skipna=True)
    if not np.isfinite(hi) or hi == 0:
        return _nan_like(x)
    return y / hi * scale


def none(x: pd.Series, *, direction: int) -> pd.Series:
    """No scaling: the raw value times the direction."""
    return x.astype(float) * direction


# --- whole tables: the same formulas on units × indicators arrays ------------------------
# For the normalisers whose parameters are scalars, one array operation normalises a block
# of indicators at once (`evaluation.stages.normalise_table`): x is units × indicators with
# NaN for missing values, `direction` one ±1 per column. Each is the Series function above
# element by element (the same operations in the same order, the column minimum and
# maximum of the values present), so its results are identical to the last bit.
def _columns_minmax(
    x: np.ndarray, *, direction: np.ndarray, lower: float = 0.0, upper: float = 100.0
) -> np.ndarray:
    y = x * direction
    lo, hi = np.nanmin(y, axis=0), np.nanmax(y, axis=0)
    rng = hi - lo
    ok = np.isfinite(rng) & (rng != 0)
    return np.where(ok, (y - lo) / np.where(ok, rng, 1.0) * (upper - lower) + lower, np.nan)


def _columns_distance_to_max(x: np.ndarray, *, direction: np.ndarray, scale: float = 100.0) -> np.ndarray:
    y = x * direction
    lo, hi = np.nanmin(y, axis=0), np.nanmax(y, axis=0)
    ok = np.isfinite(hi - lo) & (hi != lo)
    return np.where(ok, (1 - (hi - y) / np.where(ok, hi - lo, 1.0)) * scale, np.nan)


def _columns_fraction_of_max(x: np.ndarray, *, direction: np.ndarray, scale: float = 100.0) -> np.ndarray:
    y = x * direction
    hi = np.nanmax(y, axis=0)
    ok = np.isfinite(hi) & (hi != 0)
    return np.where(ok, y / np.where(ok, hi, 1.0) * scale, np.nan)


def _columns_none(x: np.ndarray, *, direction: np.ndarray) -> np.ndarray:
    return x * direction


COLUMN_NORMALISERS: dict[str, Callable[..., np.ndarray]] = {
    "minmax": _columns_minmax,
    "distance_to_max": _columns_distance_to_max,
    "fraction_of_max": _columns_fraction_of_max,
    "none": _columns_none,
}


def normalise_columns(x: np.ndarray, spec: dict[str, Any], directions: np.ndarray) -> np.ndarray:
    """Normalise every column of a units × indicators array (NaN = missing) by one canonical
    spec of `COLUMN_NORMALISERS`, each column with its direction: the values `normalise`
    gives column by column, NaN where it gives none."""
    params = {k: v for k, v in spec.items() if k != "method"}
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns without values stay NaN
        return COLUMN_NORMALISERS[str(spec["method"])](x, direction=directions, **params)


def _check_minmax(p: dict[str, Any]) -> list[tuple[str, str]]:
    return [("upper", "must be greater than lower")] if p["lower"] >= p["upper"] else []


def _check_goalposts(p: dict[str, Any]) -> list[tuple[str, str]]:
    if p["min"] == p["max"]:
        return [("max", "must differ from min")]
    if p["min"] > p["max"]:
        return [("max", "must be greater than min (use direction = -1 to reverse)")]
    return []


def _check_band(p: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if not p["zero_below"] < p["low"]:
        problems.append(("low", "must be greater than zero_below"))
    if not p["low"] <= p["high"]:
        problems.append(("high", "must be at least low"))
    if not p["high"] < p["zero_above"]:
        problems.append(("zero_above", "must be greater than high"))
    return problems


_SCALE = Param(
    "number", 100.0, help="score of the best value (the result is multiplied by it)", check=positive
)

NORMALISERS: dict[str, Method] = {
    "minmax": Method(
        "minmax",
        minmax,
        {
            "lower": Param("number", 0.0, help="lower end of the scale"),
            "upper": Param("number", 100.0, help="upper end of the scale"),
        },
        doc="Min-max scaling to [lower, upper], direction applied first.",
        source="OECD/JRC Handbook (2008) §5; COINr n_minmax",
        validate=_check_minmax,
    ),
    "zscore": Method(
        "zscore",
        zscore,
        {
            "mean": Param("number", 0.0, help="mean of the result"),
            "sd": Param("number", 1.0, help="standard deviation of the result", check=positive),
        },
        doc="Standardisation (sample standard deviation) to the given mean and sd.",
        source="OECD/JRC Handbook (2008) §5; COINr n_zscore",
    ),
    "rank": Method(
        "rank", rank, {}, doc="Rank, highest value highest rank, ties take the lowest.", source="COINr n_rank"
    ),
    "percentile": Method(
        "percentile",
        percentile,
        {"scale": _SCALE},
        doc="Percentile rank (rank - 1)/(n - 1) times scale.",
        source="COINr n_prank",
    ),
    "goalposts": Method(
        "goalposts",
        goalposts,
        {
            "min": Param("number", required=True, help="value that scores 0"),
            "max": Param("number", required=True, help="value that scores `scale`"),
            "clip": Param("bool", True, help="limit the result to [0, scale]"),
            "scale": _SCALE,
        },
        doc="Fixed goalposts: (x - min)/(max - min)·scale, reversed for direction -1.",
        source="OECD/JRC Handbook (2008) §5; COINr n_goalposts; DESI 2022 methodological note",
        validate=_check_goalposts,
    ),
    "target_band": Method(
        "target_band",
        target_band,
        {
            "low": Param("number", required=True, help="lower end of the band that scores `scale`"),
            "high": Param("number", required=True, help="upper end of the band that scores `scale`"),
            "zero_below": Param("number", required=True, help="value at or below which the score is 0"),
            "zero_above": Param("number", required=True, help="value at or above which the score is 0"),
            "scale": _SCALE,
        },
        doc="scale within [low, high], linear to 0 at zero_below and zero_above; direction not applied.",
        source="fixed goalposts (OECD/JRC Handbook (2008) §5) on each side of a planned band",
        validate=_check_band,
    ),
    "distance_to_max": Method(
        "distance_to_max",
        distance_to_max,
        {"scale": _SCALE},
        doc="1 - (max - x)/(max - min), times scale.",
        source="COINr n_dist2max",
    ),
    "distance_to_reference": Method(
        "distance_to_reference",
        distance_to_reference,
        {
            "unit": Param("string", required=True, help="code of the reference unit"),
            "cap": Param("bool", False, help="score values beyond the reference as the reference"),
            "scale": _SCALE,
        },
        doc="1 - (x_ref - x)/(x_ref - min), times scale.",
        source="COINr n_dist2ref",
    ),
    "distance_to_target": Method(
        "distance_to_target",
        distance_to_target,
        {
            "target": Param("number", help="target value (default: the indicator's `target`)"),
            "cap": Param("bool", False, help="score values beyond the target as the target"),
            "scale": _SCALE,
        },
        doc="(x - min)/(target - min), times scale (direction applied to x and target).",
        source="COINr n_dist2targ",
    ),
    "fraction_of_max": Method(
        "fraction_of_max",
        fraction_of_max,
        {"scale": _SCALE},
        doc="x / max(x), times scale.",
        source="COINr n_fracmax",
    ),
    "none": Method("none", none, {}, doc="No scaling; raw value times direction."),
}


def normalise(x: pd.Series, spec: dict[str, Any], direction: int) -> pd.Series:
    """Apply a canonical normalisation spec ({"method": …, **params}) to one indicator."""
    result: pd.Series = apply(NORMALISERS, spec, x, direction=direction)
    return result
