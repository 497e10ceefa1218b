"""Weighting methods: AHP against published textbook examples, entropy, PCA, budget
allocation, manual and equal; parameter checks at framework-check time and the clear run-time
errors (wrong number of children, inconsistent judgements) naming the node."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egov.errors import EgovError
from evaluation.registry import check_stage
from evaluation.weights import (
    RANDOM_INDEX,
    WEIGHTINGS,
    ahp,
    ahp_priorities,
    budget,
    consistency_ratio,
    entropy,
    equal,
    manual,
    pca,
    weigh,
)


def _matrix(rows: list[list[str | int]]) -> list[list[float]]:
    return [[float(Fraction(str(v))) for v in row] for row in rows]


# --- AHP: published examples -----------------------------------------------------------------
# Saaty, T. L. (1990). How to make a decision: the Analytic Hierarchy Process. European
# Journal of Operational Research 48: 9–26, the house example: eight criteria (size of house,
# transportation, neighbourhood, age, yard space, modern facilities, general condition,
# financing); published priority vector .173 .054 .188 .018 .031 .036 .167 .333,
# lambda_max = 9.669, C.I. = 0.238, C.R. = 0.169 (> 0.1: an inconsistent set of judgements).
HOUSE = _matrix(
    [
        [1, 5, 3, 7, 6, 6, "1/3", "1/4"],
        ["1/5", 1, "1/3", 5, 3, 3, "1/5", "1/7"],
        ["1/3", 3, 1, 6, 3, 4, 6, "1/5"],
        ["1/7", "1/5", "1/6", 1, "1/3", "1/4", "1/7", "1/8"],
        ["1/6", "1/3", "1/3", 3, 1, "1/2", "1/5", "1/6"],
        ["1/6", "1/3", "1/4", 4, 2, 1, "1/5", "1/6"],
        [3, 5, "1/6", 7, 5, 5, 1, "1/2"],
        [4, 7, 5, 8, 6, 6, 2, 1],
    ]
)
HOUSE_WEIGHTS = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]

# Saaty, T. L. (2008). Decision making with the analytic hierarchy process. International
# Journal of Services Sciences 1(1): 83–98, "Which drink is consumed more in the U.S.?"
# (coffee, wine, tea, beer, sodas, milk, water): derived priorities
# .177 .019 .042 .116 .190 .129 .327 (actual consumption .180 .010 .040 .120 .180 .140 .330),
# C.R. = 0.022.
DRINKS = _matrix(
    [
        [1, 9, 5, 2, 1, 1, "1/2"],
        ["1/9", 1, "1/3", "1/9", "1/9", "1/9", "1/9"],
        ["1/5", 3, 1, "1/3", "1/4", "1/3", "1/9"],
        ["1/2", 9, 3, 1, "1/2", 1, "1/3"],
        [1, 9, 4, 2, 1, 2, "1/2"],
        [1, 9, 3, 1, "1/2", 1, "1/3"],
        [2, 9, 9, 3, 2, 3, 1],
    ]
)
DRINKS_WEIGHTS = [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]

# Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill, ch. 2 (after Saaty &
# Khouja (1976)), the relative wealth of nations (US, USSR, China, France, UK, Japan,
# West Germany): priorities .427 .230 .021 .052 .052 .123 .094, lambda_max = 7.61.
WEALTH = _matrix(
    [
        [1, 4, 9, 6, 6, 5, 5],
        ["1/4", 1, 7, 5, 5, 3, 4],
        ["1/9", "1/7", 1, "1/5", "1/5", "1/7", "1/5"],
        ["1/6", "1/5", 5, 1, 1, "1/3", "1/3"],
        ["1/6", "1/5", 5, 1, 1, "1/3", "1/3"],
        ["1/5", "1/3", 7, 3, 3, 1, 2],
        ["1/5", "1/4", 5, 3, 3, "1/2", 1],
    ]
)
WEALTH_WEIGHTS = [0.427, 0.230, 0.021, 0.052, 0.052, 0.123, 0.094]


def test_saaty_1990_house_example() -> None:
    res = ahp_priorities(HOUSE)
    np.testing.assert_allclose(res.weights, HOUSE_WEIGHTS, atol=5e-4)
    assert round(res.lambda_max, 3) == 9.669
    assert round(res.ci, 3) == 0.238
    assert round(res.cr, 3) == 0.169
    assert round(consistency_ratio(HOUSE), 3) == 0.169
    assert abs(res.weights.sum() - 1) < 1e-12


def test_saaty_2008_drinks_example() -> None:
    res = ahp_priorities(DRINKS)
    np.testing.assert_allclose(res.weights, DRINKS_WEIGHTS, atol=5e-4)
    assert round(res.cr, 3) == 0.022
    assert res.cr <= 0.1


def test_saaty_1980_wealth_of_nations_example() -> None:
    res = ahp_priorities(WEALTH)
    np.testing.assert_allclose(res.weights, WEALTH_WEIGHTS, atol=5e-4)
    assert round(res.lambda_max, 2) == 7.61
    assert res.cr <= 0.1


def test_random_index_is_saatys_table() -> None:
    # Saaty (1980) table 1.7
    assert [RANDOM_INDEX[n] for n in range(1, 11)] == [0, 0, 0.58, 0.9, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(st.lists(st.floats(0.05, 20), min_size=1, max_size=12))
def test_consistent_matrix_gives_back_its_weights(w: list[float]) -> None:
    """a_ij = w_i / w_j is perfectly consistent: the eigenvector is w, lambda_max = n, CR = 0
    (Saaty 1977, theorem 1)."""
    a = [[wi / wj for wj in w] for wi in w]
    res = ahp_priorities(a)
    np.testing.assert_allclose(res.weights, np.array(w) / sum(w), rtol=1e-9)
    assert abs(res.lambda_max - len(w)) < 1e-9
    assert res.cr < 1e-9


def test_two_by_two_is_always_consistent() -> None:
    res = ahp_priorities([[1, 3], [1 / 3, 1]])
    np.testing.assert_allclose(res.weights, [0.75, 0.25])
    assert res.cr == 0
    assert ahp_priorities([[1]]).weights.tolist() == [1.0]


def test_rounded_reciprocals_are_accepted_and_reconciled() -> None:
    exact = ahp_priorities(_matrix([[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]]))
    rounded = ahp_priorities([[1, 3, 5], [0.33, 1, 3], [0.2, 0.33, 1]])
    np.testing.assert_allclose(rounded.weights, exact.weights, atol=2e-3)


# --- AHP: parameter checks (framework check) and run-time errors ------------------------------
@pytest.mark.parametrize(
    ("matrix", "fragment"),
    [
        ([[1, 2, 3], [0.5, 1, 2]], "must be square"),
        ([[1, -2], [-0.5, 1]], "must be > 0"),
        ([[1, 3], [3, 1]], "must be reciprocal: row 1, column 2 is 3"),
        ([[2, 3], [1 / 3, 1]], "diagonal entries must be 1"),
        ([[1.0] * 16 for _ in range(16)], "stops at 15"),
        (HOUSE, "CR = 0.169 > max_cr = 0.1"),
    ],
    ids=["not square", "not positive", "not reciprocal", "diagonal", "too big", "inconsistent"],
)
def test_bad_ahp_matrix_is_reported_with_its_key(matrix: list[list[float]], fragment: str) -> None:
    spec, problems = check_stage("weighting", {"method": "ahp", "matrix": matrix})
    assert spec is None
    assert problems and all(key == "matrix" for key, _ in problems)
    assert any(fragment in msg for _, msg in problems), problems


def test_ahp_needs_a_matrix_and_checks_its_options() -> None:
    assert check_stage("weighting", "ahp")[1] == [("matrix", "required by method 'ahp'")]
    _, problems = check_stage("weighting", {"method": "ahp", "matrix": [[1]], "max_cr": -1})
    assert problems == [("max_cr", "must be > 0")]
    _, problems = check_stage("weighting", {"method": "ahp", "matrix": [[1, "a"], [1, 1]]})
    assert problems and problems[0][0] == "matrix"


def test_inconsistent_judgements_allowed_explicitly_or_with_a_higher_limit() -> None:
    for extra in ({"allow_inconsistent": True}, {"max_cr": 0.2}):
        spec, problems = check_stage("weighting", {"method": "ahp", "matrix": HOUSE, **extra})
        assert not problems and spec is not None
        w = weigh(pd.DataFrame(), pd.Series(1.0, index=list("abcdefgh")), spec)
        np.testing.assert_allclose(w.to_numpy(), HOUSE_WEIGHTS, atol=5e-4)


def test_ahp_function_errors_name_the_children_and_the_cr() -> None:
    children = pd.Series(1.0, index=list("abcdefgh"))
    with pytest.raises(
        EgovError, match=r"a, b, c, d, e, f, g, h are inconsistent: consistency ratio CR = 0\.169"
    ):
        ahp(pd.DataFrame(), children, matrix=HOUSE)
    with pytest.raises(
        EgovError, match=r"3 rows but the aggregate has 8 children \(a, b, c, d, e, f, g, h\)"
    ):
        ahp(pd.DataFrame(), children, matrix=[[1, 1, 1]] * 3)


FRAMEWORK = """
[framework]
code = "ahp_test"
version = "1"
name = {{ zh-Hant = "測", pt = "Teste", en = "Test" }}

