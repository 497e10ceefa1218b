"""Normalisers: bring indicators with different units onto one scale.

One signature for the family: `f(x, *, direction, **params) -> Series`. The direction is
applied first (a lower-is-better indicator is reversed), so that after normalisation a
higher value is always better. Missing values stay missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.methods import Method, Param


def minmax(x: pd.Series, *, direction: int, lower: float = 0.0, upper: float = 100.0) -> pd.Series:
    """Min-max scaling to [lower, upper] after multiplying by the direction.

    # OECD/JRC Handbook on Constructing Composite Indicators (2008), §5, eq. "min-max";
    # COINr n_minmax: (x - min) / (max - min) * (u - l) + l.
    A zero range (all units equal) yields missing values; the engine records a warning.
    """
    y = x.astype(float) * direction
    lo, hi = y.min(skipna=True), y.max(skipna=True)
    rng = hi - lo
    if not np.isfinite(rng) or rng == 0:
        return pd.Series(np.nan, index=x.index, dtype=float)
    return (y - lo) / rng * (upper - lower) + lower


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

    # OECD/JRC Handbook (2008), §5 ("distance to a reference" with fixed goalposts);
    # DESI 2022 methodological note: (x - Min) / (Max - Min), not clipped.
    For direction -1 the scale is reversed: (max - x) / (max - min) * scale.
    With `clip` the result is limited to [0, scale].
    """
    y = x.astype(float)
    span = max - min
    z = (y - min) / span if direction > 0 else (max - y) / span
    z = z * scale
    if clip:
        z = z.clip(lower=0.0, upper=scale)
    return z


def none(x: pd.Series, *, direction: int) -> pd.Series:
    """No scaling: the raw value times the direction."""
    return x.astype(float) * direction


NORMALISERS: dict[str, Method] = {
    "minmax": Method(
        "minmax",
        minmax,
        {
            "lower": Param(float, 0.0, help="lower end of the scale"),
            "upper": Param(float, 100.0, help="upper end of the scale"),
        },
        doc="Min-max scaling to [lower, upper], direction applied first.",
        source="OECD/JRC Handbook (2008) §5; COINr n_minmax",
    ),
    "goalposts": Method(
        "goalposts",
        goalposts,
        {
            "min": Param(float, required=True, help="value that scores 0"),
            "max": Param(float, required=True, help="value that scores `scale`"),
            "clip": Param(bool, True, help="limit the result to [0, scale]"),
            "scale": Param(float, 100.0, help="score given at the upper goalpost"),
        },
        doc="Fixed goalposts: (x - min)/(max - min)·scale, reversed for direction -1.",
        source="OECD/JRC Handbook (2008) §5; DESI 2022 methodological note",
    ),
    "none": Method("none", none, {}, doc="No scaling; raw value times direction."),
}


def check_normalisation(method: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems with a normalisation spec, as (key, message) pairs; key '' = the method."""
    spec = NORMALISERS.get(method)
    if spec is None:
        return [
            ("method", f"unknown normalisation method '{method}' (known: {', '.join(sorted(NORMALISERS))})")
        ]
    problems = spec.check_params(params)
    if not problems:
        resolved = spec.resolve(params)
        if method == "minmax" and resolved["lower"] >= resolved["upper"]:
            problems.append(("upper", "must be greater than lower"))
        if method == "goalposts":
            if resolved["min"] == resolved["max"]:
                problems.append(("max", "must differ from min"))
            elif resolved["min"] > resolved["max"]:
                problems.append(("max", "must be greater than min (use direction = -1 to reverse)"))
            if resolved["scale"] <= 0:
                problems.append(("scale", "must be > 0"))
    return problems


def normalise(x: pd.Series, method: str, direction: int, params: dict[str, Any]) -> pd.Series:
    """Apply a registered normaliser (parameters already checked)."""
    spec = NORMALISERS[method]
    return spec.func(x, direction=direction, **spec.resolve(params))
