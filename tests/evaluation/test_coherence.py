"""Coherence analysis: correlations (Pearson, Spearman, p-values) against scipy, Cronbach's
alpha and PCA variance by hand, the collinearity and negative-correlation flags, tree
relations, degenerate results, and the CSV files `egov evaluate` writes."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.coherence import (
    coherence,
    coherence_flags,
    correlate,
    correlation_matrix,
    correlations,
    cronbach_alpha,
    pca_variance,
)
from evaluation.engine import EvaluationResult, evaluate
from indicators.framework import parse_framework

FRAMEWORK = """
[framework]
code = "coh"
version = "1"
name = { zh-Hant = "C", pt = "C", en = "C" }

[categories.a]
name = { zh-Hant = "a", pt = "a", en = "a" }
[categories.a.dimensions.d]
name = { zh-Hant = "d", pt = "d", en = "d" }
"""
INDICATORS = {"a.dimensions.d": {"x": 3, "y": 3, "z": 1}, "b": {"v": 1, "w": 1}}


def _framework_text() -> str:
    text = FRAMEWORK + '[categories.b]\nname = { zh-Hant = "b", pt = "b", en = "b" }\n'
    for parent, kids in INDICATORS.items():
        for code, weight in kids.items():
            text += (
                f'[categories.{parent}.indicators.{code}]\nname = {{ zh-Hant = "{code}", pt = "{code}", '
                f'en = "{code}" }}\nunit = "%"\ndirection = 1\nweight = {weight}\nrationale = "t"\n'
            )
    return text


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    f = rng.normal(size=n)
    x = f + rng.normal(scale=0.1, size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x * 2 + rng.normal(scale=0.1, size=n),  # collinear with x
            "z": -0.5 * f + rng.normal(scale=1.0, size=n),  # runs against its aggregate
            "v": rng.normal(size=n),
            "w": rng.normal(size=n),
        },
        index=[f"u{i:02d}" for i in range(n)],
    ).assign(v=lambda d: d["v"].where(d.index != "u05"))  # one missing value


@pytest.fixture(scope="module")
def result(data: pd.DataFrame) -> EvaluationResult:
    return evaluate(data, parse_framework(_framework_text()))


def test_correlations_match_scipy_pairwise_complete(result: EvaluationResult) -> None:
    table = correlations(result, scope="all")
    nodes = list(result.scores.columns)
    assert len(table) == len(nodes) * (len(nodes) - 1) // 2
    for _, row in table.iterrows():
        pair = result.scores[[row["node"], row["other"]]].dropna()
        a, b = pair.iloc[:, 0], pair.iloc[:, 1]
        assert row["n"] == len(pair)
        r, p = stats.pearsonr(a, b)
        assert row["pearson"] == pytest.approx(r, abs=1e-12)
        assert row["pearson_p"] == pytest.approx(p, rel=1e-6, abs=1e-300)
        rho, sp = stats.spearmanr(a, b)
        assert row["spearman"] == pytest.approx(rho, abs=1e-12)
        assert row["spearman_p"] == pytest.approx(sp, rel=1e-6, abs=1e-300)


def test_relations_in_the_tree(result: EvaluationResult) -> None:
    rel = correlations(result, scope="all").set_index(["node", "other"])["relation"]

    def of(a: str, b: str) -> str:
        return str(rel.get((a, b), rel.get((b, a))))

    assert of("x", "y") == "siblings"
    assert of("x", "d") == "parent"
    assert of("x", "a") == "ancestor" and of("x", result.index_code) == "ancestor"
    assert of("x", "v") == "same level"
    assert of("d", "b") == "same level"  # both level 2, different parents
    assert of("y", "b") == "between levels"  # an indicator and another branch's dimension
    assert of("a", "b") == "siblings"


def test_structure_scope_keeps_siblings_ancestors_and_aggregates_of_a_level(result: EvaluationResult) -> None:
    everything = correlations(result, scope="all")
    structure = correlations(result)
    expected = everything[
        everything["relation"].isin(["siblings", "parent", "ancestor"])
        | ((everything["relation"] == "same level") & (everything["level"] > 1))
    ]
    pd.testing.assert_frame_equal(
        structure.sort_values(["node", "other"]).reset_index(drop=True),
        expected.sort_values(["node", "other"]).reset_index(drop=True),
    )
    assert {"x", "v"} - set(structure["node"]) - set(structure["other"]) == set()
    assert not ((structure["node"] == "x") & (structure["other"] == "v")).any()  # other branch
    assert set(structure["relation"]) == {"siblings", "parent", "ancestor", "same level"}


def test_correlation_matrix_blanks_insignificant_values(result: EvaluationResult) -> None:
    full = correlation_matrix(result, ["x", "v", "w"])
    assert full.shape == (3, 3) and np.allclose(np.diag(full), 1)
    blanked = correlation_matrix(result, ["x", "v", "w"], pval=0.05)
    p = stats.pearsonr(result.scores["v"].dropna(), result.scores.loc[result.scores["v"].notna(), "w"])[1]
    assert np.isnan(cast(float, blanked.loc["v", "w"])) == (p >= 0.05)
    spearman = correlate(result.scores[["x", "y"]], method="spearman")
    assert spearman.loc["x", "y"] == pytest.approx(stats.spearmanr(result.scores["x"], result.scores["y"])[0])


def test_cronbach_alpha_by_hand(result: EvaluationResult) -> None:
    """Cronbach (1951): alpha = k / (k - 1) (1 - sum var_i / var(sum))."""
    alpha = cronbach_alpha(result).set_index("node")
    x = result.scores[["x", "y", "z"]].dropna()
    k = 3
    expected = k / (k - 1) * (1 - x.var().sum() / x.sum(axis=1).var())
    assert alpha.loc["d", "alpha"] == pytest.approx(expected)
    assert alpha.loc["d", "children"] == 3 and alpha.loc["d", "n"] == len(x)
    assert alpha.loc["b", "n"] == 39  # complete cases only
    # category a has a single child (d): no alpha
    assert np.isnan(cast(float, alpha.loc["a", "alpha"]))


def test_parallel_items_have_alpha_one() -> None:
    fw = parse_framework(_framework_text())
    x = np.arange(10.0)
    data = pd.DataFrame(
        {"x": x, "y": x + 5, "z": x * 2, "v": x, "w": x**2}, index=[f"u{i}" for i in range(10)]
    )
    res = evaluate(data, fw)  # min-max makes x, y and z identical
    assert cronbach_alpha(res).set_index("node").loc["d", "alpha"] == pytest.approx(1.0)
    pcs = pca_variance(res).set_index("node")
    assert pcs.loc["d", "pc1_variance"] == pytest.approx(1.0)
    assert pcs.loc["d", "kaiser_components"] == 1


def test_pca_variance_is_the_first_eigenvalue_share(result: EvaluationResult) -> None:
    pcs = pca_variance(result).set_index("node")
    x = result.scores[["x", "y", "z"]].dropna()
    eig = np.linalg.eigvalsh(np.corrcoef(x.to_numpy(), rowvar=False))
    assert pcs.loc["d", "pc1_variance"] == pytest.approx(eig.max() / 3)
    assert "z=-" in cast(str, pcs.loc["d", "pc1_loadings"])
    assert np.isnan(cast(float, pcs.loc["a", "pc1_variance"]))  # one child: nothing to analyse


def test_flags_collinear_and_negative(result: EvaluationResult) -> None:
    flags = coherence_flags(result)
    collinear = flags[flags["flag"] == "collinear"]
    assert set(zip(collinear["node"], collinear["other"], strict=True)) == {("x", "y")}
    negative = flags[flags["flag"] == "negative with parent"]
    assert list(negative["node"]) == ["z"] and list(negative["aggregate"]) == ["d"]
    assert "'z' correlates negatively with its own aggregate 'd'" in negative["message"].iloc[0]
    assert coherence_flags(result, collinear=0.9999).query("flag == 'collinear'").empty


def test_degenerate_results_give_missing_values_not_errors() -> None:
    fw = parse_framework(_framework_text())
    one = evaluate(pd.DataFrame({c: [1.0] for c in "xyzvw"}, index=["u1"]), fw)
    tables = coherence(one)
    assert set(tables) == {"correlations", "alpha", "pca", "flags"}
    assert tables["correlations"]["pearson"].isna().all()
    assert tables["alpha"]["alpha"].isna().all()
    assert tables["flags"].empty


def test_evaluate_writes_the_coherence_tables(egov, data: pd.DataFrame, tmp_path: Path) -> None:
    fw = tmp_path / "fw.toml"
    fw.write_text(_framework_text(), encoding="utf-8")
    data.to_csv(tmp_path / "d.csv", index_label="unit")
    r = egov(["evaluate", fw, tmp_path / "d.csv", "--out", tmp_path / "out"])
    assert r.code == 0, r.err + r.out
    for name in ("correlations", "alpha", "pca", "flags"):
        assert (tmp_path / "out" / f"coherence_{name}.csv").is_file(), name
    flags = pd.read_csv(tmp_path / "out" / "coherence_flags.csv")
    assert set(flags["flag"]) == {"collinear", "negative with parent"}
