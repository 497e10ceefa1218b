"""Outlier treatment (evaluation/treat.py): known answers for every method, the treatment
table and the per-cell "treated" flags through the engine, and clear errors.

Known answers are computed by hand from the definitions: COINr 1.1.14 `Treat()` (R/treat.R:
check_SkewKurt, winsorise, log_CT), quantile winsorisation with type-7 quantiles, and the
Box-Cox transform (Box & Cox 1964). Skewness and kurtosis are checked against SciPy's
bias-corrected estimators (G1, G2; Joanes & Gill 1998), an implementation independent of
the pandas one the engine uses.
"""

from __future__ import annotations

import copy
import math
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from egov.errors import EgovError
from evaluation.engine import evaluate
from evaluation.registry import check_stage
from evaluation.spec import parse_spec
from evaluation.treat import TREATMENTS, boxcox, coinr, log, skew_kurt, treat, winsorise
from indicators.framework import Framework, build_framework


def series(values: list[float], name: str = "x") -> pd.Series:
    return pd.Series(values, index=[f"u{i:02d}" for i in range(len(values))], dtype=float, name=name)


def g1_g2(values: Any) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    return float(stats.skew(v, bias=False)), float(stats.kurtosis(v, bias=False))


# --- COINr's default rule ----------------------------------------------------------------
def test_coinr_passing_indicator_is_untouched() -> None:
    x = series([float(v) for v in range(1, 21)])
    out, d = coinr(x)
    pd.testing.assert_series_equal(out, x)
    sk, kt = g1_g2(x)
    assert d["Pass0"] is True and d["nwin"] == 0 and d["logged"] is False
    assert d["Skew0"] == pytest.approx(sk, abs=1e-12) and d["Kurt0"] == pytest.approx(kt, abs=1e-12)
    assert d["Pass1"] is None and math.isnan(d["Skew1"]) and math.isnan(d["Kurt1"])


def test_coinr_passes_on_either_criterion() -> None:
    # skew 3.06, kurtosis 9.74: fails the defaults, passes with a kurtosis threshold of 10 ("OR")
    x = series([*range(1, 11), 30, 100])
    assert coinr(x)[1]["Pass0"] is False
    assert coinr(x, kurt=10.0)[1]["Pass0"] is True
    assert coinr(x, skew=3.1)[1]["Pass0"] is True


def test_coinr_winsorises_the_largest_value_to_the_next() -> None:
    # COINr's own example (?Treat.numeric): 1..10, 30, 100 -> 100 becomes 30 and it passes
    x = series([*range(1, 11), 30, 100])
    out, d = coinr(x)
    expected = [*range(1, 11), 30, 30]
    assert out.tolist() == expected
    assert d["nwin"] == 1 and d["Pass1"] is True and d["logged"] is False
    assert (d["Skew0"], d["Kurt0"]) == pytest.approx(g1_g2(x), abs=1e-12)
    assert (d["Skew1"], d["Kurt1"]) == pytest.approx(g1_g2(expected), abs=1e-12)


def test_coinr_winsorises_the_smallest_value_when_skew_is_negative() -> None:
    x = series([-v for v in [*range(1, 11), 30, 100]])
    out, d = coinr(x)
    assert out.tolist() == [-v for v in [*range(1, 11), 30, 30]]
    assert d["Skew0"] < 0 and d["nwin"] == 1 and d["Pass1"] is True


def test_coinr_moves_tied_copies_together() -> None:
    x = series([*range(1, 21), 500, 500])
    out, d = coinr(x, winmax=5)
    assert out.tolist() == [*range(1, 21), 20, 20]
    assert d["nwin"] == 2  # both copies of 500, in one step


def test_coinr_one_point_at_a_time_rechecking() -> None:
    # 1000 -> 200 still fails (skew 2.92, kurtosis 7.57); then both 200s -> 60 passes
    x = series([*range(1, 21), 60, 200, 1000])
    out, d = coinr(x)
    assert out.tolist() == [*range(1, 21), 60, 60, 60]
    assert d["nwin"] == 2 and d["Pass1"] is True
    assert (d["Skew1"], d["Kurt1"]) == pytest.approx(g1_g2([*range(1, 21), 60, 60, 60]), abs=1e-12)


