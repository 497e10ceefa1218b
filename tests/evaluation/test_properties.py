"""Laws of the evaluation engine, stated as property tests (hypothesis; DESIGN.md §8).

- a better value never lowers a score (arithmetic and geometric aggregation, every node);
- normalisations are invariant to the positive affine maps the mathematics says they are
  (OECD/JRC Handbook (2008) §5: min-max, z-score, ranks and distances depend only on the
  relative position of the values; a fraction of the maximum only on their ratios);
- weights renormalise to 1 (per aggregate, and the effective weights of the indicators);
- ranks agree with scores (1 is best, ties share the lowest rank number);
- imputation changes only missing cells, and the flags mark exactly the changed cells.

Every test is deterministic (derandomised, no example database) and the data are seeded.
The framework is built in code: index → 2 categories → 4 dimensions → 9 indicators, two of
them lower-is-better.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evaluation.engine import EvaluationResult, evaluate
from evaluation.normalise import normalise
from evaluation.rank import rank_desc, tie_key
from evaluation.registry import STAGES, check_stage
from evaluation.spec import parse_spec
from indicators.framework import Framework, build_framework

PROPS = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ENGINE = settings(PROPS, max_examples=15)  # each example runs `evaluate` (~10–40 ms) once or twice

# dimension → {indicator: direction}
TREE: dict[str, dict[str, dict[str, int]]] = {
    "c1": {"d1": {"i1": 1, "i2": 1, "i3": -1}, "d2": {"i4": 1, "i5": 1}},
    "c2": {"d3": {"i6": 1, "i7": -1}, "d4": {"i8": 1, "i9": 1}},
}
INDICATORS = [i for dims in TREE.values() for inds in dims.values() for i in inds]
DIRECTION = {i: d for dims in TREE.values() for inds in dims.values() for i, d in inds.items()}
AGGREGATES = ["index", *TREE, *(d for dims in TREE.values() for d in dims)]
UNITS = [f"u{i:02d}" for i in range(1, 16)]


def names(code: str) -> dict[str, str]:
    return {"zh-Hant": code, "pt": code, "en": code}


def framework_data(
    weights: dict[str, float] | None = None, methods: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Framework file contents (as parsed from TOML) with optional weights per node code."""
    w = weights or {}
    categories: dict[str, Any] = {}
    for ccode, dims in TREE.items():
        dimensions: dict[str, Any] = {}
        for dcode, inds in dims.items():
            dimensions[dcode] = {
                "name": names(dcode),
                "weight": w.get(dcode, 1.0),
                "indicators": {
                    icode: {
                        "name": names(icode),
                        "unit": "points",
                        "direction": direction,
                        "weight": w.get(icode, 1.0),
                        "rationale": "synthetic",
                    }
                    for icode, direction in inds.items()
                },
            }
        categories[ccode] = {"name": names(ccode), "weight": w.get(ccode, 1.0), "dimensions": dimensions}
    return {
        "framework": {"code": "props", "version": "1", "name": names("props")},
        "methods": methods or {},
        "categories": categories,
    }


def make_framework(
    weights: dict[str, float] | None = None, methods: dict[str, Any] | None = None
) -> Framework:
    return build_framework(framework_data(weights, methods), origin="<props>")


FW = make_framework()


def make_data(seed: int, missing: float = 0.0, ties: bool = False) -> pd.DataFrame:
    """Seeded units × indicators table; `missing` = share of cells blanked (never a whole
    row or column); `ties` draws small integers so that equal values are common."""
    rng = np.random.default_rng(seed)
    shape = (len(UNITS), len(INDICATORS))
    values = rng.integers(0, 4, shape).astype(float) if ties else np.round(rng.uniform(0, 1000, shape), 3)
    wide = pd.DataFrame(values, index=pd.Index(UNITS, name="unit"), columns=INDICATORS)
    if missing:
        blank = rng.random(shape) < missing
        blank[:, 0] = False  # every unit keeps a value, every indicator keeps values
        blank[0, :] = False
        wide = wide.mask(blank)
    if not ties:  # keep every indicator with a non-zero range
        wide.iloc[0] = 0.0
        wide.iloc[1] = 1000.0
    return wide


def spec(data: dict[str, Any]) -> Any:
    return parse_spec(data, origin="<test>")


