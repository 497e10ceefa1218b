"""The evaluation engine (evaluation/engine.py) end to end on a small synthetic framework.

The framework below has two categories that apply to different kinds of assessed object
(infrastructure, application), two dimensions each and six indicators, among them two
lower-is-better ones and one with fixed goalposts. The data are synthetic and seeded.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.errors import EgovError
from evaluation.engine import EvaluationResult, EvaluationSpec, evaluate, load_spec, to_wide
from evaluation.rank import rank_desc
from evaluation.spec import parse_spec
from indicators.framework import Framework, parse_framework

FRAMEWORK_TOML = """
[framework]
code = "test-fw"
version = "1"
name = { zh-Hant = "測試框架", pt = "Quadro de teste", en = "Test framework" }

[methods]
normalisation = { method = "minmax", lower = 0, upper = 100 }

[categories.infra]
name = { zh-Hant = "基礎設施", pt = "Infraestrutura", en = "Infrastructure" }
weight = 2
applies_to = "infrastructure"

[categories.infra.dimensions.avail]
name = { zh-Hant = "可用性", pt = "Disponibilidade", en = "Availability" }

[categories.infra.dimensions.avail.indicators.uptime]
name = { zh-Hant = "正常運行時間", pt = "Tempo de funcionamento", en = "Uptime" }
unit = "%"
direction = 1
rationale = "test"

[categories.infra.dimensions.avail.indicators.outage]
name = { zh-Hant = "停機時數", pt = "Horas de interrupção", en = "Outage hours" }
unit = "hours"
direction = -1
weight = 2
rationale = "test"

[categories.infra.dimensions.sec]
name = { zh-Hant = "安全", pt = "Segurança", en = "Security" }

[categories.infra.dimensions.sec.indicators.patch]
name = { zh-Hant = "修補率", pt = "Taxa de correções", en = "Patch rate" }
unit = "%"
direction = 1
normalisation = { method = "goalposts", min = 50, max = 100 }
rationale = "test"

[categories.app]
name = { zh-Hant = "應用", pt = "Aplicação", en = "Application" }
applies_to = "application"

[categories.app.dimensions.usage]
name = { zh-Hant = "使用", pt = "Utilização", en = "Usage" }

[categories.app.dimensions.usage.indicators.users]
name = { zh-Hant = "用戶數", pt = "Utilizadores", en = "Users" }
unit = "count"
direction = 1
rationale = "test"

[categories.app.dimensions.usage.indicators.csat]
name = { zh-Hant = "滿意度", pt = "Satisfação", en = "Satisfaction" }
unit = "%"
direction = 1
weight = 3
rationale = "test"

[categories.app.dimensions.speed]
name = { zh-Hant = "速度", pt = "Velocidade", en = "Speed" }

[categories.app.dimensions.speed.indicators.resp]
name = { zh-Hant = "響應時間", pt = "Tempo de resposta", en = "Response time" }
unit = "ms"
direction = -1
rationale = "test"
"""

INFRA = ["uptime", "outage", "patch"]
APP = ["users", "csat", "resp"]
HIGHER_IS_BETTER = {"infrastructure": ["uptime", "patch"], "application": ["users", "csat"]}
OBJECTS = [f"o{i:02d}" for i in range(1, 13)]
# raw value ranges per indicator (patch partly below its lower goalpost of 50 on purpose)
RANGES = {
    "uptime": (90, 100),
    "outage": (0, 50),
    "patch": (40, 100),
    "users": (100, 10_000),
    "csat": (50, 100),
    "resp": (100, 2_000),
}


@pytest.fixture(scope="module")
def fw() -> Framework:
    return parse_framework(FRAMEWORK_TOML)


def make_units() -> pd.DataFrame:
    """12 objects alternating infrastructure/application, 3 per department, 2 peer groups."""
    departments = [f"D{1 + i // 3}" for i in range(12)]
    return pd.DataFrame(
        {
            "kind": ["infrastructure" if i % 2 == 0 else "application" for i in range(12)],
            "subkind": [None] * 12,
            "department": departments,
            "peer_group": ["G1" if d in ("D1", "D2") else "G2" for d in departments],
        },
        index=pd.Index(OBJECTS, name="unit"),
    )


def make_wide(seed: int = 20240501, units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Synthetic raw data: every object gets values for the indicators that apply to it."""
    rng = np.random.default_rng(seed)
    units = make_units() if units is None else units
    wide = pd.DataFrame(np.nan, index=pd.Index(units.index, name="unit"), columns=INFRA + APP)
    for code, (lo, hi) in RANGES.items():
        wide[code] = np.round(rng.uniform(lo, hi, len(units)), 3)
    wide.loc[units["kind"] == "infrastructure", APP] = np.nan
    wide.loc[units["kind"] == "application", INFRA] = np.nan
    wide.loc[units.index[units["kind"] == "infrastructure"][2], "patch"] = 42.5  # below the goalpost
    return wide


