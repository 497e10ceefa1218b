"""Every way an evaluation can go wrong gives a clear EgovError or a recorded warning that
names the indicator or node (and the method, parameter or unit) — never a traceback, a
silent NaN or a generic message. The texts are asserted so that they stay helpful.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from egov.errors import EgovError
from evaluation.engine import evaluate
from evaluation.spec import parse_spec
from indicators.framework import Framework, build_framework
from indicators.writer import framework_to_toml

UNITS = ["u1", "u2", "u3", "u4", "u5", "u6"]
IND_PATH = "categories.c1.dimensions.d1.indicators"


def names(code: str) -> dict[str, str]:
    return {"zh-Hant": code, "pt": code, "en": code}


def indicator(**extra: Any) -> dict[str, Any]:
    return {"name": names("x"), "unit": "points", "direction": 1, "rationale": "synthetic", **extra}


BASE: dict[str, Any] = {
    "framework": {"code": "errors", "version": "1", "name": names("errors")},
    "categories": {
        "c1": {
            "name": names("c1"),
            "dimensions": {
                "d1": {"name": names("d1"), "indicators": {"i1": indicator(), "i2": indicator()}},
                "d2": {"name": names("d2"), "indicators": {"i3": indicator(), "i4": indicator()}},
            },
        }
    },
}


def framework(
    methods: dict[str, Any] | None = None,
    i1: dict[str, Any] | None = None,
    d1: dict[str, Any] | None = None,
) -> Framework:
    data = copy.deepcopy(BASE)
    if methods:
        data["methods"] = methods
    if i1:
        data["categories"]["c1"]["dimensions"]["d1"]["indicators"]["i1"].update(i1)
    if d1:
        data["categories"]["c1"]["dimensions"]["d1"].update(d1)
    return build_framework(data, origin="fw.toml")


def data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        np.round(rng.uniform(1, 100, (6, 4)), 2), index=UNITS, columns=["i1", "i2", "i3", "i4"]
    )


def raises(fn: Any, *needles: str) -> EgovError:
    with pytest.raises(EgovError) as info:
        fn()
    text = str(info.value)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    return info.value


# --- unknown methods -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "stage", "name", "path"),
    [
        ("i1", "normalisation", "minmaxx", f"{IND_PATH}.i1.normalisation.method"),
        ("i1", "imputation", "meen", f"{IND_PATH}.i1.imputation.method"),
        ("i1", "treatment", "winsorize", f"{IND_PATH}.i1.treatment.method"),
        ("i1", "denomination", "per_capita", f"{IND_PATH}.i1.denomination.method"),
        ("d1", "aggregation", "geometrical", "categories.c1.dimensions.d1.aggregation.method"),
        ("d1", "weighting", "expert", "categories.c1.dimensions.d1.weighting.method"),
        ("methods", "rollup", "average", "methods.rollup.method"),
    ],
)
def test_unknown_method_in_the_framework_names_its_key_path(
    where: str, stage: str, name: str, path: str
) -> None:
    table = {stage: name}
    kwargs = {"methods": table} if where == "methods" else {where: table}
    stage_word = {"treatment": "outlier treatment", "rollup": "roll-up"}.get(stage, stage)
    err = raises(
        lambda: framework(**kwargs),
        "fw.toml: invalid framework",
        path,
        f"unknown {stage_word} method '{name}'",
    )
    assert err.problems[0].startswith(path)
    assert "known: " in err.problems[0]  # the known names are listed


def test_unknown_method_in_the_spec_names_the_node() -> None:
    raises(
        lambda: parse_spec({"indicators": {"i1": {"normalisation": "minmaxx"}}}, origin="spec.toml"),
        "spec.toml: invalid spec",
        "indicators.i1.normalisation.method: unknown normalisation method 'minmaxx'",
    )
    raises(
        lambda: parse_spec({"aggregates": {"d1": {"aggregation": {"method": "median"}}}}),
        "aggregates.d1.aggregation.method: unknown aggregation method 'median'",
    )


def test_spec_for_a_node_the_framework_lacks_names_it() -> None:
    spec = parse_spec({"indicators": {"nope": {"normalisation": "rank"}}, "aggregates": {"i1": {}}})
    raises(
        lambda: evaluate(data(), framework(), spec),
        "invalid method spec",
        "spec indicators.nope: not an indicator of framework errors",
        "spec aggregates.i1: not an aggregate of framework errors",
    )


# --- bad parameters ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stage", "value", "needle"),
    [
        (
            "normalisation",
            {"method": "minmax", "lower": 100, "upper": 0},
            "normalisation.upper: must be greater than lower",
        ),
        (
            "normalisation",
            {"method": "minmax", "lowr": 1},
            "normalisation.lowr: unknown parameter for method 'minmax' (allowed: lower, upper)",
        ),
        ("normalisation", {"method": "zscore", "sd": 0}, "normalisation.sd: must be > 0"),
        (
            "normalisation",
            {"method": "goalposts", "min": 0},
            "normalisation.max: required by method 'goalposts'",
        ),
        (
            "normalisation",
            {"method": "goalposts", "min": 5, "max": 5},
            "normalisation.max: must differ from min",
        ),
        (
            "normalisation",
            {"method": "percentile", "scale": "100"},
            "normalisation.scale: must be a number, not '100'",
        ),
        (
            "normalisation",
            {"method": "distance_to_reference"},
            "normalisation.unit: required by method 'distance_to_reference'",
        ),
        ("denomination", {"method": "divide", "scale": -1000}, "denomination.scale: must be > 0"),
        ("imputation", {"method": "group_mean"}, "imputation.by: required by method 'group_mean'"),
        (
            "imputation",
            {"method": "mean", "by": "peer_group"},
            "imputation.by: unknown parameter for method 'mean'",
        ),
        (
            "treatment",
            {"method": "coinr", "winmax": 2.5},
            "treatment.winmax: must be a whole number, not 2.5",
        ),
        (
            "treatment",
            {"method": "winsorise", "lower": 0.9, "upper": 0.1},
            "treatment.upper: must be greater than lower",
        ),
        ("treatment", {"method": "winsorise", "upper": 1.5}, "treatment.upper: must be between 0 and 1"),
        (
            "treatment",
            {"method": "log", "variant": "log10"},
            "treatment.variant: unknown log variant 'log10'",
        ),
        (
            "treatment",
            {"method": "boxcox", "shift": "yes"},
            "treatment.shift: must be true or false, not 'yes'",
        ),
    ],
)
def test_bad_indicator_parameter_names_the_indicator_and_parameter(
    stage: str, value: Any, needle: str
) -> None:
    raises(lambda: framework(i1={stage: value}), "fw.toml: invalid framework", f"{IND_PATH}.i1.{needle}")


@pytest.mark.parametrize(
    ("stage", "value", "needle"),
    [
        ("aggregation", {"method": "generalised", "p": "two"}, "aggregation.p: must be a number, not 'two'"),
        (
            "aggregation",
            {"method": "arithmetic", "p": 2},
            "aggregation.p: unknown parameter for method 'arithmetic'",
        ),
        (
            "weighting",
            {"method": "equal", "weights": [1, 2]},
            "weighting.weights: unknown parameter for method 'equal'",
        ),
        ("min_coverage", 1.5, "min_coverage: must be between 0 and 1"),
    ],
)
def test_bad_aggregate_parameter_names_the_node_and_parameter(stage: str, value: Any, needle: str) -> None:
    raises(lambda: framework(d1={stage: value}), "categories.c1.dimensions.d1." + needle)


def test_every_problem_is_reported_at_once() -> None:
    err = raises(
        lambda: framework(
            methods={"normalisation": {"method": "zscore", "sd": -1}},
            i1={"normalisation": "minmaxx", "imputation": {"method": "group_median"}},
        ),
        "invalid framework (3 problems)",
    )
    assert len(err.problems) == 3


# --- geometric (and harmonic) means over zeros -------------------------------------------------
@pytest.mark.parametrize("method", ["geometric", "harmonic", {"method": "generalised", "p": -1}])
def test_mean_over_zeros_names_the_node_and_the_indicators(method: Any) -> None:
    """min-max to [0, 100] gives the worst unit 0 on every indicator: the geometric mean of a
    0 is 0 whatever the other values (it cannot compensate), log(0) is undefined, so it is
    an error with the remedy. # OECD/JRC Handbook (2008) §6: geometric aggregation needs x > 0."""
    fw = framework(methods={"aggregation": method})
    name = method if isinstance(method, str) else "generalised"
    raises(
        lambda: evaluate(data(), fw),
        f"aggregating 'd1' ({name})",
        "needs values > 0",
        "lower = 1",
        "values <= 0 in: i1, i2",
    )