def test_coinr_log_fallback_transforms_the_original_values() -> None:
    # winmax = 1 is not enough: log_CT of the ORIGINAL values, log(x - min + 0.01 (max - min))
    original = [*range(1, 21), 60, 200, 1000]
    x = series(original)
    out, d = coinr(x, winmax=1)
    expected = np.log(np.array(original, dtype=float) - 1 + 0.01 * 999)
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=0, atol=1e-12)
    assert d["nwin"] == 1 and d["Pass1"] is False and d["logged"] is True
    assert (d["Skew2"], d["Kurt2"]) == pytest.approx(g1_g2(expected), abs=1e-12)
    assert d["Pass2"] == (abs(d["Skew2"]) < 2 or d["Kurt2"] < 3.5)


def test_coinr_without_log_fallback_keeps_the_winsorised_values() -> None:
    x = series([*range(1, 21), 60, 200, 1000])
    out, d = coinr(x, winmax=1, log_fallback=False)
    assert out.tolist() == [*range(1, 21), 60, 200, 200]
    assert d["Pass1"] is False and d["logged"] is False and "Pass2" not in d


def test_coinr_stops_at_winmax_counting_tied_points() -> None:
    # 6400 -> 3200 -> (3200, 3200) -> 1600 -> ... : nwin counts every replaced point
    x = series([*range(1, 31), 100, 200, 400, 800, 1600, 3200, 6400])
    out, d = coinr(x, winmax=5)
    assert out.tolist()[-7:] == [100, 200, 400, 400, 400, 400, 400]
    assert d["nwin"] == 4 and d["Pass1"] is True
    _, d3 = coinr(x, winmax=3)
    assert d3["nwin"] == 3 and d3["Pass1"] is False and d3["logged"] is True


def test_coinr_keeps_missing_values_missing_and_needs_four_values() -> None:
    x = series([*range(1, 11), 30, 100, np.nan])
    out, d = coinr(x)
    assert math.isnan(out.iloc[-1]) and out.iloc[-2] == 30 and d["nwin"] == 1
    flat = series([3.0] * 8)
    out, d = coinr(flat)
    pd.testing.assert_series_equal(out, flat)
    assert d["Pass0"] is None and "all values equal" in d["note"]
    # one step would leave a single value: winsorisation stops there, the log fallback applies
    binary = series([1.0] * 30 + [100.0])
    out, d = coinr(binary)
    assert d["nwin"] == 0 and d["Pass1"] is False and d["logged"] is True
    assert out.nunique() == 2 and out.iloc[-1] > out.iloc[0]
    short = series([1.0, 2.0, 100.0])
    out, d = coinr(short)
    pd.testing.assert_series_equal(out, short)
    assert d["Pass0"] is None and "too few" in d["note"]


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(
    st.lists(
        st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False).map(lambda v: round(v, 3)),
        min_size=5,
        max_size=40,
    )
)
def test_skew_and_kurtosis_are_the_bias_corrected_g1_g2(values: list[float]) -> None:
    v = np.array(values)
    if np.ptp(v) < 1e-3 * max(1.0, float(np.abs(v).max())):
        return  # (near-)constant: G1/G2 are 0/0
    sk, kt = skew_kurt(v)
    ref_sk, ref_kt = g1_g2(v)
    assert sk == pytest.approx(ref_sk, rel=1e-6, abs=1e-6)
    assert kt == pytest.approx(ref_kt, rel=1e-6, abs=1e-6)


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=4, max_size=40), st.integers(1, 6))
def test_coinr_laws(values: list[int], winmax: int) -> None:
    """Winsorisation only ever pulls extreme values in to existing values; at most `winmax`
    points change unless tied copies are moved together; nothing changes when it passes."""
    x = series([float(v) for v in values])
    out, d = coinr(x, winmax=winmax, log_fallback=False)
    changed = out != x
    if d["Pass0"]:
        assert not changed.any()
        return
    assert int(changed.sum()) == d["nwin"]
    assert set(out) <= set(x)
    assert out.min() >= x.min() and out.max() <= x.max()
    # order is kept: a unit never overtakes another
    assert (
        (
            np.sign(np.subtract.outer(out.to_numpy(), out.to_numpy()))
            * np.sign(np.subtract.outer(x.to_numpy(), x.to_numpy()))
        )
        >= 0
    ).all()


# --- quantile winsorisation, log, Box-Cox ------------------------------------------------
def test_winsorise_clips_to_type7_quantiles() -> None:
    x = series([float(v) for v in [*range(1, 20), 1000]])  # 20 values
    out, d = winsorise(x, lower=0.1, upper=0.9)
    # type 7: h = (n - 1) p; x_(h) interpolated: h = 1.9 -> 2 + 0.9·1 = 2.9; h = 17.1 -> 18.1
    lo, hi = d["lower_limit"], d["upper_limit"]
    assert lo == pytest.approx(2.9) and hi == pytest.approx(18.1)
    np.testing.assert_allclose(out, [2.9, 2.9, *range(3, 19), 18.1, 18.1])
    assert (d["n_low"], d["n_high"]) == (2, 2)