ARITHMETIC = {"methods": {"aggregation": "arithmetic"}}
GEOMETRIC = {
    "methods": {
        "aggregation": "geometric",
        "normalisation": {"method": "minmax", "lower": 1, "upper": 100},
    }
}


# --- a better value never lowers a score -------------------------------------------------------
@ENGINE
@given(
    seed=st.integers(0, 2**32 - 1),
    unit=st.sampled_from(UNITS),
    code=st.sampled_from(INDICATORS),
    step=st.floats(min_value=1e-3, max_value=5_000),
    how=st.sampled_from(["arithmetic", "geometric"]),
    missing=st.sampled_from([0.0, 0.15]),
)
def test_improving_an_indicator_never_lowers_any_score_of_that_unit(
    seed: int, unit: str, code: str, step: float, how: str, missing: float
) -> None:
    """Improving = raising a higher-is-better value, lowering a lower-is-better one. Only the
    unit's own indicator changes, so its score at every node (indicator, dimension,
    category, index) can only go up: min-max is monotone in the unit's own value and the
    weighted means are monotone in every argument. # OECD/JRC Handbook (2008) §6."""
    wide = make_data(seed, missing)
    assume(pd.notna(cast(float, wide.loc[unit, code])))
    s = spec(ARITHMETIC if how == "arithmetic" else GEOMETRIC)
    before = evaluate(wide, FW, s)
    better = wide.copy()
    better.loc[unit, code] = cast(float, better.loc[unit, code]) + step * DIRECTION[code]
    after = evaluate(better, FW, s)
    assert before.warnings == [] and after.warnings == []
    diff = cast(pd.Series, after.scores.loc[unit]) - cast(pd.Series, before.scores.loc[unit])
    worse = diff[diff < -1e-9 * (1 + cast(pd.Series, before.scores.loc[unit]).abs())]
    assert worse.empty, f"{how}: improving {code} of {unit} lowered {dict(worse)}"
    if how == "geometric":
        assert (after.scores.min() >= 1 - 1e-9).all()  # the [1, 100] scale keeps logs defined


# --- invariance of the normalisations ---------------------------------------------------------
# Integer-valued data keep ties exact under a·x + b; a and b are chosen so that a·x + b stays
# far from the float resolution (distinct values stay distinct, equal ones equal).
ints = st.lists(st.integers(-1_000, 1_000), min_size=3, max_size=25)
scales = st.sampled_from([0.01, 0.5, 1.0, 2.0, 3.0, 7.25, 1_000.0])
shifts = st.sampled_from([-5_000.0, -12.5, 0.0, 3.0, 250.0, 1e4])
directions = st.sampled_from([1, -1])

AFFINE_INVARIANT = [
    "minmax",
    {"method": "minmax", "lower": 1, "upper": 100},
    {"method": "zscore", "mean": 10, "sd": 2},
    "rank",
    "percentile",
    "distance_to_max",
]


def norm(x: pd.Series, method: Any, direction: int) -> pd.Series:
    canonical, problems = check_stage("normalisation", method)
    assert not problems and canonical is not None
    return normalise(x, canonical, direction)


def close(a: pd.Series, b: pd.Series) -> None:
    assert a.index.equals(b.index)
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-9)


@PROPS
@given(xs=ints, a=scales, b=shifts, direction=directions, method=st.sampled_from(AFFINE_INVARIANT))
def test_normalisations_invariant_to_positive_scaling_and_shifts(
    xs: list[int], a: float, b: float, direction: int, method: Any
) -> None:
    """minmax, zscore, rank, percentile and distance_to_max depend only on the position of a
    value between the others: f(a·x + b) = f(x) for every a > 0 and every b."""
    assume(len(set(xs)) > 1)
    x = pd.Series(xs, index=[f"u{i}" for i in range(len(xs))], dtype=float)
    close(norm(a * x + b, method, direction), norm(x, method, direction))


@PROPS
@given(
    xs=st.lists(st.integers(1, 1_000), min_size=2, max_size=25),
    a=scales,
)
def test_fraction_of_max_invariant_to_positive_scaling_only(xs: list[int], a: float) -> None:
    """x / max(x) is invariant to a·x (a > 0) — but not to a shift, see the next test."""
    x = pd.Series(xs, dtype=float)
    close(norm(a * x, "fraction_of_max", 1), norm(x, "fraction_of_max", 1))