def test_geometric_mean_over_a_zero_in_the_spec_names_the_aggregate() -> None:
    spec = parse_spec({"aggregates": {"d2": {"aggregation": "geometric"}}})
    raises(
        lambda: evaluate(data(), framework(), spec), "aggregating 'd2' (geometric)", "values <= 0 in: i3, i4"
    )


def test_geometric_mean_on_a_positive_scale_is_fine() -> None:
    fw = framework(
        methods={"aggregation": "geometric", "normalisation": {"method": "minmax", "lower": 1, "upper": 100}}
    )
    result = evaluate(data(), fw)
    assert result.scores.notna().all().all() and result.warnings == []


# --- missing and constant indicators -------------------------------------------------------------
def test_all_missing_indicator_is_a_warning_naming_it() -> None:
    wide = data()
    wide["i2"] = np.nan
    result = evaluate(wide, framework())
    assert result.warnings == ["indicator 'i2': no values for any unit; left out of every aggregate"]
    assert result.normalised["i2"].isna().all()
    # d1 is scored from i1 alone (weights renormalised over the present children)
    pd.testing.assert_series_equal(result.scores["d1"], result.scores["i1"], check_names=False)


def test_indicator_without_a_data_column_is_a_warning_naming_it() -> None:
    result = evaluate(data().drop(columns="i4"), framework())
    assert "indicator 'i4': no data column; treated as missing for every unit" in result.warnings
    assert "indicator 'i4': no values for any unit; left out of every aggregate" in result.warnings


