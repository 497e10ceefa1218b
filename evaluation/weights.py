"""Weighting: the weights of a node's children.

One signature for the family: `f(values, weights, **params) -> Series`, where `values` is
the units × children table the node aggregates (scores after normalisation) and `weights`
the manual weights written in the framework file. The result need not sum to 1: the
aggregators renormalise over the children present for each unit.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaluation.methods import Method


def manual(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """The weights written in the framework file."""
    return weights


def equal(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Every child the same weight. # OECD/JRC Handbook (2008) §6, equal weighting."""
    return pd.Series(1.0, index=weights.index)


WEIGHTINGS: dict[str, Method] = {
    "manual": Method("manual", manual, doc="The weights written in the framework file."),
    "equal": Method("equal", equal, doc="Every child the same weight.", source="OECD/JRC Handbook (2008) §6"),
}


def weigh(values: pd.DataFrame, weights: pd.Series, spec: dict[str, Any]) -> pd.Series:
    """Apply a canonical weighting spec to one aggregate's children."""
    method = WEIGHTINGS[str(spec["method"])]
    params = {k: v for k, v in spec.items() if k != "method"}
    result: pd.Series = method.func(values, weights, **params)
    return result