def test_fraction_of_max_is_not_invariant_to_shifts() -> None:
    """The one method here whose result a shift changes: (x + b) / max(x + b) ≠ x / max(x)."""
    x = pd.Series([1.0, 2.0, 4.0])
    assert norm(x, "fraction_of_max", 1).tolist() == [25.0, 50.0, 100.0]
    assert norm(x + 4, "fraction_of_max", 1).tolist() == [62.5, 75.0, 100.0]


@PROPS
@given(xs=ints, a=scales, b=shifts, direction=directions, clip=st.booleans())
def test_goalposts_invariant_when_the_goalposts_move_with_the_data(
    xs: list[int], a: float, b: float, direction: int, clip: bool
) -> None:
    """(x - min) / (max - min) with fixed goalposts: invariant when the goalposts are mapped
    by the same a·x + b (a change of units, e.g. per cent to share)."""
    x = pd.Series(xs, dtype=float)
    lo, hi = -500.0, 600.0
    base = norm(x, {"method": "goalposts", "min": lo, "max": hi, "clip": clip}, direction)
    moved = norm(
        a * x + b, {"method": "goalposts", "min": a * lo + b, "max": a * hi + b, "clip": clip}, direction
    )
    close(moved, base)


@PROPS
@given(xs=ints, a=scales, b=shifts, direction=directions, cap=st.booleans())
def test_distances_to_a_reference_or_target_invariant_when_it_moves_with_the_data(
    xs: list[int], a: float, b: float, direction: int, cap: bool
) -> None:
    """1 - (ref - x)/(ref - min) and (x - min)/(target - min) depend only on positions."""
    x = pd.Series(xs, index=[f"u{i}" for i in range(len(xs))], dtype=float)
    ref = x.index[len(xs) // 2]
    worst = x.min() if direction > 0 else x.max()
    assume(x[ref] != worst)
    by_ref = {"method": "distance_to_reference", "unit": ref, "cap": cap}
    close(norm(a * x + b, by_ref, direction), norm(x, by_ref, direction))
    target = 1_500.0 * direction
    base = norm(x, {"method": "distance_to_target", "target": target, "cap": cap}, direction)
    moved = norm(a * x + b, {"method": "distance_to_target", "target": a * target + b, "cap": cap}, direction)
    close(moved, base)


# --- weights renormalise to 1 ----------------------------------------------------------------
positive_weights = st.floats(min_value=0.1, max_value=10.0)


def check_weights_sum_to_one(result: EvaluationResult, fw: Framework) -> None:
    for node, w in result.weights.items():
        assert list(w.index) == list(fw.nodes[node].children), node
        assert (w >= 0).all() and np.isfinite(w.to_numpy()).all(), node
        assert float(w.sum()) > 0, node
        assert float((w / w.sum()).sum()) == pytest.approx(1.0, abs=1e-12), node
    eff = result.effective_weights
    assert float(eff[fw.indicator_codes].sum()) == pytest.approx(1.0, abs=1e-12)
    for level in (2, 3):  # dimensions, categories
        codes = [c for c, lv in fw.levels().items() if lv == level]
        assert float(eff[codes].sum()) == pytest.approx(1.0, abs=1e-12), level
    assert eff["index"] == 1.0


@ENGINE
@given(
    weights=st.fixed_dictionaries({c: positive_weights for c in INDICATORS + AGGREGATES[1:]}),
    seed=st.integers(0, 2**16),
)
def test_manual_weights_renormalise_to_one(weights: dict[str, float], seed: int) -> None:
    fw = make_framework(weights)
    result = evaluate(make_data(seed, 0.1), fw)
    check_weights_sum_to_one(result, fw)
    # manual: the weights as used are the written ones, so each indicator's effective
    # weight is the product of its renormalised written weights (# COINr get_eff_weights)
    expected = pd.Series(fw.effective_weights())
    np.testing.assert_allclose(result.effective_weights[expected.index], expected, rtol=1e-12)


@ENGINE
@given(
    weights=st.fixed_dictionaries({c: positive_weights for c in INDICATORS + AGGREGATES[1:]}),
    k=st.floats(min_value=0.01, max_value=100),
)
def test_scaling_every_weight_of_an_aggregate_changes_no_score(weights: dict[str, float], k: float) -> None:
    """Only relative weights matter: the aggregators renormalise (OECD/JRC Handbook §6)."""
    wide = make_data(11, 0.1)
    scaled = {c: w * k if c in TREE["c1"]["d1"] or c in TREE else w for c, w in weights.items()}
    a = evaluate(wide, make_framework(weights))
    b = evaluate(wide, make_framework(scaled))
    pd.testing.assert_frame_equal(a.scores, b.scores, rtol=1e-9, atol=1e-9)


@ENGINE
@given(
    weights=st.fixed_dictionaries({c: positive_weights for c in INDICATORS + AGGREGATES[1:]}),
    seed=st.integers(0, 2**16),
)
def test_equal_weights_renormalise_to_one(weights: dict[str, float], seed: int) -> None:
    fw = make_framework(weights, {"weighting": "equal"})
    result = evaluate(make_data(seed, 0.1), fw)
    check_weights_sum_to_one(result, fw)
    for node, w in result.weights.items():
        assert w.nunique() == 1, node
    # equal weights at every level: indicator i of dimension d of category c gets
    # 1/2 · 1/|dims of c| · 1/|indicators of d|
    for dims in TREE.values():
        for inds in dims.values():
            for icode in inds:
                assert result.effective_weights[icode] == pytest.approx(1 / 2 / len(dims) / len(inds))


def allocations(n_children: int) -> st.SearchStrategy[list[list[float]]]:
    """1–4 assessors, each dividing a budget of 100 points among the children (at least 1
    point each)."""
    cuts = st.sets(st.integers(1, 99), min_size=n_children - 1, max_size=n_children - 1)
    one = cuts.map(lambda c: [float(b - a) for a, b in zip([0, *sorted(c)], [*sorted(c), 100], strict=True)])
    return st.lists(one, min_size=1, max_size=4)


@ENGINE
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_budget_allocation_weights_renormalise_to_one(data: st.DataObject, seed: int) -> None:
    if "budget" not in STAGES["weighting"]:
        pytest.skip("budget weighting is not registered yet")
    aggregates: dict[str, Any] = {}
    for node in AGGREGATES:
        n = len(FW.nodes[node].children)
        aggregates[node] = {"weighting": {"method": "budget", "allocations": data.draw(allocations(n))}}
    result = evaluate(make_data(seed, 0.1), FW, spec({"aggregates": aggregates}))
    check_weights_sum_to_one(result, FW)
    for node, entry in aggregates.items():
        # the assessors' shares averaged (each assessor's points as shares of their total)
        rows = np.array(entry["weighting"]["allocations"], dtype=float)
        expected = (rows / rows.sum(axis=1, keepdims=True)).mean(axis=0)
        w = result.weights[node]
        np.testing.assert_allclose(w / w.sum(), expected / expected.sum(), rtol=1e-9, atol=1e-12)


# --- ranks agree with scores ---------------------------------------------------------------------
def check_ranks(scores: pd.Series, ranks: pd.Series) -> None:
    """Scores compared as ranking compares them: equal to evaluation.rank.TIE_DECIMALS
    decimal places is a tie (tie_key)."""
    assert (scores.isna() == ranks.isna()).all()
    s, r = tie_key(scores).dropna().to_numpy(), ranks.dropna().to_numpy()
    higher = s[:, None] > s[None, :]
    assert (r[:, None] < r[None, :])[higher].all(), "a higher score got a worse (or equal) rank"
    # ties share the lowest rank number: 1 + the number of strictly better scores
    np.testing.assert_array_equal(r, 1 + higher.sum(axis=0))


@PROPS
@given(
    xs=st.lists(
        st.one_of(st.integers(0, 5).map(float), st.floats(-1e6, 1e6), st.just(float("nan"))),
        min_size=1,
        max_size=40,
    )
)
def test_rank_desc_agrees_with_scores(xs: list[float]) -> None:
    scores = pd.Series(xs, dtype=float)
    check_ranks(scores, rank_desc(scores))


@ENGINE
@given(seed=st.integers(0, 2**32 - 1), ties=st.booleans(), how=st.sampled_from(["arithmetic", "geometric"]))
def test_ranks_agree_with_scores_at_every_node(seed: int, ties: bool, how: str) -> None:
    wide = make_data(seed, 0.1, ties=ties)
    result = evaluate(wide, FW, spec(ARITHMETIC if how == "arithmetic" else GEOMETRIC))
    for node in result.scores.columns:
        check_ranks(result.scores[node], result.ranks[node])


# --- imputation changes only missing cells; flags mark exactly the changed cells -------------------
IMPUTATIONS: list[Any] = [
    "mean",
    "median",
    {"method": "group_mean", "by": "peer_group"},
    {"method": "group_median", "by": "peer_group"},
    "previous",
    "linear",
    "supplied",
]


def units_table() -> pd.DataFrame:
    return pd.DataFrame({"peer_group": ["A" if i % 3 else "B" for i in range(len(UNITS))]}, index=UNITS)


@ENGINE
@given(
    seed=st.integers(0, 2**32 - 1), method=st.sampled_from(IMPUTATIONS), missing=st.sampled_from([0.1, 0.3])
)
def test_imputation_changes_only_missing_cells_and_flags_them(seed: int, method: Any, missing: float) -> None:
    wide = make_data(seed, missing)
    rng = np.random.default_rng(seed + 1)
    history = [make_data(seed + 2, 0.3), make_data(seed + 3, 0.3)]
    supplied = pd.DataFrame(
        np.round(rng.uniform(0, 1000, wide.shape), 3), index=wide.index, columns=wide.columns
    ).mask(rng.random(wide.shape) < 0.3)
    result = evaluate(
        wide, FW, spec({"methods": {"imputation": method}}), units_table(), supplied=supplied, history=history
    )
    before, after = result.denominated, result.imputed
    present = before.notna()
    pd.testing.assert_frame_equal(after[present], before[present])  # observed values untouched
    assert result.imputed_mask.equals(before.isna() & after.notna())
    assert after.notna().sum().sum() >= before.notna().sum().sum()
    flags = result.flags()
    assert ((flags == "imputed") | (flags == "imputed, treated")).equals(result.imputed_mask)
    if method == "supplied":  # filled exactly from the supplied table where it has a value
        filled = result.imputed_mask
        pd.testing.assert_series_equal(
            cast(pd.Series, after.stack())[cast(pd.Series, filled.stack())],
            cast(pd.Series, supplied.reindex_like(after).stack())[cast(pd.Series, filled.stack())],
        )


TREATMENTS: list[Any] = [
    "coinr",
    {"method": "coinr", "winmax": 2},
    "winsorise",
    {"method": "winsorise", "lower": 0.1, "upper": 0.8},
    "log",
    "boxcox",
]


def skewed(seed: int, missing: float) -> pd.DataFrame:
    """Positive, heavy-tailed data (log-normal with a few outliers) so treatment has work."""
    rng = np.random.default_rng(seed)
    shape = (len(UNITS), len(INDICATORS))
    values = np.round(np.exp(rng.normal(2.0, 1.2, shape)), 4) + 0.5
    values[rng.integers(0, len(UNITS), 3), rng.integers(0, len(INDICATORS), 3)] *= 50
    wide = pd.DataFrame(values, index=pd.Index(UNITS, name="unit"), columns=INDICATORS)
    blank = rng.random(shape) < missing
    blank[0, :] = False
    return wide.mask(blank)


@ENGINE
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(TREATMENTS), impute=st.booleans())
def test_treatment_flags_exactly_the_changed_cells(seed: int, method: Any, impute: bool) -> None:
    name = method if isinstance(method, str) else method["method"]
    if name not in STAGES["treatment"]:
        pytest.skip(f"treatment {name} is not registered yet")
    wide = skewed(seed, 0.1)
    methods: dict[str, Any] = {"treatment": method}
    if impute:
        methods["imputation"] = "median"
    result = evaluate(wide, FW, spec({"methods": methods}))
    kept = result.imputed.loc[result.treated.index]
    changed = result.treated.ne(kept) & kept.notna() & result.treated.notna()
    assert result.treated_mask.equals(changed)
    # missing cells stay missing, present cells stay present
    assert result.treated.isna().equals(kept.isna())
    flags = result.flags().loc[result.treated.index]
    flagged = (flags == "treated") | (flags == "imputed, treated")
    assert flagged.equals(changed)
    # the treatment table has one row per indicator that was treated
    assert set(result.treatment.index) <= set(INDICATORS)
    touched = {c for c in INDICATORS if changed[c].any()}
    assert touched <= set(result.treatment.index)
