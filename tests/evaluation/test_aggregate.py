"""Aggregators and roll-ups (evaluation/aggregate.py): known answers and properties.

Formulas: OECD/JRC Handbook (2008) §6; COINr a_amean / a_gmean / a_hmean. Missing values are
skipped and the weights of the present children renormalised ("available case").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.errors import EgovError
from evaluation.aggregate import AGGREGATORS, ROLLUPS, arithmetic, geometric, harmonic

PROPS = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NAN = float("nan")


def table(rows: dict[str, list[float]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns, dtype=float)


# --- known answers --------------------------------------------------------------------------
KNOWN = table({"a": [2, 8], "b": [4, 4], "c": [1, NAN], "d": [NAN, NAN]}, ["x", "y"])
KNOWN_W = pd.Series({"x": 1.0, "y": 3.0})


def test_arithmetic_known_answer() -> None:
    out = arithmetic(KNOWN, KNOWN_W)
    # (1·2 + 3·8) / 4 = 6.5; equal values: 4; one missing: the other one; none present: NaN
    assert out["a"] == pytest.approx(6.5, abs=1e-12)
    assert out["b"] == pytest.approx(4.0, abs=1e-12)
    assert out["c"] == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(out["d"])
    assert list(out.index) == ["a", "b", "c", "d"]


def test_geometric_known_answer() -> None:
    out = geometric(KNOWN, KNOWN_W)
    # (2^1 · 8^3)^(1/4) = 1024^(1/4) = 4·√2
    assert out["a"] == pytest.approx(4 * math.sqrt(2), abs=1e-12)
    assert out["b"] == pytest.approx(4.0, abs=1e-12)
    assert out["c"] == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(out["d"])


def test_harmonic_known_answer() -> None:
    out = harmonic(KNOWN, KNOWN_W)
    # 4 / (1/2 + 3/8) = 32/7
    assert out["a"] == pytest.approx(32 / 7, abs=1e-12)
    assert out["b"] == pytest.approx(4.0, abs=1e-12)
    assert out["c"] == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(out["d"])


def test_three_children_unequal_weights() -> None:
    v = table({"u": [10, 40, 80]}, ["p", "q", "r"])
    w = pd.Series({"r": 5.0, "p": 2.0, "q": 3.0})  # order differs from the columns on purpose
    assert arithmetic(v, w)["u"] == pytest.approx((20 + 120 + 400) / 10, abs=1e-12)
    expected_g = math.exp((2 * math.log(10) + 3 * math.log(40) + 5 * math.log(80)) / 10)
    assert geometric(v, w)["u"] == pytest.approx(expected_g, rel=1e-14)
    assert harmonic(v, w)["u"] == pytest.approx(10 / (2 / 10 + 3 / 40 + 5 / 80), rel=1e-14)


@pytest.mark.parametrize("method", ["arithmetic", "geometric", "harmonic"])
def test_missing_value_renormalises_the_weights(method: str) -> None:
    func = AGGREGATORS[method].func
    v = table({"full": [20, 30, 60], "gap": [20, NAN, 60]}, ["x", "y", "z"])
    w = pd.Series({"x": 1.0, "y": 2.0, "z": 3.0})
    out = func(v, w)
    rest = func(v[["x", "z"]], w[["x", "z"]])
    assert out["gap"] == pytest.approx(rest["gap"], rel=1e-14)
    if method == "arithmetic":
        assert out["gap"] == pytest.approx((20 + 3 * 60) / 4, rel=1e-14)


@pytest.mark.parametrize("method", ["arithmetic", "geometric", "harmonic"])
def test_all_missing_row_is_nan(method: str) -> None:
    v = table({"none": [NAN, NAN], "some": [5, NAN]}, ["x", "y"])
    out = AGGREGATORS[method].func(v, pd.Series({"x": 1.0, "y": 1.0}))
    assert math.isnan(out["none"])
    assert out["some"] == pytest.approx(5.0)


def test_arithmetic_allows_zero_and_negative_values() -> None:
    v = table({"u": [-10, 0, 40]}, ["x", "y", "z"])
    assert arithmetic(v, pd.Series({"x": 1.0, "y": 1.0, "z": 1.0}))["u"] == pytest.approx(10.0)


@pytest.mark.parametrize("method", ["geometric", "harmonic"])
@pytest.mark.parametrize("bad", [0.0, -3.5])
def test_non_positive_values_raise_naming_the_column(method: str, bad: float) -> None:
    v = table({"u1": [5, 1], "u2": [4, bad], "u3": [NAN, 2]}, ["fine_col", "bad_col"])
    with pytest.raises(EgovError) as info:
        AGGREGATORS[method].func(v, pd.Series({"fine_col": 1.0, "bad_col": 1.0}))
    assert "bad_col" in str(info.value)
    assert "fine_col" not in str(info.value)
    assert "> 0" in str(info.value)


def test_missing_values_are_not_non_positive() -> None:
    v = table({"u1": [NAN, 2], "u2": [4, NAN]}, ["x", "y"])
    out = geometric(v, pd.Series({"x": 1.0, "y": 1.0}))
    assert list(out) == [2.0, 4.0]


# --- roll-ups -------------------------------------------------------------------------------
def test_rollups_known_answers() -> None:
    scores = table({"o1": [10, NAN], "o2": [30, 5], "o3": [80, 7], "o4": [50, 1]}, ["cat", "dim"])
    groups = pd.Series({"o1": "D1", "o2": "D1", "o3": "D1", "o4": "D2"})
    volume = pd.Series({"o1": 1.0, "o2": 1.0, "o3": 2.0, "o4": 5.0})
    # one signature for the family: f(scores, groups, volume)
    mean = ROLLUPS["mean"].func(scores, groups, None)
    assert mean.loc["D1", "cat"] == pytest.approx(40.0)
    assert mean.loc["D1", "dim"] == pytest.approx(6.0)  # missing skipped
    assert ROLLUPS["min"].func(scores, groups, None).loc["D1"].tolist() == [10.0, 5.0]
    assert ROLLUPS["max"].func(scores, groups, None).loc["D1"].tolist() == [80.0, 7.0]
    assert ROLLUPS["median"].func(scores, groups, None).loc["D1"].tolist() == [30.0, 6.0]
    for method in ROLLUPS:
        out = ROLLUPS[method].func(scores, groups, volume)
        assert out.loc["D2"].tolist() == [50.0, 1.0]  # one object: every roll-up is that object
        assert list(out.index) == ["D1", "D2"]


def test_volume_weighted_rollup_known_answer() -> None:
    scores = table({"o1": [10, NAN], "o2": [30, 5], "o3": [80, 7], "o4": [50, 1]}, ["cat", "dim"])
    groups = pd.Series({"o1": "D1", "o2": "D1", "o3": "D1", "o4": "D2"})
    volume = pd.Series({"o1": 1.0, "o2": 1.0, "o3": 2.0, "o4": 5.0})
    out = ROLLUPS["volume_weighted"].func(scores, groups, volume)
    # D1 cat: (1·10 + 1·30 + 2·80) / (1 + 1 + 2) = 200 / 4 = 50
    assert out.loc["D1", "cat"] == pytest.approx(50.0)
    # D1 dim: o1 missing, skipped with its volume: (1·5 + 2·7) / (1 + 2) = 19 / 3
    assert out.loc["D1", "dim"] == pytest.approx(19 / 3)
    # equal volumes give the plain mean
    equal = ROLLUPS["volume_weighted"].func(scores, groups, pd.Series(3.0, index=scores.index))
    pd.testing.assert_frame_equal(equal, ROLLUPS["mean"].func(scores, groups, None))


def test_volume_weighted_rollup_needs_volumes() -> None:
    scores = table({"o1": [10], "o2": [30]}, ["cat"])
    groups = pd.Series({"o1": "D1", "o2": "D1"})
    with pytest.raises(EgovError, match="needs a volume per object"):
        ROLLUPS["volume_weighted"].func(scores, groups, None)
    with pytest.raises(EgovError, match="missing or negative: o2"):
        ROLLUPS["volume_weighted"].func(scores, groups, pd.Series({"o1": 1.0, "o2": -1.0}))


# --- properties -----------------------------------------------------------------------------
def rows_strategy(positive: bool) -> st.SearchStrategy[pd.DataFrame]:
    lo = 0.01 if positive else -100.0
    cell = st.one_of(st.floats(min_value=lo, max_value=100.0), st.just(NAN))
    return st.integers(min_value=1, max_value=6).flatmap(
        lambda k: st.lists(st.lists(cell, min_size=k, max_size=k), min_size=1, max_size=8).map(
            lambda rows: pd.DataFrame(
                rows, columns=[f"c{i}" for i in range(k)], index=[f"u{i}" for i in range(len(rows))]
            )
        )
    )


def weights_for(v: pd.DataFrame) -> st.SearchStrategy[pd.Series]:
    return st.lists(st.floats(min_value=0.01, max_value=100.0), min_size=v.shape[1], max_size=v.shape[1]).map(
        lambda ws: pd.Series(ws, index=v.columns)
    )


@PROPS
@given(data=st.data(), method=st.sampled_from(["arithmetic", "geometric", "harmonic"]))
def test_scaling_all_weights_changes_nothing(data: st.DataObject, method: str) -> None:
    v = data.draw(rows_strategy(positive=method != "arithmetic"))
    w = data.draw(weights_for(v))
    c = data.draw(st.floats(min_value=1e-3, max_value=1e3))
    func = AGGREGATORS[method].func
    np.testing.assert_allclose(func(v, w * c).to_numpy(), func(v, w).to_numpy(), rtol=1e-12, atol=1e-12)


@PROPS
@given(data=st.data(), method=st.sampled_from(["arithmetic", "geometric", "harmonic"]))
def test_result_between_row_min_and_max(data: st.DataObject, method: str) -> None:
    v = data.draw(rows_strategy(positive=method != "arithmetic"))
    w = data.draw(weights_for(v))
    out = AGGREGATORS[method].func(v, w)
    lo, hi = v.min(axis=1), v.max(axis=1)
    assert (out.isna() == v.isna().all(axis=1)).all()
    tol = 1e-9 * np.maximum(1.0, np.maximum(lo.abs(), hi.abs()))
    present = out.notna()
    assert (out[present] >= lo[present] - tol[present]).all()
    assert (out[present] <= hi[present] + tol[present]).all()


@PROPS
@given(data=st.data(), method=st.sampled_from(["arithmetic", "geometric"]))
def test_improving_one_value_never_lowers_the_aggregate(data: st.DataObject, method: str) -> None:
    v = data.draw(rows_strategy(positive=True))
    w = data.draw(weights_for(v))
    row = data.draw(st.sampled_from(list(v.index)))
    col = data.draw(st.sampled_from(list(v.columns)))
    base = v.loc[row, col]
    if math.isnan(base):
        base = data.draw(st.floats(min_value=0.01, max_value=100.0))
        v.loc[row, col] = base
    better = v.copy()
    better.loc[row, col] = base + data.draw(st.floats(min_value=1e-6, max_value=100.0))
    func = AGGREGATORS[method].func
    before, after = func(v, w)[row], func(better, w)[row]
    # the maths says after >= before; allow a last-bit rounding difference of exp/log
    assert after >= before - 1e-12 * abs(before)
