"""Horizontal comparison (evaluation/compare.py): known answers on a small hand-made
framework, and the laws — priorities' gains equal the exactly recomputed score
difference, change contributions and the data/method split add up to the change,
rankings agree with the scores.

The framework: index = mean of categories c1 and c2; c1 = mean of d1 (x, y) and d2 (z);
c2 = d3 (w). Normalisation `none`, so the normalised values are the data and every number
below can be checked by hand. Effective weights: x = y = 1/8, z = 1/4, w = 1/2.
Five objects, four departments (P has two objects), peer groups G1 = {P, Q}, G2 = {R, S}.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.errors import EgovError
from evaluation.change import change
from evaluation.compare import gaps, head_to_head, indicator_standing, rankings, strengths_weaknesses
from evaluation.engine import EvaluationResult, evaluate
from evaluation.priorities import priorities
from evaluation.rank import rank_desc
from evaluation.structure import (
    department_effective_weights,
    node_kinds,
    object_effective_weights,
    reaggregate,
    unit_by_unit,
    value_at,
)
from indicators.framework import Framework, parse_framework


def framework_toml(c1_weight: float = 1, aggregation: str = "arithmetic") -> str:
    def ind(path: str, code: str) -> str:
        return (
            f"[{path}.indicators.{code}]\nname = {{ zh-Hant = '{code}', pt = '{code}', en = '{code}' }}\n"
            "unit = 'points'\ndirection = 1\nrationale = 'test'\n"
        )

    def name(code: str) -> str:
        return f"name = {{ zh-Hant = '{code}', pt = '{code}', en = '{code}' }}\n"

    return (
        "[framework]\ncode = 'cmp'\nversion = '1'\n"
        + name("Comparison test")
        + f"[methods]\nnormalisation = {{ method = 'none' }}\naggregation = {{ method = '{aggregation}' }}\n"
        + f"[categories.c1]\n{name('c1')}weight = {c1_weight}\n"
        + f"[categories.c1.dimensions.d1]\n{name('d1')}"
        + ind("categories.c1.dimensions.d1", "x")
        + ind("categories.c1.dimensions.d1", "y")
        + f"[categories.c1.dimensions.d2]\n{name('d2')}"
        + ind("categories.c1.dimensions.d2", "z")
        + f"[categories.c2]\n{name('c2')}"
        + f"[categories.c2.dimensions.d3]\n{name('d3')}"
        + ind("categories.c2.dimensions.d3", "w")
    )


UNITS = pd.DataFrame(
    {
        "department": ["P", "P", "Q", "R", "S"],
        "peer_group": ["G1", "G1", "G1", "G2", "G2"],
    },
    index=pd.Index(["p1", "p2", "q1", "r1", "s1"], name="unit"),
)
DATA = pd.DataFrame(
    {
        "x": [40, 60, 80, 20, 100],
        "y": [50, 50, 50, 90, 10],
        "z": [30, 10, 60, 60, 0],
        "w": [70, 70, 40, 50, 80],
    },
    index=UNITS.index,
    dtype=float,
)


@pytest.fixture(scope="module")
def fw() -> Framework:
    return parse_framework(framework_toml())


@pytest.fixture(scope="module")
def result(fw: Framework) -> EvaluationResult:
    return evaluate(DATA, fw, units=UNITS)


def test_the_hand_made_scores(result: EvaluationResult) -> None:
    # P: x 50, y 50, z 20, w 70 → d1 50, d2 20, c1 35, c2 70, index 52.5 (by hand)
    dept = result.department_scores
    assert dept is not None
    assert cast(
        pd.Series, dept.loc["P", ["x", "y", "z", "w", "d1", "d2", "c1", "c2", "index"]]
    ).tolist() == pytest.approx([50, 50, 20, 70, 50, 20, 35, 70, 52.5])
    assert dept["index"].to_dict() == pytest.approx({"P": 52.5, "Q": 51.25, "R": 53.75, "S": 53.75})


# --- rankings -------------------------------------------------------------------------------
def test_rankings_overall_with_ties_and_peer_groups(result: EvaluationResult) -> None:
    overall = rankings(result, level=max(result.levels.values()))
    assert list(overall["entity"]) == ["R", "S", "P", "Q"]
    assert list(overall["rank"]) == [1, 1, 3, 4]  # the tie takes the lowest rank number
    assert overall.set_index("entity")["peer_rank"].to_dict() == {"R": 1, "S": 1, "P": 1, "Q": 2}
    assert overall.set_index("entity")["peer_group"].to_dict() == {"R": "G2", "S": "G2", "P": "G1", "Q": "G1"}


def test_rankings_agree_with_scores_at_every_node(result: EvaluationResult) -> None:
    table = rankings(result)
    assert set(table["node"]) == set(result.levels)
    for node, part in table.groupby("node"):
        expected = rank_desc(part.set_index("entity")["score"])
        pd.testing.assert_series_equal(part.set_index("entity")["rank"], expected, check_names=False)
        ordered = part.sort_values("rank")
        assert ordered["score"].is_monotonic_decreasing, node


def test_rankings_by_level_nodes_and_objects(result: EvaluationResult) -> None:
    cats = rankings(result, level=3)
    assert set(cats["node"]) == {"c1", "c2"}
    one = rankings(result, nodes=["z"])
    assert list(one["entity"]) == ["Q", "R", "P", "S"] and list(one["rank"]) == [1, 1, 3, 4]
    objects = rankings(result, entity="object", nodes=["index"])
    assert len(objects) == 5 and objects["peer_rank"].isna().all()
    with pytest.raises(EgovError, match="unknown node"):
        rankings(result, nodes=["nope"])
    with pytest.raises(EgovError, match="level 9"):
        rankings(result, level=9)


def test_node_kinds(result: EvaluationResult) -> None:
    kinds = node_kinds(result)
    assert kinds["index"] == "index" and kinds["c1"] == "category"
    assert kinds["d2"] == "dimension" and kinds["w"] == "indicator"


# --- gaps, strengths and weaknesses ---------------------------------------------------------
def test_gaps_known_answers(result: EvaluationResult) -> None:
    g = gaps(result, "P").set_index("node")
    # x over departments: P 50, Q 80, R 20, S 100 → best 100 (S), median 65
    assert cast(pd.Series, g.loc["x", ["score", "best", "median", "gap_best", "gap_median"]]).tolist() == [
        50,
        100,
        65,
        50,
        15,
    ]
    assert g.loc["x", "best_department"] == "S"
    # G1 (P, Q) has 2 departments, fewer than MIN_PEERS = 3: the peer figures are all
    # departments', said by peer_fallback (and no peer group named)
    assert cast(
        pd.Series, g.loc["x", ["peer_best", "peer_median", "peer_gap_best", "peer_gap_median", "peer_n"]]
    ).tolist() == [100, 65, 50, 15, 4]
    assert g["peer_fallback"].all() and (g["peer_group"] == "").all()
    assert g.loc["x", "peer_best_department"] == "S"
    # the index: 52.5 against 53.75 (best) and the median of 51.25, 52.5, 53.75, 53.75
    assert g.loc["index", "gap_best"] == pytest.approx(1.25)
    assert g.loc["index", "gap_median"] == pytest.approx(53.125 - 52.5)
    assert (g["gap_best"] >= 0).all() and (g["peer_gap_best"] >= 0).all()
    with pytest.raises(EgovError, match="unknown department 'NOPE'"):
        gaps(result, "NOPE")


def test_strengths_and_weaknesses_by_percentile(result: EvaluationResult) -> None:
    sw = strengths_weaknesses(result, "P", n=1)
    # P: x 50 (beats R: 1/3), y 50 (beats S, ties Q: 1.5/3), z 20 (beats S: 1/3), w 70 (beats Q, R: 2/3)
    assert sw.set_index("side").loc["strength", "indicator"] == "w"
    weakest = sw.set_index("side").loc["weakness"]
    assert weakest["indicator"] == "z"  # ties x on percentile, further below the median (−20 vs −15)
    assert weakest["percentile"] == pytest.approx(1 / 3)
    assert weakest["vs_median"] == pytest.approx(20 - 40)


def test_values_in_own_units_and_whom_to_learn_from(result: EvaluationResult, fw: Framework) -> None:
    st = indicator_standing(result, "P", framework=fw).set_index("indicator")
    # normalisation none: values = scores; P's x is the mean of its objects' 40 and 60
    assert st.loc["x", "value"] == 50 and st.loc["x", "unit"] == "points"
    # the median of 20, 50, 80, 100 lies between P (50) and Q (80): their values' mean
    assert st.loc["x", "median_value"] == pytest.approx(65)
    assert st.loc["x", "best_department"] == "S" and st.loc["x", "best_value"] == 100
    # y: Q and P tie at 50, S has 10, R 90
    assert st.loc["y", "best_department"] == "R"
    assert st["peer_fallback"].all()  # G1 has 2 departments: all departments instead
    assert indicator_standing(result, "P")["value"].isna().all()  # without the framework


def test_strengths_are_above_and_weaknesses_below_the_median_never_both(result: EvaluationResult) -> None:
    for dept in ("P", "Q", "R", "S"):
        for within in ("peers", "all"):
            sw = strengths_weaknesses(result, dept, n=10, within=within)
            assert (sw.loc[sw["side"] == "strength", "vs_median"] > 0).all()
            assert (sw.loc[sw["side"] == "weakness", "vs_median"] < 0).all()
            sides = sw.groupby("indicator")["side"].nunique()
            assert (sides == 1).all(), (dept, within)
    # Q's y (50) is the median of 10, 50, 50, 90: neither a strength nor a weakness
    sw = strengths_weaknesses(result, "Q", n=10)
    assert "y" not in set(sw["indicator"])


def test_head_to_head(result: EvaluationResult) -> None:
    h = head_to_head(result, "P", "Q").set_index("node")
    assert h.loc["index", "difference"] == pytest.approx(1.25)
    assert cast(pd.Series, h.loc["c2", ["score_a", "score_b", "rank_a", "rank_b"]]).tolist() == [70, 40, 2, 4]


# --- priorities ---------------------------------------------------------------------------
def test_priorities_median_known_answers(result: EvaluationResult, fw: Framework) -> None:
    p = priorities(result, "P", "median", framework=fw).set_index("indicator")
    # G1 has 2 departments (< MIN_PEERS): all departments' medians: x 65 (step 15), y 50 (0),
    # z 40 (step 20), w 60 (0)
    assert p["step"].to_dict() == pytest.approx({"x": 15, "y": 0, "z": 20, "w": 0})
    # arithmetic + mean roll-up: gain = effective weight × step: z 1/4 × 20 = 5, x 1/8 × 15
    assert p["gain"].to_dict() == pytest.approx({"x": 1.875, "y": 0, "z": 5, "w": 0})
    assert list(p.index[:2]) == ["z", "x"]  # sorted by gain
    assert p.loc["z", "new_score"] == pytest.approx(57.5)
    assert p.loc["z", "new_rank"] == 1 and p.loc["x", "new_rank"] == 1  # 54.375 > 53.75
    assert p.loc["z", "new_peer_rank"] == 1
    np.testing.assert_allclose(p["gain"], p["first_order"])


def test_priorities_next_known_answers(result: EvaluationResult, fw: Framework) -> None:
    p = priorities(result, "P", "next", framework=fw).set_index("indicator")
    # next value above P's among all departments: x 80, y 90, z 60, w 80
    assert p["target"].to_dict() == pytest.approx({"x": 80, "y": 90, "z": 60, "w": 80})
    assert p["gain"].to_dict() == pytest.approx({"x": 3.75, "y": 5, "z": 10, "w": 5})
    best = priorities(result, "S", "next", framework=fw).set_index("indicator")
    assert best.loc["x", "step"] == 0 and best.loc["x", "gain"] == 0  # S is the best on x


def _recomputed_gain(fw: Framework, data: pd.DataFrame, department: str, row: pd.Series) -> float:
    """The exact gain: shift the department's objects' data by the step and evaluate again
    (normalisation `none`, so the data are the normalised values)."""
    before = evaluate(data, fw, units=UNITS).department_scores
    changed = data.copy()
    mine = UNITS.index[UNITS["department"] == department]
    changed.loc[mine, row["indicator"]] += row["step"]
    after = evaluate(changed, fw, units=UNITS).department_scores
    assert before is not None and after is not None
    return cast(float, after.at[department, "index"]) - cast(float, before.at[department, "index"])


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric", "harmonic"])
def test_priorities_gain_is_the_exact_score_difference(aggregation: str) -> None:
    fw = parse_framework(framework_toml(c1_weight=2, aggregation=aggregation))
    data = DATA.copy()
    data.loc["p2", "z"] = np.nan  # p2's c1 now rests on d1 only: the linear view is off
    data = data.clip(lower=1.0)  # geometric and harmonic means need values > 0
    result = evaluate(data, fw, units=UNITS)
    for step in ("median", "next"):
        p = priorities(result, "P", step, framework=fw)
        assert (p["step"] > 0).any()
        for _, row in p.iterrows():
            assert row["gain"] == pytest.approx(_recomputed_gain(fw, data, "P", row), abs=1e-9)
            if row["step"] > 0:
                assert row["gain"] > 0  # a better value never lowers the score
            if aggregation == "arithmetic":  # the linear view is exact here, missing z and all
                assert row["first_order"] == pytest.approx(row["gain"], abs=1e-9)


def test_priorities_gain_is_exact_with_an_aggregation_that_compares_units() -> None:
    # Copeland scores a unit against the others: the gain cannot be computed on the
    # department's objects alone (the fast path of unit-by-unit aggregations)
    fw = parse_framework(framework_toml(c1_weight=2, aggregation="copeland"))
    result = evaluate(DATA, fw, units=UNITS)
    assert not unit_by_unit(result, fw)
    assert unit_by_unit(
        evaluate(DATA, parse_framework(framework_toml()), units=UNITS), parse_framework(framework_toml())
    )
    p = priorities(result, "P", "next", framework=fw)
    assert (p["step"] > 0).any()
    for _, row in p.iterrows():
        assert row["gain"] == pytest.approx(_recomputed_gain(fw, DATA, "P", row), abs=1e-9)


def test_reaggregating_one_changed_indicator_equals_the_whole_tree(
    result: EvaluationResult, fw: Framework
) -> None:
    changed = result.normalised.copy()
    changed["z"] = changed["z"] + 7.5
    whole, whole_dept = reaggregate(result, fw, changed)
    part, part_dept = reaggregate(result, fw, changed, changed="z")
    pd.testing.assert_frame_equal(part, whole)
    assert whole_dept is not None and part_dept is not None
    pd.testing.assert_frame_equal(part_dept, whole_dept)


@settings(
    max_examples=8,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(st.floats(1, 100, allow_nan=False), min_size=20, max_size=20), st.sampled_from(["P", "Q", "R"])
)
def test_priorities_law_on_random_data(values: list[float], department: str) -> None:
    fw = parse_framework(framework_toml(c1_weight=3))
    data = pd.DataFrame(np.array(values).reshape(5, 4), index=UNITS.index, columns=list(DATA.columns))
    result = evaluate(data, fw, units=UNITS)
    p = priorities(result, department, "next", framework=fw)
    for _, row in p.iterrows():
        assert row["gain"] == pytest.approx(_recomputed_gain(fw, data, department, row), abs=1e-9)


def test_reaggregate_reproduces_the_result(result: EvaluationResult, fw: Framework) -> None:
    scores, dept = reaggregate(result, fw, result.normalised)
    pd.testing.assert_frame_equal(scores, result.scores)
    assert dept is not None and result.department_scores is not None
    pd.testing.assert_frame_equal(dept, result.department_scores[dept.columns])
    other = parse_framework(framework_toml(c1_weight=2))
    with pytest.raises(EgovError, match="not the one that made this result"):
        reaggregate(result, other, result.normalised)


def test_priorities_unknown_department(result: EvaluationResult, fw: Framework) -> None:
    with pytest.raises(EgovError, match="unknown department"):
        priorities(result, "X", framework=fw)
    with pytest.raises(EgovError, match="step"):
        priorities(result, "P", "best", framework=fw)  # type: ignore[arg-type]


# --- change ---------------------------------------------------------------------------------
def test_department_effective_weights(result: EvaluationResult) -> None:
    eff = department_effective_weights(result)
    assert cast(pd.Series, eff.loc["P", ["x", "y", "z", "w"]]).tolist() == pytest.approx(
        [0.125, 0.125, 0.25, 0.5]
    )
    assert eff.loc["P", ["x", "y", "z", "w"]].sum() == pytest.approx(1.0)


def test_object_effective_weights_rebuild_the_department_index() -> None:
    fw = parse_framework(framework_toml(c1_weight=3))
    data = DATA.copy()
    data.loc["p2", "z"] = np.nan  # p2's c1 rests on d1 only
    data.loc["p1", "x"] = np.nan
    result = evaluate(data, fw, units=UNITS)
    omega = object_effective_weights(result)
    rebuilt = (omega * result.normalised[omega.columns]).sum(axis=1).groupby(UNITS["department"]).sum()
    assert result.department_scores is not None
    np.testing.assert_allclose(rebuilt.to_numpy(), result.department_scores["index"].to_numpy())
    # P: c1 weight 3/4 split over two objects, p2's d1 carries all of its c1
    assert omega.loc["p2", "x"] == pytest.approx(3 / 4 * 1 / 2 * 1 / 2)
    assert omega.loc["p1", "y"] == pytest.approx(3 / 4 * 1 / 2 * 1 / 2)  # x missing: y is all of d1
    assert omega.loc["p1", "z"] == pytest.approx(3 / 4 * 1 / 2 * 1 / 2)


def test_change_known_answer(result: EvaluationResult, fw: Framework) -> None:
    later = DATA.copy()
    later.loc[["p1", "p2"], "x"] += 20  # P's x: 50 → 70
    current = evaluate(later, fw, units=UNITS)
    ch = change(result, current)
    assert not ch.method_changed
    s = ch.summary.set_index("department")
    assert s.loc["P", "change"] == pytest.approx(2.5)  # 1/8 × 20
    assert s.loc["P", "rank_previous"] == 3 and s.loc["P", "rank_current"] == 1
    assert s.loc["P", "rank_change"] == 2
    assert s.loc["P", "value_effect"] == pytest.approx(2.5) and s.loc["P", "residual"] == pytest.approx(0)
    assert s.loc[["Q", "R", "S"], "change"].tolist() == pytest.approx([0, 0, 0])
    c = ch.contributions.set_index(["department", "indicator"])
    assert c.loc[("P", "x"), "contribution"] == pytest.approx(2.5)
    assert c.loc[("P", "y"), "contribution"] == pytest.approx(0)
    assert "data_effect" not in s.columns


def _check_sums(ch_summary: pd.DataFrame, contributions: pd.DataFrame) -> None:
    s = ch_summary.set_index("department")
    parts = contributions.groupby("department")[["value_effect", "weight_effect", "contribution"]].sum()
    for d in s.index:
        if math.isnan(s.loc[d, "change"]):
            continue
        total = parts.loc[d, "contribution"] + s.loc[d, "residual"]
        assert total == pytest.approx(s.loc[d, "change"], abs=1e-9)
        assert parts.loc[d, "value_effect"] + parts.loc[d, "weight_effect"] == pytest.approx(
            parts.loc[d, "contribution"], abs=1e-9
        )


def test_change_contributions_and_the_data_method_split_add_up() -> None:
    fw0 = parse_framework(framework_toml(c1_weight=1))
    fw1 = parse_framework(framework_toml(c1_weight=3, aggregation="geometric"))
    rng = np.random.default_rng(7)
    d0 = DATA.clip(lower=1.0)  # the geometric mean needs values > 0
    d1 = (DATA + rng.normal(0, 10, DATA.shape)).clip(lower=1.0)
    d1.loc["q1", "y"] = np.nan  # an indicator that disappears for Q
    r00, r11 = evaluate(d0, fw0, units=UNITS), evaluate(d1, fw1, units=UNITS)
    r10, r01 = evaluate(d1, fw0, units=UNITS), evaluate(d0, fw1, units=UNITS)
    ch = change(r00, r11, current_data_previous_method=r10, previous_data_current_method=r01)
    assert ch.method_changed
    _check_sums(ch.summary, ch.contributions)
    linear = change(evaluate(d0, fw0, units=UNITS), r10)  # arithmetic, same method: no residual
    assert (linear.summary["residual"].abs() < 1e-9).all()
    assert (ch.summary["residual"].abs() > 1e-6).any()  # geometric: the linear view is not exact
    s = ch.summary
    np.testing.assert_allclose(s["data_effect"] + s["method_effect"], s["change"], atol=1e-9)
    np.testing.assert_allclose(s["data_first_data"] + s["data_first_method"], s["change"], atol=1e-9)
    np.testing.assert_allclose(s["method_first_data"] + s["method_first_method"], s["change"], atol=1e-9)
    np.testing.assert_allclose(s["data_effect"], (s["data_first_data"] + s["method_first_data"]) / 2)


def test_change_with_the_method_only_is_all_method() -> None:
    fw0 = parse_framework(framework_toml(c1_weight=1))
    fw1 = parse_framework(framework_toml(c1_weight=3))
    r0, r1 = evaluate(DATA, fw0, units=UNITS), evaluate(DATA, fw1, units=UNITS)
    ch = change(r0, r1, current_data_previous_method=r0, previous_data_current_method=r1)
    s = ch.summary.set_index("department")
    np.testing.assert_allclose(s["data_effect"], 0, atol=1e-12)
    np.testing.assert_allclose(s["method_effect"], s["change"])
    # P: index = (3 c1 + c2) / 4 = (105 + 70) / 4 = 43.75, before 52.5
    assert s.loc["P", "change"] == pytest.approx(43.75 - 52.5)
    _check_sums(ch.summary, ch.contributions)
    assert (ch.summary["residual"].abs() < 1e-9).all()  # arithmetic: the linear view is exact
    unsplit = change(r0, r1)
    assert "data_effect" not in unsplit.summary.columns and unsplit.notes


def test_change_with_departments_in_one_evaluation_only(result: EvaluationResult, fw: Framework) -> None:
    keep = UNITS.index != "s1"
    current = evaluate(DATA[keep], fw, units=UNITS[keep])
    ch = change(result, current)
    s = ch.summary.set_index("department")
    assert math.isnan(cast(float, s.loc["S", "change"])) and "S" in ch.notes[0]
    assert "S" not in set(ch.contributions["department"])
    _check_sums(ch.summary, ch.contributions)


def test_priorities_without_a_peer_group_use_all_departments(fw: Framework) -> None:
    units = UNITS.assign(peer_group=[None, None, "G1", "G2", "G2"])  # type: ignore[list-item]  # P has no peer group (pandas-stubs refuse None in the list)
    result = evaluate(DATA, fw, units=units)
    p = priorities(result, "P", "median", framework=fw).set_index("indicator")
    # medians over all four departments: x 65, z 40 (P, Q, R, S: 20, 60, 60, 0)
    assert p.loc["x", "target"] == pytest.approx(65) and p.loc["z", "target"] == pytest.approx(40)


def test_value_at_does_not_format_its_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """value_at reads the value at a score without printing any Series: grouping the frame by
    a Series key made pandas format the key for a lookup it discarded, about 6 ms a call,
    which the department reports of `egov demo` paid thousands of times."""
    scores = pd.Series([40.0, 60.0, 60.0, 90.0, np.nan], index=list("ABCDE"))
    values = pd.Series([4.0, 5.0, 7.0, 9.0, 1.0], index=list("ABCDE"))

    def no_repr(self: pd.Series) -> str:
        raise AssertionError("a Series was formatted")

    monkeypatch.setattr(pd.Series, "__repr__", no_repr)
    assert value_at(scores, values, 60.0) == 6.0  # the mean of the two at that score
    assert value_at(scores, values, 75.0) == 7.5  # between 60 (6.0) and 90 (9.0)
