"""Outlier treatment: tame skewed indicators before normalisation.

One signature for the family: `f(x, **params) -> (Series, details)`, where `details` is a
dict describing what was done to this indicator (for the result's treatment table).
Cells whose value changed are flagged "treated" by the engine.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaluation.methods import Method

TreatResult = tuple[pd.Series, dict[str, Any]]


def none(x: pd.Series) -> TreatResult:
    """No treatment."""
    return x, {}


TREATMENTS: dict[str, Method] = {
    "none": Method("none", none, doc="No outlier treatment."),
}


def treat(x: pd.Series, spec: dict[str, Any]) -> TreatResult:
    """Apply a canonical treatment spec to one indicator."""
    method = TREATMENTS[str(spec["method"])]
    params = {k: v for k, v in spec.items() if k != "method"}
    result: TreatResult = method.func(x, **params)
    return result
