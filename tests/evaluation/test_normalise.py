"""Normalisers (evaluation/normalise.py): known answers and properties.

Formulas: OECD/JRC Handbook on Constructing Composite Indicators (2008) §5; COINr n_minmax
(x - min) / (max - min) * (u - l) + l; goalposts (x - min) / (max - min) * scale, reversed
for direction -1 and clipped to [0, scale] unless `clip = false` (DESI 2022 does not clip).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evaluation.normalise import goalposts, minmax, none, normalise
from evaluation.registry import check_stage

PROPS = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def s(values: list[float]) -> pd.Series:
    return pd.Series(values, index=[f"u{i}" for i in range(len(values))], dtype=float)


def assert_series(actual: pd.Series, expected: list[float], atol: float = 1e-12) -> None:
    np.testing.assert_allclose(
        actual.to_numpy(dtype=float), np.array(expected, dtype=float), atol=atol, rtol=0
    )


# --- minmax ---------------------------------------------------------------------------------
def test_minmax_default_scale_0_100() -> None:
    assert_series(minmax(s([2, 4, 6, 10]), direction=1), [0, 25, 50, 100])


def test_minmax_1_100() -> None:
    # l + (x - min)/(max - min)·(u - l) with l = 1, u = 100: 1, 1 + 99/4, 1 + 99/2, 100
    out = minmax(s([2, 4, 6, 10]), direction=1, lower=1.0, upper=100.0)
    assert_series(out, [1, 25.75, 50.5, 100])


def test_minmax_reversed_direction() -> None:
    assert_series(minmax(s([2, 4, 6, 10]), direction=-1), [100, 75, 50, 0])


def test_minmax_keeps_index_and_missing_values() -> None:
    x = s([1, np.nan, 3, 5])
    out = minmax(x, direction=1)
    assert list(out.index) == list(x.index)
    assert np.isnan(out["u1"])
    assert_series(out.drop("u1"), [0, 50, 100])


def test_minmax_zero_range_gives_all_nan() -> None:
    out = minmax(s([7, 7, np.nan, 7]), direction=1)
    assert out.isna().all()
    assert list(out.index) == ["u0", "u1", "u2", "u3"]


def test_minmax_all_missing_gives_all_nan() -> None:
    assert minmax(s([np.nan, np.nan]), direction=1).isna().all()


def test_minmax_accepts_integer_input() -> None:
    out = minmax(pd.Series([0, 5, 10]), direction=1)
    assert out.dtype == float
    assert_series(out, [0, 50, 100])


# --- goalposts ------------------------------------------------------------------------------
def test_goalposts_inside_the_posts() -> None:
    assert_series(goalposts(s([50, 75, 100]), direction=1, min=50, max=100), [0, 50, 100])


def test_goalposts_clipped_by_default() -> None:
    assert_series(goalposts(s([25, 60, 125]), direction=1, min=50, max=100), [0, 20, 100])


def test_goalposts_unclipped() -> None:
    out = goalposts(s([25, 60, 125]), direction=1, min=50, max=100, clip=False)
    assert_series(out, [-50, 20, 150])


def test_goalposts_reversed_direction() -> None:
    # (max - x) / (max - min) · scale
    assert_series(goalposts(s([50, 60, 100]), direction=-1, min=50, max=100), [100, 80, 0])
    out = goalposts(s([25, 60, 125]), direction=-1, min=50, max=100, clip=False)
    assert_series(out, [150, 80, -50])
    out = goalposts(s([25, 60, 125]), direction=-1, min=50, max=100)
    assert_series(out, [100, 80, 0])


def test_goalposts_scale_and_missing() -> None:
    out = goalposts(s([0, np.nan, 0.5, 1]), direction=1, min=0, max=1, scale=1.0)
    assert np.isnan(out["u1"])
    assert_series(out.drop("u1"), [0, 0.5, 1])


def test_goalposts_constant_data_is_not_a_zero_range() -> None:
    # fixed goalposts do not depend on the data: equal values all get the same score
    assert_series(goalposts(s([70, 70, 70]), direction=1, min=50, max=100), [40, 40, 40])


# --- none -----------------------------------------------------------------------------------
def test_none_is_raw_times_direction() -> None:
    assert_series(none(s([1.5, -2, np.nan]), direction=1), [1.5, -2, np.nan])
    assert_series(none(s([1.5, -2, np.nan]), direction=-1), [-1.5, 2, np.nan])


# --- registry dispatch and parameter checks -------------------------------------------------
def test_normalise_dispatch_fills_defaults() -> None:
    x = s([2, 4, 6, 10])

    def norm(method: str, direction: int, params: dict) -> pd.Series:
        spec, problems = check_stage("normalisation", {"method": method, **params})
        assert spec is not None, problems
        return normalise(x, spec, direction)

    assert_series(norm("minmax", 1, {}), [0, 25, 50, 100])
    assert_series(norm("minmax", 1, {"lower": 1, "upper": 100}), [1, 25.75, 50.5, 100])
    assert_series(norm("goalposts", -1, {"min": 0, "max": 10}), [80, 60, 40, 0])
    assert_series(norm("none", -1, {}), [-2, -4, -6, -10])


@pytest.mark.parametrize(
    ("method", "params", "key"),
    [
        ("zscores", {}, "method"),
        ("minmax", {"lower": 100, "upper": 0}, "upper"),
        ("minmax", {"lower": 5, "upper": 5}, "upper"),
        ("minmax", {"floor": 1}, "floor"),
        ("goalposts", {"min": 0}, "max"),
        ("goalposts", {"min": 1, "max": 1}, "max"),
        ("goalposts", {"min": 2, "max": 1}, "max"),
        ("goalposts", {"min": 0, "max": 1, "scale": 0}, "scale"),
        ("goalposts", {"min": 0, "max": 1, "clip": "yes"}, "clip"),
        ("none", {"lower": 0}, "lower"),
    ],
)
def test_check_normalisation_reports_the_key(method: str, params: dict, key: str) -> None:
    spec, problems = check_stage("normalisation", {"method": method, **params})
    assert spec is None
    assert key in [k for k, _ in problems], problems


def test_check_normalisation_accepts_valid_specs() -> None:
    for value in (
        "minmax",
        {"method": "minmax", "lower": 1, "upper": 100},
        {"method": "goalposts", "min": 0, "max": 1, "clip": False, "scale": 1},
        {"method": "none"},
    ):
        spec, problems = check_stage("normalisation", value)
        assert problems == [] and spec is not None


# --- properties -----------------------------------------------------------------------------
# Values of moderate magnitude whose spread is not tiny relative to their size, so that
# floating-point cancellation in a·x + b stays far below the 1e-9 tolerance.
values = st.lists(
    st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=30,
)


def spread(xs: list[float]) -> float:
    return max(xs) - min(xs)


@PROPS
@given(
    xs=values,
    a=st.floats(min_value=0.5, max_value=20),
    b=st.floats(min_value=-100, max_value=100),
    bounds=st.sampled_from([(0.0, 100.0), (1.0, 100.0), (0.0, 1.0), (-5.0, 5.0)]),
)
def test_minmax_invariant_to_positive_affine_maps(
    xs: list[float], a: float, b: float, bounds: tuple[float, float]
) -> None:
    assume(spread(xs) >= 1.0)
    lo, hi = bounds
    x = s(xs)
    base = minmax(x, direction=1, lower=lo, upper=hi)
    moved = minmax(a * x + b, direction=1, lower=lo, upper=hi)
    np.testing.assert_allclose(moved.to_numpy(), base.to_numpy(), atol=1e-9, rtol=0)


@PROPS
@given(xs=values, bounds=st.sampled_from([(0.0, 100.0), (1.0, 100.0), (-5.0, 5.0)]))
def test_minmax_reversed_equals_minmax_of_negated(xs: list[float], bounds: tuple[float, float]) -> None:
    lo, hi = bounds
    x = s(xs)
    pd.testing.assert_series_equal(
        minmax(x, direction=-1, lower=lo, upper=hi), minmax(-x, direction=1, lower=lo, upper=hi)
    )


@PROPS
@given(
    xs=st.lists(
        st.one_of(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.just(float("nan"))),
        min_size=1,
        max_size=30,
    ),
    direction=st.sampled_from([1, -1]),
    bounds=st.sampled_from([(0.0, 100.0), (1.0, 100.0), (-5.0, 5.0)]),
)
def test_minmax_within_bounds_and_missing_stays_missing(
    xs: list[float], direction: int, bounds: tuple[float, float]
) -> None:
    lo, hi = bounds
    x = s(xs)
    out = minmax(x, direction=direction, lower=lo, upper=hi)
    assert list(out.index) == list(x.index)
    assert out[x.isna()].isna().all()
    present = out.dropna()
    if not present.empty:
        tol = 1e-9 * (hi - lo)
        assert (present >= lo - tol).all() and (present <= hi + tol).all()
        assert present.min() == pytest.approx(lo, abs=tol)
        assert present.max() == pytest.approx(hi, abs=tol)
    else:
        # nothing present or every present value equal: zero range
        assert x.dropna().nunique() <= 1


@PROPS
@given(xs=values, direction=st.sampled_from([1, -1]))
def test_minmax_preserves_order(xs: list[float], direction: int) -> None:
    assume(spread(xs) > 0)
    x = s(xs)
    out = minmax(x, direction=direction)
    order = np.argsort(direction * x.to_numpy(), kind="stable")
    assert np.all(np.diff(out.to_numpy()[order]) >= 0)


@PROPS
@given(
    xs=st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=1, max_size=30),
    posts=st.tuples(st.floats(min_value=-500, max_value=500), st.floats(min_value=0.1, max_value=500)),
    direction=st.sampled_from([1, -1]),
    clip=st.booleans(),
)
def test_goalposts_monotone_and_clipped(
    xs: list[float], posts: tuple[float, float], direction: int, clip: bool
) -> None:
    lo, width = posts
    x = s(xs)
    out = goalposts(x, direction=direction, min=lo, max=lo + width, clip=clip)
    order = np.argsort(direction * x.to_numpy(), kind="stable")
    assert np.all(np.diff(out.to_numpy()[order]) >= -1e-9)
    if clip:
        assert ((out >= 0) & (out <= 100)).all()
