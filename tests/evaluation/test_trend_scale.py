"""Comparisons between periods on one scale (evaluation/trend.py, issue 14 point 3).

The framework: index = mean of c1 (indicator x, min-max 0–100 per period) and c2 (indicator
g, fixed goalposts 0–200). Three departments A, B, C, one object each. Every number below is
worked out by hand in the comments.
"""

from __future__ import annotations

import pandas as pd
import pytest

from egov.errors import EgovError
from evaluation.change import change
from evaluation.engine import EvaluationResult, evaluate
from evaluation.spec import parse_spec
from evaluation.trend import NOT_COMPARABLE, common_scale, comparable_change
from indicators.framework import Framework, parse_framework


def _name(code: str) -> str:
    return f"name = {{ zh-Hant = '{code}', pt = '{code}', en = '{code}' }}\n"


def framework_toml(
    *, trend_scale: str | None = None, x_norm: str = "", x_direction: int = 1, index_extra: str = ""
) -> str:
    def ind(path: str, code: str, extra: str = "", direction: int = 1) -> str:
        return (
            f"[{path}.indicators.{code}]\n{_name(code)}unit = '%'\ndirection = {direction}\n"
            f"rationale = 'test'\n{extra}"
        )

    index = "[index]\ncode = 'idx'\n" + (f"trend_scale = '{trend_scale}'\n" if trend_scale else "")
    return (
        "[framework]\ncode = 'trend'\nversion = '1'\n"
        + _name("Trend test")
        + index
        + index_extra
        + "[methods]\nnormalisation = { method = 'minmax', lower = 0, upper = 100 }\n"
        + f"[categories.c1]\n{_name('c1')}"
        + f"[categories.c1.dimensions.d1]\n{_name('d1')}"
        + ind("categories.c1.dimensions.d1", "x", x_norm, x_direction)
        + f"[categories.c2]\n{_name('c2')}"
        + f"[categories.c2.dimensions.d2]\n{_name('d2')}"
        + ind(
            "categories.c2.dimensions.d2",
            "g",
            "normalisation = { method = 'goalposts', min = 0, max = 200 }\n",
        )
    )


UNITS = pd.DataFrame({"department": ["A", "B", "C"]}, index=["oa", "ob", "oc"])


def _period(x: list[float], g: list[float], fw: Framework, spec_text: dict | None = None) -> EvaluationResult:
    data = pd.DataFrame({"x": x, "g": g}, index=UNITS.index)
    spec = parse_spec(spec_text) if spec_text else None
    return evaluate(data, fw, spec, units=UNITS)


@pytest.fixture
def fw() -> Framework:
    return parse_framework(framework_toml())


def test_pooled_scale_turns_a_naive_fall_into_a_rise(fw: Framework) -> None:
    # x: period 0 A=50 B=0 C=100; period 1 A=60 B=55 C=100. g = 100 for all (score 50).
    p0 = _period([50, 0, 100], [100, 100, 100], fw)
    p1 = _period([60, 55, 100], [100, 100, 100], fw)
    # per-period min-max: A's x scores 50 then (60-55)/(100-55)·100 = 11.11…; index = mean
    # of c1 and c2 (50): 50 then 30.56 — a naive fall of 19.44 although A's value rose
    naive = change(p0, p1).summary.set_index("department")
    assert naive.at["A", "score_previous"] == pytest.approx(50.0)
    assert naive.at["A", "score_current"] == pytest.approx((100 / 9 + 50) / 2)
    assert naive["change"]["A"] < 0
    # pooled over {50, 0, 100, 60, 55, 100}: min 0, max 100, so A's x scores 50 then 60;
    # index 50 then 55: a rise of 5
    ch, cs = comparable_change(p0, p1, fw)
    summary = ch.summary.set_index("department")
    assert summary.at["A", "score_previous"] == pytest.approx(50.0)
    assert summary.at["A", "score_current"] == pytest.approx(55.0)
    assert summary.at["A", "change"] == pytest.approx(5.0)
    # B: x 0 → 55 pooled: index 25 → 52.5, overtaking C? no: C stays 75; B 3rd → 3rd
    assert summary.at["B", "score_current"] == pytest.approx(52.5)
    assert summary.at["C", "change"] == pytest.approx(0.0)
    assert cs is not None
    rules = cs.rules.set_index("indicator")
    assert rules.at["x", "rule"] == "pooled"
    assert (rules.at["x", "pooled_min"], rules.at["x", "pooled_max"]) == (0.0, 100.0)
    assert "pooled" in ch.scale and "goalposts for 1 indicator," in ch.scale


def test_pooled_scale_flips_a_rank_change(fw: Framework) -> None:
    # x: period 0 A=40 B=50 C=100; period 1 A=45 B=100 C=50 (g constant).
    p0 = _period([40, 50, 100], [0, 0, 0], fw)
    p1 = _period([45, 100, 50], [0, 0, 0], fw)
    # naive: A scores 0 in both periods (the worst each time)
    naive = change(p0, p1).summary.set_index("department")
    assert naive.at["A", "change"] == pytest.approx(0.0)
    # pooled over 40..100: A (40-40)/60 = 0 → (45-40)/60·100 = 8.33; index = that / 2
    ch, _ = comparable_change(p0, p1, fw)
    summary = ch.summary.set_index("department")
    assert summary.at["A", "change"] == pytest.approx(100 * 5 / 60 / 2)