def test_log_variants() -> None:
    x = series([2.0, 3.0, 12.0])
    out, d = log(x)
    np.testing.assert_allclose(out, np.log([0.1, 1.1, 10.1]))  # x - 2 + 0.01·10
    assert d == {"variant": "ct"}
    np.testing.assert_allclose(log(x, variant="ct_orig")[0], np.log([1.0, 2.0, 11.0]))
    np.testing.assert_allclose(log(x, variant="plain")[0], np.log([2.0, 3.0, 12.0]))
    same = series([4.0, 4.0, 4.0])
    out, d = log(same)
    pd.testing.assert_series_equal(out, same)
    assert "all values equal" in d["note"]


def test_log_plain_needs_positive_values() -> None:
    with pytest.raises(EgovError) as err:
        log(series([3.0, 0.0, -1.0], name="visits"), variant="plain")
    msg = err.value.message
    assert "indicator 'visits'" in msg and "unit 'u01'" in msg and "(+1 more)" in msg and "ct" in msg


def with_lambda(value: float) -> dict[str, Any]:  # `lambda` is a keyword: passed as **
    return {"lambda": value}


def test_boxcox_with_a_given_lambda() -> None:
    x = series([1.0, 4.0, 9.0])
    out, d = boxcox(x, **with_lambda(0.5))
    np.testing.assert_allclose(out, [(1 - 1) / 0.5, (2 - 1) / 0.5, (3 - 1) / 0.5])
    assert d == {"lambda": 0.5, "shift": 0.0}
    np.testing.assert_allclose(boxcox(x, **with_lambda(0.0))[0], np.log([1.0, 4.0, 9.0]))


def test_boxcox_estimates_lambda_by_maximum_likelihood() -> None:
    rng = np.random.default_rng(3)
    x = series(list(np.round(rng.lognormal(2, 0.8, 40), 3)))
    out, d = boxcox(x)
    expected, lam = stats.boxcox(x.to_numpy())
    assert d["lambda"] == pytest.approx(lam)
    np.testing.assert_allclose(out, expected)
    # the estimate maximises the Box-Cox log-likelihood
    llf = stats.boxcox_llf(d["lambda"], x.to_numpy())
    assert llf >= stats.boxcox_llf(d["lambda"] + 0.05, x.to_numpy())
    assert llf >= stats.boxcox_llf(d["lambda"] - 0.05, x.to_numpy())


def test_boxcox_non_positive_values_error_or_shift() -> None:
    x = series([0.0, 1.0, 5.0, -2.0], name="queue_length")
    with pytest.raises(EgovError) as err:
        boxcox(x, **with_lambda(1.0))
    msg = err.value.message
    assert "indicator 'queue_length'" in msg and "Box-Cox needs values > 0" in msg
    assert "unit 'u00'" in msg and "shift = true" in msg
    out, d = boxcox(x, shift=True, **{"lambda": 1.0})
    np.testing.assert_allclose(out, [2.0, 3.0, 7.0, 0.0])  # (x - min + 1) - 1 with lambda 1
    assert d == {"lambda": 1.0, "shift": 3.0}
    with pytest.raises(EgovError, match="all values are equal"):
        boxcox(series([2.0, 2.0, 2.0], name="flat"))


# --- registry: parameters, defaults, documentation ---------------------------------------
def test_registry_defaults_and_parameter_checks() -> None:
    spec, problems = check_stage("treatment", "coinr")
    assert problems == []
    assert spec == {"method": "coinr", "winmax": 5, "skew": 2.0, "kurt": 3.5, "log_fallback": True}
    spec, _ = check_stage("treatment", "winsorise")
    assert spec == {"method": "winsorise", "lower": 0.05, "upper": 0.95}
    spec, _ = check_stage("treatment", {"method": "boxcox", "lambda": 0})
    assert spec == {"method": "boxcox", "lambda": 0.0, "shift": False}
    bad = [
        ({"method": "coinr", "winmax": 0}, "winmax", "must be > 0"),
        ({"method": "coinr", "winmax": 2.5}, "winmax", "whole number"),
        ({"method": "coinr", "skew": -1}, "skew", "must be > 0"),
        ({"method": "winsorise", "lower": 0.9, "upper": 0.1}, "upper", "greater than lower"),
        ({"method": "winsorise", "upper": 1.5}, "upper", "between 0 and 1"),
        ({"method": "log", "variant": "log10"}, "variant", "unknown log variant"),
        ({"method": "boxcox", "lambda": "mle"}, "lambda", "must be a number"),
        ({"method": "winsorize"}, "method", "unknown outlier treatment method"),
    ]
    for value, key, text in bad:
        spec, problems = check_stage("treatment", value)
        assert spec is None and any(k == key and text in m for k, m in problems), (value, problems)
    for name, method in TREATMENTS.items():
        assert method.doc, name
        if name != "none":
            assert method.source, name
        assert all(p.help for p in method.params.values()), name


