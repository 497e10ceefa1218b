"""The `target_band` normaliser (issue 15): closeness to a planned band, for indicators where
both too little and too much are worse (budget execution against plan). Known answers by
hand: band [90, 100], 0 at 50 and at 130."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.normalise import normalise
from evaluation.registry import check_stage
from evaluation.vectorised import normalise_rows

BAND = {"method": "target_band", "low": 90, "high": 100, "zero_below": 50, "zero_above": 130}
X = [20, 50, 70, 90, 95, 100, 115, 130, 160, float("nan")]
# 70 is half-way from 50 to 90 (50); 115 is half-way from 100 to 130 (50)
EXPECTED = [0, 0, 50, 100, 100, 100, 50, 0, 0, float("nan")]


def spec(**params: float) -> dict:
    checked, problems = check_stage("normalisation", {**BAND, **params})
    assert checked is not None, problems
    return checked


@pytest.mark.parametrize("direction", [1, -1])
def test_known_answers_whatever_the_direction(direction: int) -> None:
    x = pd.Series(X, index=[f"u{i}" for i in range(len(X))])
    got = normalise(x, spec(), direction).to_numpy(dtype=float)
    np.testing.assert_allclose(got, EXPECTED, atol=1e-12)


def test_scale_and_a_point_band() -> None:
    x = pd.Series([80.0, 100.0, 110.0])
    got = normalise(x, spec(low=100, high=100, zero_below=60, zero_above=120, scale=1), 1)
    np.testing.assert_allclose(got.to_numpy(dtype=float), [0.5, 1.0, 0.5])


def test_the_monte_carlo_path_gives_the_same_scores() -> None:
    rows = np.array([X, X[::-1]])
    got = normalise_rows(rows, spec(), 1, "budget")
    np.testing.assert_allclose(got, np.array([EXPECTED, EXPECTED[::-1]]), atol=1e-12)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"zero_below": 95}, "low"),
        ({"low": 100, "high": 90}, "high"),
        ({"zero_above": 100}, "zero_above"),
        ({"zero_above": None}, "zero_above"),
    ],
)
def test_an_inconsistent_band_is_refused_naming_the_key(params: dict, key: str) -> None:
    value = {k: v for k, v in {**BAND, **params}.items() if v is not None}
    checked, problems = check_stage("normalisation", value)
    assert checked is None
    assert key in [k for k, _ in problems], problems