def test_goalposts_are_kept_and_direction_and_bounds_apply_to_the_pool() -> None:
    fw = parse_framework(
        framework_toml(x_norm="normalisation = { method = 'minmax', lower = 1, upper = 7 }\n", x_direction=-1)
    )
    p0 = _period([50, 0, 100], [100, 150, 50], fw)
    p1 = _period([60, 55, 100], [120, 200, 10], fw)
    cs = common_scale([p0, p1], fw)
    # g has fixed goalposts: its scores are those of each period as evaluated
    for before, after in zip((p0, p1), cs.results, strict=True):
        pd.testing.assert_series_equal(after.normalised["g"], before.normalised["g"])
    assert cs.results[1].normalised.at["oa", "g"] == pytest.approx(60.0)  # 120 / 200 · 100
    assert cs.rules.set_index("indicator").at["g", "rule"] == "fixed"
    # x, lower is better, scaled to [1, 7] over the pooled 0..100: A in period 1 (value 60)
    # scores 1 + (100 - 60)/100 · 6 = 3.4
    assert cs.results[1].normalised.at["oa", "x"] == pytest.approx(3.4)
    assert cs.results[0].normalised.at["oc", "x"] == pytest.approx(1.0)


def test_all_goalposts_scale_reproduces_each_period() -> None:
    fw = parse_framework(
        framework_toml(
            trend_scale="goalposts", x_norm="normalisation = { method = 'goalposts', min = 0, max = 100 }\n"
        )
    )
    assert fw.scale_of_trends == "goalposts"
    p0 = _period([50, 0, 100], [100, 150, 50], fw)
    p1 = _period([60, 55, 100], [120, 200, 10], fw)
    cs = common_scale([p0, p1], fw)
    assert cs.scale == "goalposts" and "all 2 indicators" in cs.describe()
    for before, after in zip((p0, p1), cs.results, strict=True):
        assert after.department_scores is not None and before.department_scores is not None
        pd.testing.assert_frame_equal(after.department_scores, before.department_scores)
        assert after.department_ranks is not None and before.department_ranks is not None
        pd.testing.assert_frame_equal(after.department_ranks, before.department_ranks)


def test_common_scale_of_one_period_that_spans_the_pool_is_the_period(fw: Framework) -> None:
    # when one period holds both extremes of the pool, its own min-max is the pooled one
    p0 = _period([50, 0, 100], [100, 100, 100], fw)
    p1 = _period([60, 55, 90], [100, 100, 100], fw)
    cs = common_scale([p0, p1], fw)
    assert cs.results[0].department_scores is not None and p0.department_scores is not None
    pd.testing.assert_frame_equal(cs.results[0].department_scores, p0.department_scores)


def test_a_change_across_methods_is_refused_or_labelled(fw: Framework) -> None:
    p0 = _period([50, 0, 100], [100, 100, 100], fw)
    p1 = _period(
        [60, 55, 100],
        [100, 100, 100],
        fw,
        {"methods": {"normalisation": {"method": "minmax", "lower": 1, "upper": 100}}},
    )
    with pytest.raises(EgovError, match="not comparable"):
        common_scale([p0, p1], fw)
    ch, cs = comparable_change(p0, p1, fw)
    assert cs is None and ch.scale == NOT_COMPARABLE
    other = parse_framework(framework_toml(x_norm="weight = 2\n"))
    with pytest.raises(EgovError, match="not comparable"):
        common_scale([p0, _period([60, 55, 100], [100, 100, 100], other)], fw)


def test_common_scale_refuses_another_framework(fw: Framework) -> None:
    p0 = _period([50, 0, 100], [100, 100, 100], fw)
    other = parse_framework(framework_toml(x_norm="weight = 2\n"))
    with pytest.raises(EgovError, match="not the one"):
        common_scale([p0, p0], other)


def test_loader_checks_trend_scale() -> None:
    with pytest.raises(EgovError) as exc:
        parse_framework(framework_toml(trend_scale="yearly"))
    assert any("index.trend_scale" in p and "pooled, goalposts" in p for p in exc.value.problems)
    with pytest.raises(EgovError) as exc:
        parse_framework(framework_toml(trend_scale="goalposts"))
    assert any("indicators.x.normalisation" in p for p in exc.value.problems)
    assert not any("indicators.g" in p for p in exc.value.problems)
    pooled = parse_framework(framework_toml(trend_scale="pooled"))
    default = parse_framework(framework_toml())
    assert pooled.scale_of_trends == default.scale_of_trends == "pooled"
    # written or not, the setting is part of the content (a stated choice changes the hash)
    assert pooled.content_hash != default.content_hash
    assert pooled.to_dict()["index"]["trend_scale"] == "pooled"
    assert "trend_scale" not in default.to_dict()["index"]