def test_treat_rejects_an_infinite_result() -> None:
    with pytest.raises(EgovError, match="indicator 'x': boxcox treatment produced an infinite value"):
        treat(series([1.0, 2.0, 1e300]), {"method": "boxcox", "lambda": 3.0, "shift": False})


# --- through the engine: the treated stage, the flags and the treatment table ------------
def names(code: str) -> dict[str, str]:
    return {"zh-Hant": code, "pt": code, "en": code}


def indicator(**extra: Any) -> dict[str, Any]:
    return {"name": names("x"), "unit": "points", "direction": 1, "rationale": "synthetic", **extra}


BASE: dict[str, Any] = {
    "framework": {"code": "treat", "version": "1", "name": names("treat")},
    "categories": {
        "c1": {
            "name": names("c1"),
            "dimensions": {
                "d1": {"name": names("d1"), "indicators": {"skewed": indicator(), "normal": indicator()}},
                "d2": {"name": names("d2"), "indicators": {"low": indicator(), "flat": indicator()}},
            },
        }
    },
}


def framework(methods: dict[str, Any] | None = None) -> Framework:
    data = copy.deepcopy(BASE)
    if methods:
        data["methods"] = methods
    return build_framework(data, origin="fw.toml")


def data() -> pd.DataFrame:
    units = [f"u{i:02d}" for i in range(12)]
    return pd.DataFrame(
        {
            "skewed": [*range(1, 11), 30, 100],
            "normal": [5, 3, 8, 1, 9, 4, 6, 2, 7, 10, 11, 12],
            "low": [-v for v in [*range(1, 10), 30, 100, np.nan]],
            "flat": [3.0] * 12,
        },
        index=units,
        dtype=float,
    )


def test_engine_flags_exactly_the_changed_cells_and_reports_every_indicator() -> None:
    result = evaluate(data(), framework({"treatment": "coinr"}))
    treated, before = result.treated, result.imputed
    assert treated.loc["u11", "skewed"] == 30 and treated.loc["u10", "low"] == -30
    changed = (treated != before) & before.notna()
    pd.testing.assert_frame_equal(result.treated_mask, changed, check_names=False)
    assert result.treated_mask.to_numpy().sum() == 2
    flags = result.flags()
    assert flags.loc["u11", "skewed"] == "treated" and flags.loc["u10", "low"] == "treated"
    assert math.isnan(cast(float, treated.loc["u11", "low"]))  # missing stays missing
    table = result.treatment
    assert table.index.name == "indicator"
    assert sorted(table.index) == ["flat", "low", "normal", "skewed"]
    assert (table["method"] == "coinr").all()
    assert table.loc["skewed", "nwin"] == 1 and table.loc["low", "nwin"] == 1
    assert bool(table.loc["normal", "Pass0"]) and table.loc["normal", "nwin"] == 0
    assert {"Pass0", "Skew0", "Kurt0", "nwin", "Pass1", "Skew1", "Kurt1", "logged"} <= set(table.columns)
    assert "all values equal" in cast(str, table.loc["flat", "note"])
    assert any("indicator 'flat'" in w and "zero range" in w for w in result.warnings)


def test_engine_per_indicator_treatment_from_a_spec() -> None:
    spec = parse_spec(
        {
            "methods": {"treatment": "none"},
            "indicators": {"skewed": {"treatment": {"method": "winsorise", "lower": 0, "upper": 0.9}}},
        }
    )
    result = evaluate(data(), framework({"treatment": "coinr"}), spec)
    assert list(result.treatment.index) == ["skewed"]
    assert (
        result.treated_mask["skewed"].sum() == 2
        and not result.treated_mask.drop(columns="skewed").any().any()
    )
    assert result.treatment.loc["skewed", "n_high"] == 2


def test_engine_boxcox_error_names_the_indicator() -> None:
    with pytest.raises(EgovError) as err:
        evaluate(data(), framework({"treatment": "boxcox"}))
    assert "indicator 'low'" in err.value.message and "Box-Cox needs values > 0" in err.value.message