def test_all_missing_with_min_coverage_leaves_the_aggregate_missing() -> None:
    wide = data()
    wide["i2"] = np.nan
    result = evaluate(wide, framework(d1={"min_coverage": 1.0}))
    assert result.scores["d1"].isna().all()
    assert result.scores["index"].notna().all()  # c1 from d2 alone


@pytest.mark.parametrize(
    "method",
    ["minmax", {"method": "zscore", "mean": 10, "sd": 2}, "distance_to_max"],
)
def test_zero_variance_indicator_is_a_warning_naming_it(method: Any) -> None:
    wide = data()
    wide["i3"] = 42.0
    result = evaluate(wide, framework(methods={"normalisation": method}))
    assert result.warnings == [
        "indicator 'i3': all 6 units have the same value (42); zero range, so it cannot tell "
        "units apart and is left out"
    ]
    assert result.normalised["i3"].isna().all()
    assert result.scores["d2"].notna().all()


def test_zero_variance_is_no_problem_for_fixed_goalposts() -> None:
    wide = data()
    wide["i3"] = 42.0
    fw = framework(methods={"normalisation": {"method": "goalposts", "min": 0, "max": 100}})
    result = evaluate(wide, fw)
    assert result.warnings == []
    assert (result.normalised["i3"] == 42.0).all()


def test_zero_variance_under_coinr_treatment_is_left_untreated() -> None:
    """An indicator whose values are all equal has no outliers: left as it is (and then
    left out by min-max with the zero-range warning naming it)."""
    wide = data()
    wide["i3"] = 42.0
    result = evaluate(wide, framework(methods={"treatment": "coinr"}))
    assert any(w.startswith("indicator 'i3': all 6 units have the same value (42)") for w in result.warnings)
    assert not result.treated_mask["i3"].any()
    assert (result.treated["i3"] == 42.0).all()
    assert result.treatment.loc["i3", "note"] == "all values equal; left untreated"


def test_boxcox_over_constant_values_names_the_indicator() -> None:
    wide = data()
    wide["i3"] = 42.0
    raises(
        lambda: evaluate(wide, framework(methods={"treatment": "boxcox"})),
        "indicator 'i3': Box-Cox cannot estimate lambda: all values are equal",
    )


def test_boxcox_over_non_positive_values_names_the_indicator_and_unit() -> None:
    wide = data()
    wide.loc["u4", "i2"] = -3.0
    raises(
        lambda: evaluate(wide, framework(methods={"treatment": "boxcox"})),
        "indicator 'i2': Box-Cox needs values > 0 but unit 'u4' has -3",
        "shift = true",
    )


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        (
            {"method": "distance_to_reference", "unit": "nope"},
            "the reference unit 'nope' has no value for it",
        ),
        ({"method": "distance_to_reference", "unit": "u1"}, "the reference unit 'u1' has the worst value"),
        ({"method": "distance_to_target", "target": 0}, "the target 0 equals the worst value"),
        ("fraction_of_max", "the best value is 0"),
    ],
)
def test_normalisation_that_gives_nothing_says_why_not_zero_range(method: Any, reason: str) -> None:
    """Values that differ but a normaliser with nothing to measure against: the warning
    names the indicator, the method and the reason (not a misleading "same value")."""
    wide = data()
    wide["i1"] = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    if method == "fraction_of_max":
        wide["i1"] = -wide["i1"]
    result = evaluate(wide, framework(i1={"normalisation": method}))
    name = method if isinstance(method, str) else method["method"]
    assert result.warnings == [
        f"indicator 'i1': normalisation {name} gives no value for any unit ({reason}); left out of every aggregate"
    ]
    assert result.normalised["i1"].isna().all()


# --- denominators ----------------------------------------------------------------------------
PER_CAPITA = {"denominator": "population", "denomination": {"method": "divide", "scale": 1000}}


def test_missing_denominator_column_names_the_indicator_and_column() -> None:
    raises(
        lambda: evaluate(data(), framework(i1=PER_CAPITA)),
        "indicator 'i1': its denominator 'population' is neither a unit column nor an indicator",
    )