[categories.a]
name = {{ zh-Hant = "甲", pt = "A", en = "A" }}
weighting = {weighting}
{indicators}
[categories.b]
name = {{ zh-Hant = "乙", pt = "B", en = "B" }}
[categories.b.indicators.w]
name = {{ zh-Hant = "w", pt = "w", en = "w" }}
unit = "%"
direction = 1
rationale = "test"
"""


def _framework_text(weighting: str, codes: str = "xyz") -> str:
    blocks = "".join(
        f'[categories.a.indicators.{c}]\nname = {{ zh-Hant = "{c}", pt = "{c}", en = "{c}" }}\n'
        f'unit = "%"\ndirection = 1\nrationale = "test"\n'
        for c in codes
    )
    return FRAMEWORK.format(weighting=weighting, indicators=blocks)


DATA = pd.DataFrame(
    {
        "x": [1.0, 2.0, 3.0, 4.0],
        "y": [4.0, 1.0, 2.0, 3.0],
        "z": [2.0, 3.0, 1.0, 5.0],
        "w": [1.0, 2.0, 3.0, 4.0],
    },
    index=pd.Index(["u1", "u2", "u3", "u4"], name="unit"),
)


def test_ahp_from_the_framework_file_end_to_end() -> None:
    from evaluation.engine import evaluate
    from indicators.framework import parse_framework

    fw = parse_framework(
        _framework_text('{ method = "ahp", matrix = [[1, 3, 5], [0.3333, 1, 3], [0.2, 0.3333, 1]] }')
    )
    res = evaluate(DATA, fw)
    expected = ahp_priorities([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]).weights
    np.testing.assert_allclose(res.weights["a"].to_numpy(), expected, atol=1e-4)
    # effective weights: the category's half times the AHP share
    np.testing.assert_allclose(res.effective_weights[["x", "y", "z"]].to_numpy(), expected / 2, atol=1e-4)
    norm = (
        (DATA[["x", "y", "z"]] - DATA[["x", "y", "z"]].min())
        / (DATA[["x", "y", "z"]].max() - DATA[["x", "y", "z"]].min())
        * 100
    )
    np.testing.assert_allclose(res.scores["a"].to_numpy(), (norm * res.weights["a"]).sum(axis=1), atol=1e-9)


def test_ahp_matrix_of_the_wrong_size_is_an_error_naming_the_node() -> None:
    from evaluation.engine import EvaluationSpec, evaluate
    from indicators.framework import parse_framework

    # in the framework file: caught when the file is read, with its key path
    with pytest.raises(EgovError) as err:
        parse_framework(_framework_text('{ method = "ahp", matrix = [[1, 2], [0.5, 1]] }'))
    assert any(p.startswith("categories.a.weighting.matrix:") for p in err.value.problems)
    # in a run-time spec (which does not know the tree): caught by the engine, naming the node
    fw = parse_framework(_framework_text('"equal"'))
    spec = EvaluationSpec(
        aggregates={"a": {"weighting": {"method": "ahp", "matrix": [[1.0, 2.0], [0.5, 1.0]]}}}
    )
    with pytest.raises(EgovError) as err:
        evaluate(DATA, fw, spec)
    assert "weighting 'a' (ahp)" in err.value.message
    assert "2 rows but the aggregate has 3 children (x, y, z)" in err.value.message


def test_framework_check_reports_an_inconsistent_ahp_matrix_with_its_key_path(egov, tmp_path: Path) -> None:
    rows = ", ".join("[" + ", ".join(f"{v!r}" for v in row) + "]" for row in HOUSE)
    path = tmp_path / "fw.toml"
    path.write_text(_framework_text(f'{{ method = "ahp", matrix = [{rows}] }}', "abcdefgh"), encoding="utf-8")
    result = egov(["framework", "check", path])
    assert result.code == 1
    assert "Traceback" not in result.err + result.out
    assert "categories.a.weighting.matrix: the AHP pairwise comparisons" in result.err
    assert "CR = 0.169 > max_cr = 0.1" in result.err


def test_spec_file_can_set_ahp_per_aggregate(egov, tmp_path: Path) -> None:
    fw = tmp_path / "fw.toml"
    fw.write_text(_framework_text('"equal"'), encoding="utf-8")
    DATA.to_csv(tmp_path / "d.csv")
    spec = tmp_path / "spec.toml"
    spec.write_text('[aggregates.a]\nweighting = { method = "ahp", matrix = [[1, 2], [0.5, 1]] }\n')
    r = egov(["evaluate", fw, tmp_path / "d.csv", "--out", tmp_path / "o", "--spec", spec])
    assert r.code == 1
    assert "weighting 'a' (ahp)" in r.err and "has 3 children (x, y, z)" in r.err
    spec.write_text(
        '[aggregates.a]\nweighting = { method = "ahp", matrix = [[1, 3, 1], [1, 1, 3], [1, 1, 1]] }\n'
    )
    r = egov(["evaluate", fw, tmp_path / "d.csv", "--out", tmp_path / "o", "--spec", spec])
    assert r.code == 1
    assert "aggregates.a.weighting.matrix: must be reciprocal" in r.err


# --- entropy -------------------------------------------------------------------------------
def test_entropy_by_hand() -> None:
    """Shannon entropy weights (Hwang & Yoon 1981 §3.1), computed by hand."""
    values = pd.DataFrame({"a": [1.0, 1.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0, 4.0], "c": [0.0, 0.0, 0.0, 8.0]})
    w = entropy(values, pd.Series(1.0, index=list("abc")))
    p = np.array([1, 2, 3, 4]) / 10
    d_b = 1 + (p * np.log(p)).sum() / np.log(4)
    d_c = 1.0  # all in one unit: entropy 0
    np.testing.assert_allclose(w.to_numpy(), [0.0, d_b / (d_b + d_c), d_c / (d_b + d_c)])
    assert abs(w.sum() - 1) < 1e-12


def test_entropy_skips_missing_values_and_handles_no_variation() -> None:
    values = pd.DataFrame({"a": [1.0, np.nan, 1.0], "b": [2.0, 2.0, np.nan]})
    w = entropy(values, pd.Series(1.0, index=["a", "b"]))
    assert w.tolist() == [0.5, 0.5]  # nothing varies: equal weights


def test_entropy_needs_non_negative_values() -> None:
    values = pd.DataFrame({"a": [1.0, -1.0], "b": [1.0, 2.0]})
    with pytest.raises(EgovError, match=r"values >= 0.*negative values in: a"):
        entropy(values, pd.Series(1.0, index=["a", "b"]))


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100)), min_size=2, max_size=20),
    st.floats(0.1, 1000),
)
def test_entropy_weights_sum_to_one_and_ignore_the_scale(rows: list[tuple[float, ...]], k: float) -> None:
    values = pd.DataFrame(rows, columns=list("abc"))
    w = entropy(values, pd.Series(1.0, index=list("abc")))
    assert abs(w.sum() - 1) < 1e-9 and (w >= 0).all()
    np.testing.assert_allclose(entropy(values * k, pd.Series(1.0, index=list("abc"))), w, atol=1e-9)


# --- PCA -----------------------------------------------------------------------------------
def test_pca_is_the_first_rotation_of_centred_scaled_data() -> None:
    """As R's prcomp(x, center = TRUE, scale = TRUE)$rotation[, 1] (COINr get_PCA): the first
    right singular vector of the standardised data, sign fixed to a positive sum."""
    rng = np.random.default_rng(7)
    f = rng.normal(size=60)
    x = pd.DataFrame({"a": f + rng.normal(scale=0.5, size=60), "b": 2 * f + rng.normal(size=60)})
    x["c"] = -0.3 * f + rng.normal(size=60)
    x.loc[3, "b"] = np.nan  # complete cases only
    z = x.dropna()
    z = (z - z.mean()) / z.std()
    v = np.linalg.svd(z.to_numpy(), full_matrices=False)[2][0]
    v = v * np.sign(v.sum())
    w = pca(x, pd.Series(1.0, index=list("abc")))
    np.testing.assert_allclose(w.to_numpy(), v, atol=1e-10)
    assert w["c"] < 0 < w["a"]  # loadings keep their sign (COINr)
    sq = pca(x, pd.Series(1.0, index=list("abc")), squared=True)
    np.testing.assert_allclose(sq.to_numpy(), v**2, atol=1e-10)
    assert abs(sq.sum() - 1) < 1e-12


def test_pca_errors_name_the_problem() -> None:
    few = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, np.nan]})
    with pytest.raises(EgovError, match="at least 2 units with values for every child \\(a, b\\); 1 have"):
        pca(few, pd.Series(1.0, index=["a", "b"]))
    flat = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    with pytest.raises(EgovError, match=r"no variation .* in: b"):
        pca(flat, pd.Series(1.0, index=["a", "b"]))


# --- budget, manual, equal -----------------------------------------------------------------
def test_budget_allocation_averages_the_assessors_shares() -> None:
    """OECD/JRC Handbook (2008) §6.1.6: experts distribute a budget of points."""
    w = budget(pd.DataFrame(), pd.Series(1.0, index=list("abc")), allocations=[[50, 30, 20], [40, 40, 20]])
    np.testing.assert_allclose(w.to_numpy(), [0.45, 0.35, 0.20])
    # an assessor who spent 10 points counts as much as one who spent 100
    w = budget(pd.DataFrame(), pd.Series(1.0, index=["a", "b"]), allocations=[[5, 5], [100, 0]])
    np.testing.assert_allclose(w.to_numpy(), [0.75, 0.25])


def test_budget_errors() -> None:
    with pytest.raises(EgovError, match="2 entries but the aggregate has 3 children \\(a, b, c\\)"):
        budget(pd.DataFrame(), pd.Series(1.0, index=list("abc")), allocations=[[1, 2]])
    assert check_stage("weighting", {"method": "budget", "allocations": [[1, -1]]})[1] == [
        ("allocations", "assessor 1: points must be >= 0")
    ]
    assert check_stage("weighting", {"method": "budget", "allocations": [[1, 1], [0, 0]]})[1] == [
        ("allocations", "assessor 2: allocates no points")
    ]
    assert (
        check_stage("weighting", {"method": "budget", "allocations": [[1, 1], [1]]})[1][0][0] == "allocations"
    )


def test_manual_and_equal() -> None:
    written = pd.Series([1.0, 3.0], index=["a", "b"])
    assert manual(pd.DataFrame(), written).tolist() == [1.0, 3.0]
    assert equal(pd.DataFrame(), written).tolist() == [1.0, 1.0]


def test_every_weighting_is_documented_with_a_source() -> None:
    assert set(WEIGHTINGS) == {"manual", "equal", "ahp", "entropy", "pca", "budget"}
    for name, method in WEIGHTINGS.items():
        assert method.doc, name
        assert method.source or name == "manual", name


@pytest.mark.parametrize("method", ["entropy", "pca", "budget", "equal"])
def test_data_driven_weightings_run_in_the_engine(method: str) -> None:
    from evaluation.engine import evaluate
    from indicators.framework import parse_framework

    spec = (
        '{ method = "budget", allocations = [[2, 1, 1], [1, 1, 2]] }' if method == "budget" else f'"{method}"'
    )
    res = evaluate(DATA, parse_framework(_framework_text(spec)))
    w = res.weights["a"]
    assert list(w.index) == ["x", "y", "z"] and np.isfinite(w.to_numpy()).all()
    assert abs(res.effective_weights[["x", "y", "z"]].sum() - 0.5) < 1e-12
