"""Monte Carlo uncertainty and sensitivity (evaluation/uncertainty.py) and rating posterior
draws (surveys/uncertainty.py): the vectorised path against `evaluate`, probabilities,
determinism, tiers, and the Saltelli/Jansen estimators against analytic indices."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

from egov.errors import EgovError
from evaluation.engine import evaluate
from evaluation.sensitivity import sobol_indices
from evaluation.spec import EvaluationSpec
from evaluation.uncertainty import (
    monte_carlo,
    parse_alternatives,
    prob_above,
    tiers,
)
from indicators.framework import Framework, build_framework
from surveys.uncertainty import indicator_draws, posterior_draws

N_IND = 8
N_OBJ = 36
N_DEPT = 12


def _names(code: str) -> dict[str, str]:
    return {"zh-Hant": code, "pt": code, "en": code}


def _framework() -> Framework:
    """index → 2 categories → 2 dimensions each → 2 indicators each; ind7 is rating-derived,
    ind3 lower-is-better; uneven weights."""
    rng = np.random.default_rng(3)
    cats: dict[str, Any] = {}
    i = 0
    for c in range(2):
        dims: dict[str, Any] = {}
        for d in range(2):
            inds: dict[str, Any] = {}
            for _ in range(2):
                code = f"ind{i}"
                inds[code] = {
                    "name": _names(code),
                    "unit": "points",
                    "direction": -1 if i == 3 else 1,
                    "weight": float(rng.integers(1, 5)),
                    "rationale": "test",
                }
                if i == 7:
                    inds[code].update(source="rating", measure="share_satisfied")
                i += 1
            dims[f"dim{c}{d}"] = {"name": _names(f"dim{c}{d}"), "weight": float(d + 1), "indicators": inds}
        cats[f"cat{c}"] = {"name": _names(f"cat{c}"), "weight": float(c + 1), "dimensions": dims}
    return build_framework(
        {
            "framework": {"code": "toy", "version": "1", "name": _names("toy")},
            "index": {"code": "idx", "name": _names("idx")},
            "categories": cats,
        }
    )


def _inputs(missing: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    units = pd.DataFrame(
        {"department": [f"D{u % N_DEPT:02d}" for u in range(N_OBJ)]},
        index=pd.Index([f"o{u:02d}" for u in range(N_OBJ)], name="unit"),
    )
    quality = rng.normal(0, 1, N_DEPT)[np.arange(N_OBJ) % N_DEPT]
    wide = pd.DataFrame(
        {f"ind{i}": 50 + 10 * quality + rng.normal(0, 8, N_OBJ) for i in range(N_IND)}, index=units.index
    )
    if missing:
        mask = rng.random(wide.shape) < 0.08
        mask[:, 7] = False  # the rating-derived indicator is complete
        wide = wide.mask(mask)
    return wide, units


def _rating_draws(units: pd.DataFrame, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    counts = pd.DataFrame(
        rng.integers(0, 60, (len(units), 5)), index=units.index, columns=["n1", "n2", "n3", "n4", "n5"]
    )
    counts["offered"] = counts.sum(axis=1) * 3
    return indicator_draws(_framework(), posterior_draws(counts, n, seed=2, min_ratings=0))


FW = _framework()


def test_nominal_configuration_equals_evaluate() -> None:
    data, units = _inputs()
    res = monte_carlo(data, FW, None, units, n=10, seed=1, sensitivity_n=0)
    nominal = evaluate(data, FW, None, units)
    assert nominal.department_scores is not None and nominal.department_ranks is not None
    expected = nominal.department_scores["idx"]
    assert res.entity_type == "department"
    np.testing.assert_allclose(
        res.nominal_vectorised.to_numpy(), expected.reindex(res.nominal_vectorised.index), rtol=0, atol=1e-9
    )
    assert (res.summary["nominal_rank"] == nominal.department_ranks["idx"].reindex(res.summary.index)).all()
    assert not res.warnings or all("differ" not in w for w in res.warnings)
    # unit level: the same against the object scores
    unit_res = monte_carlo(data, FW, None, units, n=10, level="unit", sensitivity_n=0)
    np.testing.assert_allclose(
        unit_res.nominal_vectorised.to_numpy(),
        nominal.scores["idx"].reindex(unit_res.nominal_vectorised.index),
        atol=1e-9,
    )


def _config_framework(res: Any, r: int) -> Framework:
    """The framework with the weights replication r used (manual weighting)."""
    nodes = dict(FW.nodes)
    for _code, table in res.weights.items():
        for child, w in table.iloc[r].items():
            nodes[child] = dataclasses.replace(nodes[child], weight=float(w))
    return dataclasses.replace(FW, nodes=nodes)


def test_replications_agree_with_evaluate_on_the_sampled_configuration() -> None:
    data, units = _inputs()
    draws = _rating_draws(units)
    res = monte_carlo(
        data,
        FW,
        None,
        units,
        n=40,
        seed=5,
        weight_noise=0.4,
        normalisations=["minmax", "zscore", "rank"],
        aggregations=["arithmetic", "geometric"],
        imputations=["mean", "median"],
        rating_draws=draws,
        sensitivity_n=0,
    )
    s = res.samples
    assert set(s["normalisation"]) == {1, 2, 3} and set(s["aggregation"]) == {1, 2}
    assert set(s["imputation"]) == {1, 2} and (s["rating_draw"] >= 0).all()
    for r in range(6):
        row = s.iloc[r]
        methods = {
            "normalisation": res.alternatives["normalisation"][row["normalisation"]],
            "aggregation": res.alternatives["aggregation"][row["aggregation"]],
            "imputation": res.alternatives["imputation"][row["imputation"]],
        }
        wide = data.copy()
        wide["ind7"] = draws["ind7"].iloc[int(row["rating_draw"])].reindex(wide.index)
        got = evaluate(wide, _config_framework(res, r), EvaluationSpec(methods=methods), units)
        assert got.department_scores is not None
        np.testing.assert_allclose(
            res.scores.iloc[r].to_numpy(), got.department_scores["idx"].reindex(res.scores.columns), atol=1e-8
        )
        expected = got.department_ranks["idx"].reindex(res.ranks.columns)  # type: ignore[index]
        assert (res.ranks.iloc[r] == expected).all(), r


def test_probabilities_sum_to_one_and_tiers_follow_them() -> None:
    data, units = _inputs()
    res = monte_carlo(data, FW, None, units, n=200, normalisations=["minmax", "rank"], sensitivity_n=0)
    p, t = res.prob_above, res.prob_tie
    total = p + p.T + t
    np.testing.assert_allclose(total.to_numpy(), 1.0)
    assert ((p >= 0) & (p <= 1)).all().all() and (np.diag(p) == 0).all()
    s = res.table()
    assert (s["rank_p05"] <= s["median_rank"]).all() and (s["median_rank"] <= s["rank_p95"]).all()
    assert (s["mean_shift"] >= 0).all()
    # a new tier starts exactly where the one before is above with the confidence
    ents = list(s.index)
    for a, b in itertools.pairwise(ents):
        new = s.loc[b, "tier"] == s.loc[a, "tier"] + 1
        assert new == (p.loc[a, b] >= 0.95)
    assert s["tier"].iloc[0] == 1


def test_tiers_by_hand() -> None:
    ents = ["a", "b", "c", "d"]
    p = pd.DataFrame(0.0, index=ents, columns=ents)
    p.loc["a", "b"], p.loc["b", "c"], p.loc["c", "d"] = 0.99, 0.6, 0.97
    got = tiers(p, pd.Series([1.0, 2.0, 3.0, 4.0], index=ents), 0.95)
    assert got.tolist() == [1, 2, 2, 3]
    got = tiers(p, pd.Series([1.0, 2.0, 3.0, np.nan], index=ents), 0.95)
    assert got.iloc[:3].tolist() == [1, 2, 2] and np.isnan(got["d"])


def test_deterministic_with_a_seed() -> None:
    data, units = _inputs()
    kw: dict[str, Any] = {"n": 50, "normalisations": ["minmax", "rank"], "sensitivity_n": 20}
    a = monte_carlo(data, FW, None, units, seed=3, **kw)
    b = monte_carlo(data, FW, None, units, seed=3, **kw)
    c = monte_carlo(data, FW, None, units, seed=4, **kw)
    pd.testing.assert_frame_equal(a.ranks, b.ranks)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.sensitivity, b.sensitivity)
    assert not a.scores.equals(c.scores)


def test_one_uncertain_input_explains_everything() -> None:
    """With only the normalisation uncertain, f(A_B) = f(B): S1 ≈ ST ≈ 1."""
    data, units = _inputs(missing=False)
    res = monte_carlo(
        data, FW, None, units, n=400, weight_noise=0.0, normalisations=["minmax", "zscore", "rank"]
    )
    assert list(res.sensitivity.index) == ["normalisation"]
    row = res.sensitivity.loc["normalisation"]
    assert row["total_order"] == pytest.approx(1.0, abs=0.15)
    assert row["first_order"] == pytest.approx(1.0, abs=0.15)
    assert row["total_order_score"] == pytest.approx(1.0, abs=0.15)


def test_weight_inputs_and_sensitivity_tables() -> None:
    data, units = _inputs()
    res = monte_carlo(
        data,
        FW,
        None,
        units,
        n=60,
        weight_noise=0.3,
        normalisations=["minmax"],
        aggregations=["arithmetic", "geometric"],
    )
    assert {"aggregation", "weights:idx", "weights:cat0", "weights:dim00"} <= set(res.sensitivity.index)
    assert (res.sensitivity["total_order"].fillna(0) >= 0).all()
    assert set(res.sensitivity_by_entity["target"]) == {"score", "rank"}
    w = res.weights["dim00"]
    nominal = np.array([FW.nodes[c].weight for c in w.columns])
    ratio = w.to_numpy() / nominal
    assert ratio.min() >= 0.7 - 1e-12 and ratio.max() <= 1.3 + 1e-12


def _ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_estimators_on_the_ishigami_function() -> None:
    """Analytic indices of Ishigami & Homma (1990) with a = 7, b = 0.1 (Saltelli et al. 2008,
    Global Sensitivity Analysis: The Primer, §4.6): S = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244."""
    rng = np.random.default_rng(0)
    n = 40_000
    a, b = rng.uniform(-np.pi, np.pi, (n, 3)), rng.uniform(-np.pi, np.pi, (n, 3))
    f_ab = []
    for g in range(3):
        ab = a.copy()
        ab[:, g] = b[:, g]
        f_ab.append(_ishigami(ab)[:, None])
    first, total, var = sobol_indices(_ishigami(a)[:, None], _ishigami(b)[:, None], f_ab)
    np.testing.assert_allclose((first / var)[:, 0], [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose((total / var)[:, 0], [0.5576, 0.4424, 0.2437], atol=0.03)


def test_sobol_estimators_on_a_linear_model() -> None:
    """y = Σ w_i X_i, independent X_i: S_i = ST_i = w_i² var_i / Σ_j w_j² var_j."""
    rng = np.random.default_rng(1)
    w, sd = np.array([3.0, 1.0, 0.5]), np.array([1.0, 2.0, 1.0])
    n = 40_000
    a, b = rng.normal(0, sd, (n, 3)), rng.normal(0, sd, (n, 3))
    f_ab = []
    for g in range(3):
        ab = a.copy()
        ab[:, g] = b[:, g]
        f_ab.append((ab @ w)[:, None])
    first, total, var = sobol_indices((a @ w)[:, None], (b @ w)[:, None], f_ab)
    exact = w**2 * sd**2 / (w**2 * sd**2).sum()
    np.testing.assert_allclose((first / var)[:, 0], exact, atol=0.03)
    np.testing.assert_allclose((total / var)[:, 0], exact, atol=0.03)


def test_posterior_draws_centre_on_the_observed_shares() -> None:
    counts = pd.DataFrame(
        {
            "n1": [10, 0, 1],
            "n2": [10, 0, 1],
            "n3": [20, 0, 1],
            "n4": [30, 5, 1],
            "n5": [30, 5, 1],
            "offered": [400, 50, 10],
        },
        index=["A", "B", "C"],
    )
    d = posterior_draws(counts, 4000, seed=1, min_ratings=10)
    sat = d["share_satisfied"]
    # Dirichlet(1 + counts): posterior mean of p4 + p5 = (1 + 30 + 1 + 30) / (5 + 100)
    assert sat["A"].mean() == pytest.approx(62 / 105 * 100, abs=0.5)
    assert sat["C"].isna().all()  # 5 ratings < 10: insufficient, no draws
    assert d["mean_level"]["A"].between(1, 5).all()
    rate = d["response_rate"]["A"]
    assert rate.mean() == pytest.approx(101 / 402 * 100, abs=0.5)  # Beta(1 + 100, 1 + 300)
    assert (d["bad_share"]["A"] + sat["A"] <= 100 + 1e-9).all()
    with pytest.raises(EgovError):
        posterior_draws(counts.drop(columns="n5"), 10)


def test_alternatives_and_errors() -> None:
    alts = parse_alternatives("normalisation", "minmax,zscore:mean=5:sd=1,rank")
    assert alts[0] == {"method": "minmax", "lower": 1.0, "upper": 100.0}
    assert alts[1] == {"method": "zscore", "mean": 5.0, "sd": 1.0}
    with pytest.raises(EgovError):
        parse_alternatives("aggregation", "nosuch")
    data, units = _inputs()
    with pytest.raises(EgovError, match="not supported"):
        monte_carlo(data, FW, None, units, n=5, aggregations=["copeland"])
    with pytest.raises(EgovError, match="values > 0"):  # minmax [0, 100] has zeros
        monte_carlo(
            data, FW, None, units, n=20, normalisations=[{"method": "minmax"}], aggregations=["geometric"]
        )
    with pytest.raises(EgovError):
        monte_carlo(data, FW, None, units, n=5, weight_noise=1.5)


def test_pairs_with_a_missing_rank_count_for_neither() -> None:
    ranks = np.array([[1.0, 2.0, np.nan], [2.0, 1.0, 1.0], [1.0, 1.0, 3.0], [1.0, 3.0, 2.0]])
    p = prob_above(ranks, pd.Index(["a", "b", "c"])).to_numpy()
    np.testing.assert_allclose(p[0], [0.0, 0.5, 0.5])  # a above b in rows 0, 3; above c in rows 2, 3
    np.testing.assert_allclose(p[:, 2], [0.5, 0.25, 0.0])  # row 0 (c missing) counts for nobody
    np.testing.assert_allclose(p[2], [0.25, 0.25, 0.0])


def test_an_alternative_invalid_for_the_data_is_left_out_with_a_note() -> None:
    """Issue 18, point 5: `egov uncertainty`'s default alternatives work at every scale. One
    unit far below the others gives z-scores (mean 10, sd 2) below 0, which the geometric
    mean cannot take: the z-score alternative is left out with a note, not the whole run."""
    data, units = _inputs(missing=False)
    data.loc[data.index[0], "ind0"] = -1000.0  # z about -5.8: 10 + 2 z < 0
    norms = parse_alternatives("normalisation", "minmax,zscore,rank")  # `egov uncertainty`'s defaults
    aggs = parse_alternatives("aggregation", "arithmetic,geometric")
    res = monte_carlo(
        data, FW, None, units, n=50, seed=1, sensitivity_n=0, normalisations=norms, aggregations=aggs
    )
    assert res.settings["normalisations"] == ["minmax(lower=1, upper=100)", "rank"]
    assert res.settings["aggregations"] == ["arithmetic", "geometric"]
    assert [w for w in res.warnings if "left out" in w] == [
        "normalisation alternative zscore(mean=10, sd=2) left out: it gives values down to -1.649 "
        "for this data, and geometric needs values > 0"
    ]
    assert set(res.samples["normalisation"]) == {1, 2}
    assert res.summary["median_rank"].notna().all()

    # when every normalisation gives such values, the geometric mean is the one left out
    only_z = monte_carlo(
        data,
        FW,
        None,
        units,
        n=20,
        seed=1,
        sensitivity_n=0,
        normalisations=["zscore"],
        aggregations=["arithmetic", "geometric"],
    )
    assert only_z.settings["aggregations"] == ["arithmetic"]
    assert any(w.startswith("aggregation alternative geometric left out") for w in only_z.warnings)


def test_treatment_alternatives_are_the_engines_treatment() -> None:
    """Outlier treatment as an uncertain input (COINr's `get_sensitivity` example samples the
    winsorisation points): each replication scores as `evaluate` with its treatment."""
    data, units = _inputs()
    treatments = [{"method": "winsorise", "lower": 0.1, "upper": 0.9}, "none"]
    res = monte_carlo(
        data, FW, None, units, n=30, seed=2, weight_noise=0.0, imputations=["mean"], treatments=treatments
    )
    s = res.samples
    assert set(s["treatment"]) == {1, 2}
    assert "treatment" in set(res.sensitivity.index)
    for r in range(4):
        methods = {
            "treatment": res.alternatives["treatment"][s["treatment"].iloc[r]],
            "imputation": {"method": "mean"},
        }
        got = evaluate(data, FW, EvaluationSpec(methods=methods), units)
        assert got.department_scores is not None
        np.testing.assert_allclose(
            res.scores.iloc[r].to_numpy(), got.department_scores["idx"].reindex(res.scores.columns), atol=1e-8
        )