def test_non_numeric_denominator_names_it() -> None:
    units = pd.DataFrame({"population": ["10", "20", "many", "40", "50", "60"]}, index=UNITS)
    raises(
        lambda: evaluate(data(), framework(i1=PER_CAPITA), units=units),
        "denominator 'population' of indicator 'i1': 'many' is not a number",
    )


def test_zero_denominator_is_a_warning_and_leaves_the_cell_missing() -> None:
    units = pd.DataFrame({"population": [10.0, 0.0, 30.0, 40.0, 50.0, 60.0]}, index=UNITS)
    wide = data()
    result = evaluate(wide, framework(i1=PER_CAPITA), units=units)
    assert result.warnings == ["indicator 'i1': denominator 'population' is 0 for u2; left missing"]
    assert np.isnan(cast(float, result.denominated.loc["u2", "i1"]))
    assert result.denominated.loc["u1", "i1"] == pytest.approx(cast(float, wide.loc["u1", "i1"]) / 10 * 1000)


def test_denominator_that_is_an_aggregate_is_a_framework_error() -> None:
    raises(
        lambda: framework(i1={"denominator": "d2"}),
        f"{IND_PATH}.i1.denominator: 'd2' is an aggregate, not a variable or indicator",
    )


def test_denominator_of_itself_is_a_framework_error() -> None:
    raises(lambda: framework(i1={"denominator": "i1"}), "an indicator cannot be divided by itself")


# --- group imputation ------------------------------------------------------------------------
def with_gap() -> pd.DataFrame:
    wide = data()
    wide.loc["u3", "i1"] = np.nan
    return wide


def test_group_imputation_without_the_group_column_names_the_indicator_and_column() -> None:
    fw = framework(i1={"imputation": {"method": "group_mean", "by": "region"}})
    raises(
        lambda: evaluate(with_gap(), fw),
        "indicator 'i1': imputation by 'region' needs a unit column 'region'",
    )


def test_group_imputation_with_a_unit_outside_every_group_names_the_indicator_and_unit() -> None:
    """peer_group is a known unit attribute, so the column exists but is empty here."""
    fw = framework(i1={"imputation": {"method": "group_median", "by": "peer_group"}})
    raises(
        lambda: evaluate(with_gap(), fw),
        "indicator 'i1'",
        "group imputation by 'peer_group': no group for unit(s) u1",
    )


# --- targets -----------------------------------------------------------------------------------
def test_distance_to_target_without_a_target_names_the_indicator() -> None:
    raises(
        lambda: evaluate(data(), framework(i1={"normalisation": "distance_to_target"})),
        "indicator 'i1': normalisation distance_to_target needs a target",
        "set `target` on the indicator or in the method",
    )


def test_distance_to_target_takes_the_indicator_target() -> None:
    result = evaluate(data(), framework(i1={"normalisation": "distance_to_target", "target": 200}))
    x = data()["i1"]
    expected = (x - x.min()) / (200 - x.min()) * 100
    pd.testing.assert_series_equal(result.normalised["i1"], expected, check_names=False)


# --- through the command line: a message and exit code 1, never a traceback -------------------
def test_cli_reports_an_unknown_method_without_a_traceback(tmp_path: Path, egov) -> None:
    fw = tmp_path / "fw.toml"
    fw.write_text(
        """
[framework]
code = "errors"
version = "1"
name = { zh-Hant = "e", pt = "e", en = "e" }

[methods]
normalisation = "minmaxx"

[categories.c1]
name = { zh-Hant = "c", pt = "c", en = "c" }

[categories.c1.indicators.i1]
name = { zh-Hant = "i", pt = "i", en = "i" }
unit = "points"
direction = 1
rationale = "synthetic"
""",
        encoding="utf-8",
    )
    csv = tmp_path / "data.csv"
    csv.write_text("unit,i1\nu1,1\nu2,2\n", encoding="utf-8")
    result = egov(["evaluate", fw, csv, "--out", tmp_path / "out"])
    assert result.code == 1
    assert "methods.normalisation.method: unknown normalisation method 'minmaxx'" in result.err + result.out
    assert "Traceback" not in result.err + result.out


def test_cli_reports_a_geometric_mean_over_zeros_without_a_traceback(tmp_path: Path, egov) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('[methods]\naggregation = "geometric"\n', encoding="utf-8")
    csv = tmp_path / "data.csv"
    data().rename_axis("unit").to_csv(csv)
    fw = tmp_path / "fw.toml"
    fw.write_text(framework_to_toml(framework()), encoding="utf-8")
    result = egov(["evaluate", fw, csv, "--out", tmp_path / "out", "--spec", spec])
    assert result.code == 1
    assert "aggregating 'd1' (geometric)" in result.err + result.out
    assert "Traceback" not in result.err + result.out