def to_long(wide: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Long rows (unit, indicator, value) of the present cells, in a shuffled order."""
    long = wide.rename_axis("unit").reset_index().melt(id_vars="unit", var_name="indicator")
    long = long.dropna(subset=["value"])
    order = np.random.default_rng(seed).permutation(len(long))
    return long.iloc[order].reset_index(drop=True)


def assert_results_identical(a: EvaluationResult, b: EvaluationResult) -> None:
    for name in ("raw", "applicable", "normalised", "scores", "ranks"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    pd.testing.assert_frame_equal(a.long(), b.long(), check_exact=True)
    assert a.warnings == b.warnings


# --- input shapes and determinism -------------------------------------------------------------
def test_long_and_wide_input_give_identical_results(fw: Framework) -> None:
    wide, units = make_wide(), make_units()
    from_wide = evaluate(wide, fw, units=units)
    from_long = evaluate(to_long(wide), fw, units=units)
    assert_results_identical(from_wide, from_long)
    for name in ("department_scores", "department_ranks", "peer_ranks"):
        pd.testing.assert_frame_equal(getattr(from_wide, name), getattr(from_long, name), check_exact=True)


def test_long_input_column_names_are_case_insensitive(fw: Framework) -> None:
    wide = make_wide()
    long = to_long(wide).rename(columns={"unit": "Unit", "indicator": "INDICATOR", "value": "Value"})
    assert_results_identical(evaluate(long, fw), evaluate(wide, fw))


def test_evaluating_twice_is_bit_identical(fw: Framework) -> None:
    wide, units = make_wide(), make_units()
    first = evaluate(wide, fw, units=units)
    second = evaluate(wide.copy(), fw, units=units.copy())
    pd.testing.assert_frame_equal(first.long(), second.long(), check_exact=True)
    pd.testing.assert_frame_equal(first.table("department"), second.table("department"), check_exact=True)
    assert first.framework_hash == second.framework_hash


def test_result_records_spec_and_framework_identity(fw: Framework) -> None:
    spec = parse_spec({"methods": {"aggregation": "arithmetic", "rollup": "median"}})
    result = evaluate(make_wide(), fw, spec, units=make_units())
    assert result.framework_code == "test-fw"
    assert result.framework_version == "1"
    assert result.framework_hash == fw.content_hash
    assert result.spec["methods"]["rollup"] == {"method": "median"}
    assert result.index_code == "index"
    assert result.levels["index"] == 4 and result.levels["infra"] == 3 and result.levels["uptime"] == 1


# --- the pipeline by hand -------------------------------------------------------------------
def test_scores_follow_the_framework_by_hand(fw: Framework) -> None:
    wide = make_wide()
    result = evaluate(wide, fw)  # no unit attributes: every indicator applies where data exist
    n = result.normalised

    def mm(x: pd.Series, direction: int = 1) -> pd.Series:
        y = x * direction
        return (y - y.min()) / (y.max() - y.min()) * 100

    pd.testing.assert_series_equal(n["uptime"], mm(wide["uptime"]), check_names=False, atol=1e-9)
    pd.testing.assert_series_equal(n["outage"], mm(wide["outage"], -1), check_names=False, atol=1e-9)
    pd.testing.assert_series_equal(n["resp"], mm(wide["resp"], -1), check_names=False, atol=1e-9)
    patch = ((wide["patch"] - 50) / 50 * 100).clip(0, 100)
    pd.testing.assert_series_equal(n["patch"], patch, check_names=False, atol=1e-9)
    assert (n["patch"].dropna() == 0).any(), "the data should exercise the clipped goalpost"

    s = result.scores
    infra_objects = wide.index[wide["uptime"].notna()]
    avail = (n["uptime"] + 2 * n["outage"]) / 3
    pd.testing.assert_series_equal(s["avail"], avail, check_names=False, atol=1e-9)
    infra = (avail + n["patch"]) / 2
    usage = (n["users"] + 3 * n["csat"]) / 4
    app = (usage + n["resp"]) / 2
    pd.testing.assert_series_equal(
        s.loc[infra_objects, "infra"], infra[infra_objects], check_names=False, atol=1e-9
    )
    # an object scored in one category only: the index is that category (weights renormalised)
    index = pd.Series(np.where(infra.notna(), infra, app), index=s.index)
    pd.testing.assert_series_equal(s["index"], index, check_names=False, atol=1e-9)


def test_table_is_best_first_with_rank_column(fw: Framework) -> None:
    result = evaluate(make_wide(), fw)
    table = result.table()
    assert list(table.columns[:2]) == ["Rank", "index"]
    assert table.columns[-1] in fw.indicator_codes
    assert table["index"].is_monotonic_decreasing
    assert table["Rank"].tolist() == sorted(table["Rank"].tolist())


# --- ranks ----------------------------------------------------------------------------------
def test_rank_desc_competition_ranking() -> None:
    scores = pd.Series([70.0, 90.0, np.nan, 80.0, 80.0, 10.0], index=list("abcdef"))
    assert rank_desc(scores).tolist()[:2] == [4.0, 1.0]
    out = rank_desc(scores)
    assert math.isnan(out["c"])
    assert out[["d", "e", "f"]].tolist() == [2.0, 2.0, 5.0]


def test_ranks_one_is_best_ties_take_lowest_rank_nan_unranked(fw: Framework) -> None:
    wide, units = make_wide(), make_units()
    wide.loc["o03"] = wide.loc["o01"]  # two infrastructure objects with identical data: a tie
    wide.loc["o12"] = np.nan  # an application object without any data
    result = evaluate(wide, fw, units=units)
    s, r = result.scores["index"], result.ranks["index"]
    assert s["o01"] == s["o03"]
    same_kind = units["kind"] == units.at["o01", "kind"]  # objects are ranked within their kind
    assert r["o01"] == r["o03"] == 1 + (s[same_kind] > s["o01"]).sum()
    assert r[cast(str, s.idxmax())] == 1
    assert math.isnan(s["o12"]) and math.isnan(r["o12"])
    infra = r[same_kind].dropna().astype(int)
    assert sorted(infra) != list(range(1, len(infra) + 1)), "the tie skips a rank number"
    # objects of the other kind have no category score and so no category rank
    assert result.ranks.loc[units["kind"] == "application", "infra"].isna().all()
    assert result.ranks.loc[units["kind"] == "infrastructure", "app"].isna().all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ranks_agree_with_scores_at_every_node(fw: Framework, seed: int) -> None:
    result = evaluate(make_wide(seed), fw, units=make_units())
    kinds = result.units["kind"]
    tables = [(result.scores[kinds == k], result.ranks[kinds == k]) for k in kinds.unique()]  # within kind
    for entity_scores, entity_ranks in (*tables, (result.department_scores, result.department_ranks)):
        assert entity_scores is not None and entity_ranks is not None
        for node in entity_scores.columns:
            s, r = entity_scores[node], entity_ranks[node]
            assert (s.isna() == r.isna()).all(), node
            present = s.notna()
            sv, rv = s[present].to_numpy(), r[present].to_numpy()
            higher = sv[:, None] > sv[None, :]
            assert (rv[:, None] < rv[None, :])[higher].all(), node
            assert (rv[:, None] == rv[None, :])[sv[:, None] == sv[None, :]].all(), node
            if present.any():
                assert rv.min() == 1


@pytest.mark.slow
@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    obj=st.sampled_from(OBJECTS),
    pick=st.integers(min_value=0, max_value=1),
    step=st.floats(min_value=1e-6, max_value=10_000),
)
def test_improving_a_higher_is_better_indicator_never_lowers_the_index(
    fw: Framework, seed: int, obj: str, pick: int, step: float
) -> None:
    units = make_units()
    wide = make_wide(seed, units)
    code = HIGHER_IS_BETTER[cast(str, units.loc[obj, "kind"])][pick]
    spec = parse_spec({"methods": {"aggregation": "arithmetic"}})
    before = evaluate(wide, fw, spec, units=units)
    better = wide.copy()
    better.loc[obj, code] = cast(float, better.loc[obj, code]) + step
    after = evaluate(better, fw, spec, units=units)
    assert cast(float, after.scores.loc[obj, "index"]) >= cast(float, before.scores.loc[obj, "index"]) - 1e-9
    assert (
        cast(float, after.normalised.loc[obj, code]) >= cast(float, before.normalised.loc[obj, code]) - 1e-9
    )


# --- applicability --------------------------------------------------------------------------
def test_application_object_gets_no_infrastructure_scores(fw: Framework) -> None:
    units = make_units()
    result = evaluate(make_wide(), fw, units=units)
    apps = units.index[units["kind"] == "application"]
    infra_nodes = ["infra", "avail", "sec", *INFRA]
    assert result.scores.loc[apps, infra_nodes].isna().all().all()
    assert result.scores.loc[apps, ["app", "usage", "speed", *APP]].notna().all().all()
    assert not result.applicable.loc[apps, INFRA].any().any()
    assert result.applicable.loc[apps, APP].all().all()
    # an object scored in one category only: its index is that category's score
    pd.testing.assert_series_equal(
        result.scores.loc[apps, "index"], result.scores.loc[apps, "app"], check_names=False
    )
    long = result.long()
    assert long[(long["entity"] == apps[0]) & long["node"].isin(infra_nodes)].empty
    assert result.warnings == []


def test_value_for_a_non_applicable_indicator_is_ignored_with_a_warning(fw: Framework) -> None:
    units = make_units()
    wide = make_wide()
    clean = evaluate(wide, fw, units=units)
    app_obj = units.index[units["kind"] == "application"][0]
    polluted = wide.copy()
    polluted.loc[app_obj, "uptime"] = 1e9  # would dominate the uptime minmax if it were used
    result = evaluate(to_long(polluted), fw, units=units)
    assert len(result.warnings) == 1
    assert "1 value(s)" in result.warnings[0] and "do not apply" in result.warnings[0]
    assert f"(object/indicator: {app_obj}/uptime)" in result.warnings[0]
    assert math.isnan(result.raw.loc[app_obj, "uptime"])
    pd.testing.assert_frame_equal(result.scores, clean.scores, check_exact=True)
    pd.testing.assert_frame_equal(result.long(), clean.long(), check_exact=True)


def test_units_without_attributes_raise(fw: Framework) -> None:
    units = make_units().drop(index="o05")
    with pytest.raises(EgovError, match="o05"):
        evaluate(make_wide(), fw, units=units)


# --- roll-up to departments -----------------------------------------------------------------
def test_department_rollup_mean(fw: Framework) -> None:
    units = make_units()
    result = evaluate(make_wide(), fw, units=units)
    dept, obj = result.department_scores, result.scores
    assert dept is not None
    assert list(dept.index) == ["D1", "D2", "D3", "D4"]
    for d, members in cast(dict[str, pd.Index], units.groupby("department").groups).items():
        for node in ("infra", "app", "avail", "usage", "outage"):
            expected = obj.loc[members, node].mean()  # objects of the other kind are skipped
            assert dept.loc[d, node] == pytest.approx(expected, abs=1e-9), (d, node)
        # the department index: weighted mean of its category scores (infra 2, app 1),
        # not the mean of its objects' index scores
        expected_index = (2 * cast(float, dept.loc[d, "infra"]) + cast(float, dept.loc[d, "app"])) / 3
        assert dept.loc[d, "index"] == pytest.approx(expected_index, abs=1e-9)
    assert not np.allclose(dept["index"], obj["index"].groupby(units["department"]).mean())
    assert result.department_ranks is not None
    pd.testing.assert_frame_equal(result.department_ranks, dept.apply(rank_desc))


def test_department_with_one_kind_of_object(fw: Framework) -> None:
    units = make_units()
    units.loc[["o10", "o12"], "department"] = "D5"  # D5: two application objects only
    result = evaluate(make_wide(), fw, units=units)
    dept = result.department_scores
    assert dept is not None
    assert math.isnan(cast(float, dept.loc["D5", "infra"]))
    assert dept.loc["D5", "index"] == pytest.approx(dept.loc["D5", "app"], abs=1e-12)
    assert result.department_ranks is not None
    assert math.isnan(cast(float, result.department_ranks.loc["D5", "infra"]))


def test_peer_group_ranks_within_groups(fw: Framework) -> None:
    units = make_units()
    result = evaluate(make_wide(), fw, units=units)
    dept, peer = result.department_scores, result.peer_ranks
    assert dept is not None and peer is not None
    groups = {"D1": "G1", "D2": "G1", "D3": "G2", "D4": "G2"}
    for group in ("G1", "G2"):
        members = [d for d, g in groups.items() if g == group]
        for node in ("index", "infra", "app"):
            expected = dept.loc[members, node].rank(ascending=False, method="min")
            pd.testing.assert_series_equal(peer.loc[members, node], expected, check_names=False)
    assert sorted(peer["index"].tolist()) == [1.0, 1.0, 2.0, 2.0]
    long = result.long()
    top = long[(long["entity_type"] == "department") & (long["node"] == "index")].set_index("entity")
    assert top["peer_rank"].to_dict() == peer["index"].to_dict()
    assert set(long["entity_type"]) == {"object", "department"}


def test_peer_ranks_with_numeric_department_codes(fw: Framework) -> None:
    # department ids read from a CSV are often numbers; peer ranks must not silently vanish
    units = make_units()
    units["department"] = units["department"].str[1:].astype(int)
    by_number = evaluate(make_wide(), fw, units=units)
    by_name = evaluate(make_wide(), fw, units=make_units())
    assert by_number.peer_ranks is not None and by_name.peer_ranks is not None
    assert by_number.department_scores is not None
    assert by_number.peer_ranks["index"].tolist() == by_name.peer_ranks["index"].tolist()
    assert list(by_number.department_scores.index) == ["1", "2", "3", "4"]


def test_department_rollup_min(fw: Framework) -> None:
    units = make_units()
    result = evaluate(make_wide(), fw, parse_spec({"methods": {"rollup": "min"}}), units=units)
    dept, obj = result.department_scores, result.scores
    assert dept is not None
    for d, members in cast(dict[str, pd.Index], units.groupby("department").groups).items():
        for node in ("infra", "app", "sec", "resp"):
            assert dept.loc[d, node] == obj.loc[members, node].min(), (d, node)
        assert dept.loc[d, "index"] == pytest.approx(
            (2 * cast(float, dept.loc[d, "infra"]) + cast(float, dept.loc[d, "app"])) / 3, abs=1e-9
        )
    mean = evaluate(make_wide(), fw, units=units).department_scores
    assert mean is not None
    assert (dept[["infra", "app"]] <= mean[["infra", "app"]] + 1e-9).all().all()


def test_objects_without_department_raise(fw: Framework) -> None:
    units = make_units()
    units.loc["o04", "department"] = None
    with pytest.raises(EgovError, match="o04"):
        evaluate(make_wide(), fw, units=units)


def test_no_departments_means_no_rollup(fw: Framework) -> None:
    units = make_units().assign(department=None)
    result = evaluate(make_wide(), fw, units=units)
    assert result.department_scores is None and result.peer_ranks is None
    with pytest.raises(EgovError):
        result.table("department")
    assert set(result.long()["entity_type"]) == {"unit"}


# --- warnings -------------------------------------------------------------------------------
def test_indicator_without_data_column_warns_naming_it(fw: Framework) -> None:
    wide = make_wide().drop(columns="csat")
    result = evaluate(wide, fw)
    assert any("'csat'" in w and "no data" in w for w in result.warnings), result.warnings
    assert result.scores["csat"].isna().all()
    # usage then rests on users alone
    pd.testing.assert_series_equal(
        result.scores["usage"].dropna(), result.normalised["users"].dropna(), check_names=False
    )


def test_indicator_absent_from_long_data_warns_naming_it(fw: Framework) -> None:
    long = to_long(make_wide())
    result = evaluate(long[long["indicator"] != "resp"], fw)
    assert any("'resp'" in w for w in result.warnings), result.warnings


def test_indicator_with_only_missing_values_warns_naming_it(fw: Framework) -> None:
    wide = make_wide()
    wide["patch"] = np.nan
    result = evaluate(wide, fw)
    assert any("'patch'" in w and "no values" in w for w in result.warnings), result.warnings
    assert result.scores["sec"].isna().all()


def test_zero_range_indicator_warns_naming_it(fw: Framework) -> None:
    wide = make_wide()
    wide.loc[wide["users"].notna(), "users"] = 500.0
    result = evaluate(wide, fw)
    hits = [w for w in result.warnings if "'users'" in w]
    assert len(hits) == 1 and "zero range" in hits[0] and "500" in hits[0]
    assert result.normalised["users"].isna().all()
    pd.testing.assert_series_equal(
        result.scores["usage"].dropna(), result.normalised["csat"].dropna(), check_names=False, atol=1e-9
    )


# --- invalid input --------------------------------------------------------------------------
def test_non_numeric_value_names_indicator_and_unit(fw: Framework) -> None:
    long = to_long(make_wide()).astype({"value": object})
    row = long.index[(long["unit"] == "o05") & (long["indicator"] == "outage")][0]
    long.loc[row, "value"] = "n/a"
    with pytest.raises(EgovError) as info:
        evaluate(long, fw)
    text = str(info.value)
    assert "'outage'" in text and "'o05'" in text and "n/a" in text


def test_non_numeric_value_in_wide_data(fw: Framework) -> None:
    wide = make_wide().astype({"csat": object})
    wide.loc["o02", "csat"] = "high"
    with pytest.raises(EgovError, match=r"indicator 'csat', unit 'o02'"):
        evaluate(wide, fw)


def test_infinite_value_raises(fw: Framework) -> None:
    wide = make_wide()
    wide.loc["o01", "uptime"] = np.inf
    with pytest.raises(EgovError) as info:
        evaluate(wide, fw)
    assert "'uptime'" in str(info.value) and "'o01'" in str(info.value)


def test_duplicate_unit_indicator_in_long_data_raises(fw: Framework) -> None:
    long = to_long(make_wide())
    dup = long[(long["unit"] == "o07") & (long["indicator"] == "patch")].assign(value=1.0)
    with pytest.raises(EgovError) as info:
        evaluate(pd.concat([long, dup], ignore_index=True), fw)
    assert "duplicate" in str(info.value) and "(o07, patch)" in str(info.value)


def test_duplicate_unit_in_wide_data_raises(fw: Framework) -> None:
    wide = make_wide()
    with pytest.raises(EgovError, match=r"duplicate units.*o03"):
        evaluate(pd.concat([wide, wide.loc[["o03"]]]), fw)


def test_empty_data_raises(fw: Framework) -> None:
    with pytest.raises(EgovError, match="no units"):
        evaluate(pd.DataFrame(columns=["unit", "indicator", "value"]), fw)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"methods": {"aggregation": "median"}}, "unknown aggregation method 'median'"),
        ({"aggregates": {"infra": {"aggregation": "mode"}}}, "unknown aggregation method 'mode'"),
        ({"aggregates": {"nope": {"aggregation": "arithmetic"}}}, "aggregates.nope"),
        ({"aggregates": {"uptime": {"aggregation": "arithmetic"}}}, "aggregates.uptime"),
        ({"methods": {"normalisation": {"method": "zscores"}}}, "unknown normalisation method 'zscores'"),
        ({"methods": {"normalisation": {"method": "minmax", "lower": 9, "upper": 1}}}, "upper"),
        (
            {"indicators": {"csat": {"normalisation": {"method": "ranks"}}}},
            "indicators.csat.normalisation.method: unknown normalisation method 'ranks'",
        ),
        (
            {"indicators": {"csat": {"normalisation": {"method": "rank", "lower": 0}}}},
            "indicators.csat.normalisation.lower: unknown parameter for method 'rank'",
        ),
        ({"indicators": {"csat": {"aggregation": "arithmetic"}}}, "indicators.csat.aggregation: unknown key"),
        ({"indicators": {"infra": {"normalisation": {"method": "none"}}}}, "indicators.infra"),
        ({"methods": {"rollup": "sum"}}, "unknown roll-up method 'sum'"),
    ],
)
def test_invalid_spec_raises(fw: Framework, spec: dict, needle: str) -> None:
    with pytest.raises(EgovError) as info:
        evaluate(make_wide(), fw, parse_spec(spec))
    assert needle in str(info.value)


def test_geometric_spec_on_zero_based_scale_names_the_node(fw: Framework) -> None:
    # minmax [0, 100] gives the worst unit 0, which a geometric mean cannot take
    with pytest.raises(EgovError) as info:
        evaluate(make_wide(), fw, parse_spec({"aggregates": {"avail": {"aggregation": "geometric"}}}))
    assert "'avail'" in str(info.value) and "> 0" in str(info.value)


def test_spec_overrides_apply(fw: Framework) -> None:
    wide = make_wide()
    spec = parse_spec(
        {
            "methods": {
                "normalisation": {"method": "minmax", "lower": 1, "upper": 100},
                "aggregation": "geometric",
            },
            "indicators": {"csat": {"normalisation": {"method": "goalposts", "min": 50, "max": 100}}},
        }
    )
    result = evaluate(wide, fw, spec)
    n = result.normalised
    assert n["uptime"].min() == pytest.approx(1) and n["uptime"].max() == pytest.approx(100)
    # the spec's global normalisation replaces the framework's goalposts of 'patch' too
    assert n["patch"].min() == pytest.approx(1)
    pd.testing.assert_series_equal(n["csat"], (wide["csat"] - 50) / 50 * 100, check_names=False, atol=1e-9)
    usage = np.exp((np.log(n["users"]) + 3 * np.log(n["csat"])) / 4)
    pd.testing.assert_series_equal(result.scores["usage"], usage, check_names=False, atol=1e-9)


# --- spec files -----------------------------------------------------------------------------
def test_load_spec_round_trip(tmp_path: Path, fw: Framework) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(
        "[methods]\n"
        'normalisation = { method = "minmax", lower = 1, upper = 100 }\n'
        'rollup = "min"\n'
        'aggregation = "geometric"\n'
        "[indicators.csat]\n"
        'normalisation = { method = "goalposts", min = 50, max = 100 }\n',
        encoding="utf-8",
    )
    spec = load_spec(path)
    assert spec == EvaluationSpec(
        methods={
            "normalisation": {"method": "minmax", "lower": 1.0, "upper": 100.0},
            "rollup": {"method": "min"},
            "aggregation": {"method": "geometric"},
        },
        indicators={
            "csat": {
                "normalisation": {
                    "method": "goalposts",
                    "min": 50.0,
                    "max": 100.0,
                    "clip": True,
                    "scale": 100.0,
                }
            }
        },
    )
    result = evaluate(make_wide(), fw, spec, units=make_units())
    assert result.spec["methods"]["rollup"] == {"method": "min"}


def test_load_spec_reports_problems(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(
        'weights = 1\n[methods]\nnormalisation = 3\n[indicators.csat]\nmethod = "x"\n', encoding="utf-8"
    )
    with pytest.raises(EgovError) as info:
        load_spec(path)
    problems = info.value.problems
    assert any(p.startswith("weights:") for p in problems)
    assert any(p.startswith("methods.normalisation:") for p in problems)
    assert any(p.startswith("indicators.csat.method:") for p in problems)
    with pytest.raises(EgovError, match="no such spec file"):
        load_spec(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("rollup = \n", encoding="utf-8")
    with pytest.raises(EgovError, match="not valid TOML"):
        load_spec(tmp_path / "bad.toml")


def test_to_wide_pivots_long_data() -> None:
    long = pd.DataFrame({"unit": ["b", "a", "a"], "indicator": ["x", "x", "y"], "value": [1.0, 2.0, 3.0]})
    wide = to_wide(long)
    assert list(wide.index) == ["a", "b"] and list(wide.columns) == ["x", "y"]
    assert wide.loc["a", "y"] == 3.0 and math.isnan(cast(float, wide.loc["b", "y"]))
