"""Denomination: divide an indicator by a size variable (population, staff, budget…) so
that large and small units compare fairly.

One signature for the family: `f(x, *, by, **params) -> Series`, where `by` is the
indicator's denominator (named by its `denominator` key: a unit attribute column or
another indicator) over the same units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.methods import Method, Param, apply, positive


def none(x: pd.Series, *, by: pd.Series | None = None) -> pd.Series:
    """No denomination."""
    return x


def divide(x: pd.Series, *, by: pd.Series | None = None, scale: float = 1.0) -> pd.Series:
    """x / denominator × scale; a zero or missing denominator gives a missing value.

    # OECD/JRC Handbook (2008) §1.3 and COINr Denominate: "indicator / denominator".
    """
    if by is None:
        return x
    d = by.reindex(x.index).astype(float)
    d = d.where(d != 0, np.nan)
    return x.astype(float) / d * scale


DENOMINATIONS: dict[str, Method] = {
    "none": Method("none", none, doc="No denomination."),
    "divide": Method(
        "divide",
        divide,
        {
            "scale": Param(
                "number",
                1.0,
                help="factor applied after dividing (e.g. 1000 for per thousand)",
                check=positive,
            )
        },
        doc="Divide by the indicator's denominator and multiply by scale.",
        source="OECD/JRC Handbook (2008) §1.3; COINr Denominate",
    ),
}


def denominate(x: pd.Series, spec: dict[str, Any], by: pd.Series | None) -> pd.Series:
    """Apply a canonical denomination spec to one indicator."""
    result: pd.Series = apply(DENOMINATIONS, spec, x, by=by)
    return result
