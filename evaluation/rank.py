"""Ranking: 1 is the best (highest score); ties take the lowest rank number (COINr, the
reference data's convention: "min" ranking); missing scores are not ranked."""

from __future__ import annotations

import pandas as pd


def rank_desc(scores: pd.Series) -> pd.Series:
    """Competition ranking ("1224"), highest score first; NaN stays NaN."""
    return scores.rank(ascending=False, method="min", na_option="keep")
