"""Known-answer conformance: COINr's V3 and V4 pipelines, the effective weights, the PCA
weights, the correlations and the Copeland scores on the ASEM example data.

Source of the reference data: the example data of the R package COINr 1.1.14 (MIT licence,
EU Joint Research Centre), the ASEM Sustainable Connectivity framework (51 countries, 49
indicators → 8 pillars → 2 sub-indices → Index); the expected outputs were produced by
COINr itself and rounded to 10 decimals (see ../shared/reference/README.md, coinr-asem).

- V3 = raw data → min-max [1, 100] after the direction → weighted geometric mean at every
  level (examples/coinr-asem/v3.toml).
- V4 = raw data → z-score with mean 10 and sd 2 (sample sd) → weighted arithmetic mean
  (examples/coinr-asem/v4.toml).
- V1_effective_weights: each node's share of the index (COINr get_eff_weights) against
  weights.csv of the V1 run (examples/coinr-asem/v1.toml).
- V1_corr_pillars_vs_index: Pearson correlation of the index with the 8 pillars, blanked
  when p >= 0.05 (COINr get_corr's default pval), against coherence_correlations.csv.
- V1_PCA_weights_level2_nogroups: loadings of the first principal component of the 8 pillar
  scores (COINr get_PCA, by_groups = FALSE), against weights.csv of a run whose index weighs
  the pillars by `pca` (examples/coinr-asem/v1_pillars_pca.toml).
- V1_pillars_copeland: Copeland score over the 8 pillars with equal weights (COINr
  a_copeland), against scores.csv of a run whose index aggregates the pillars by `copeland`
  (examples/coinr-asem/v1_pillars_copeland.toml).

For the last two, the framework is imported from ASEM_iMeta.csv with the pillars moved
directly under the index (the sub-index rows Conn and Sust left out): the pillar scores are
unchanged, and the index then combines the 8 pillars as COINr's analysis did. The same
checks are also made through the Python API on the published V1 pillar scores
(V1_results_full.csv), independent of our V1 pipeline.

Everything else runs through the public CLI path (`egov framework import`, `egov evaluate`);
the reference data are read from the shared folder at test time and never copied into this
repository (the tests skip when the folder is absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TOLERANCE = 1e-6
ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "coinr-asem"
PILLARS = ["Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ", "Social", "SusEcFin"]


def _read(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    return df.set_index(df.columns[0])


def worst_difference(ours: pd.DataFrame | pd.Series, ref: pd.DataFrame | pd.Series) -> float:
    """Max absolute difference over the reference's rows (and columns); missing values must
    be missing in both."""
    assert sorted(map(str, ours.index)) == sorted(map(str, ref.index))
    a = ours.loc[ref.index].to_numpy(dtype=float) if isinstance(ours, pd.Series) else None
    if a is None:
        missing = set(ref.columns) - set(ours.columns)
        assert not missing, f"columns missing: {sorted(missing)}"
        a = ours.loc[ref.index, ref.columns].to_numpy(dtype=float)
    e = ref.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(e)), "missing values differ"
    return float(np.max(np.abs(a[~np.isnan(e)] - e[~np.isnan(e)]), initial=0.0))


@pytest.fixture(scope="module")
def asem(reference_dir: Path) -> Path:
    return reference_dir / "coinr-asem"


@pytest.fixture
def framework(asem: Path, tmp_path: Path, egov) -> Path:
    path = tmp_path / "asem.toml"
    imported = egov(["framework", "import", asem / "ASEM_iMeta.csv", "--out", path])
    assert imported.code == 0, imported.err + imported.out
    return path


@pytest.fixture
def pillars_framework(asem: Path, tmp_path: Path, egov) -> Path:
    """ASEM_iMeta.csv with the 8 pillars directly under the index (see the module doc)."""
    meta = pd.read_csv(asem / "ASEM_iMeta.csv")
    meta = meta[~meta["iCode"].isin(["Conn", "Sust"])].copy()
    meta.loc[meta["iCode"].isin(PILLARS), "Parent"] = "Index"
    meta.loc[meta["iCode"] == "Index", "Level"] = 3
    table = tmp_path / "asem_pillars.csv"
    meta.to_csv(table, index=False)
    path = tmp_path / "asem_pillars.toml"
    imported = egov(["framework", "import", table, "--out", path, "--lang", "en"])
    assert imported.code == 0, imported.err + imported.out
    assert "8 categories, 49 indicators" in imported.out
    return path


def run(egov, framework: Path, data: Path, spec: str, out: Path) -> Path:
    evaluated = egov(["evaluate", framework, data, "--spec", SPECS / spec, "--out", out])
    assert evaluated.code == 0, evaluated.err + evaluated.out
    return out


def assert_reproduces(scores: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Every reference column to TOLERANCE, identical ranks, written best first."""
    assert list(scores.columns[:4]) == ["Rank", "Index", "Conn", "Sust"]
    assert scores["Rank"].is_monotonic_increasing
    np.testing.assert_array_equal(
        scores.loc[ref.index, "Rank"].to_numpy(dtype=float), ref["Rank"].to_numpy(dtype=float)
    )
    worst = {c: worst_difference(scores[[c]], ref[[c]]) for c in ref.columns}
    assert max(worst.values()) <= TOLERANCE, {c: d for c, d in worst.items() if d > TOLERANCE}


@pytest.mark.parametrize(
    ("spec", "reference"),
    [("v3.toml", "V3_raw_minmax1_100_gmean_results.csv"), ("v4.toml", "V4_raw_zscore10_2_amean_results.csv")],
    ids=["V3-minmax1-100-geometric", "V4-zscore10-2-arithmetic"],
)
def test_cli_reproduces_v3_and_v4(
    spec: str, reference: str, asem: Path, framework: Path, tmp_path: Path, egov
) -> None:
    out = run(egov, framework, asem / "ASEM_iData.csv", spec, tmp_path / "out")
    scores = _read(out / "scores.csv")
    assert_reproduces(scores, _read(asem / reference))


def test_cli_v1_effective_weights_and_correlations(asem: Path, framework: Path, tmp_path: Path, egov) -> None:
    out = run(egov, framework, asem / "ASEM_iData.csv", "v1.toml", tmp_path / "v1")

    # effective weights: every node but the index appears once as a child in weights.csv
    weights = pd.read_csv(out / "weights.csv").set_index("child")
    ref = _read(asem / "V1_effective_weights.csv")
    assert ref.loc["Index", "EffWeight"] == 1
    ref = ref.drop(index="Index")
    assert worst_difference(weights["effective_weight"], ref["EffWeight"]) <= TOLERANCE
    # the framework's weights (all 1 within each parent) are those COINr used
    assert worst_difference(weights["weight"], ref["Weight"]) == 0
    # effective weights of the indicators sum to 1
    indicators = ref.index[ref["Level"] == 1]
    assert abs(weights.loc[indicators, "effective_weight"].sum() - 1) < 1e-12

    # correlations of the index with the pillars, blanked where p >= 0.05 (COINr get_corr)
    corr = pd.read_csv(out / "coherence_correlations.csv")
    rows = corr[(corr["node"] == "Index") & corr["other"].isin(PILLARS)].set_index("other")
    assert set(rows["relation"]) == {"ancestor"}
    ours = rows["pearson"].where(rows["pearson_p"] < 0.05)
    expected = pd.read_csv(asem / "V1_corr_pillars_vs_index.csv").set_index("Var2")
    assert set(expected["Var1"]) == {"Index"}
    assert worst_difference(ours, expected["Correlation"]) <= TOLERANCE
    assert expected["Correlation"].isna().sum() == 2  # Environ and SusEcFin: not significant


def test_cli_v1_pillar_pca_weights(asem: Path, pillars_framework: Path, tmp_path: Path, egov) -> None:
    out = run(egov, pillars_framework, asem / "ASEM_iData.csv", "v1_pillars_pca.toml", tmp_path / "pca")
    weights = pd.read_csv(out / "weights.csv")
    ours = weights[weights["node"] == "Index"].set_index("child")["weight"]
    ref = _read(asem / "V1_PCA_weights_level2_nogroups.csv")
    assert list(ours.index) == list(ref.index)
    assert worst_difference(ours, ref["Weight"]) <= TOLERANCE
    # the pillar scores are V1's
    scores = _read(out / "scores.csv")
    v1 = _read(asem / "V1_results_full.csv")
    assert worst_difference(scores[PILLARS], v1[PILLARS]) <= TOLERANCE


def test_cli_v1_pillars_copeland(asem: Path, pillars_framework: Path, tmp_path: Path, egov) -> None:
    out = run(egov, pillars_framework, asem / "ASEM_iData.csv", "v1_pillars_copeland.toml", tmp_path / "cop")
    scores = _read(out / "scores.csv")
    ref = _read(asem / "V1_pillars_copeland.csv")
    assert worst_difference(scores["Index"], ref["Copeland"]) == 0
    np.testing.assert_array_equal(
        scores.loc[ref.index, "Rank"].to_numpy(dtype=float), ref["CopelandRank"].to_numpy(dtype=float)
    )
    assert scores["Rank"].is_monotonic_increasing


def test_python_api_on_the_published_v1_pillars(asem: Path) -> None:
    """PCA weights, correlations and Copeland computed from COINr's own V1 pillar scores."""
    from evaluation.aggregate import copeland
    from evaluation.coherence import correlate
    from evaluation.rank import rank_desc
    from evaluation.weights import pca

    v1 = _read(asem / "V1_results_full.csv")
    equal = pd.Series(1.0, index=PILLARS)

    ref_pca = _read(asem / "V1_PCA_weights_level2_nogroups.csv")["Weight"]
    assert worst_difference(pca(v1[PILLARS], equal), ref_pca) <= 1e-9

    corr = correlate(v1[["Index", *PILLARS]], method="pearson", pval=0.05).loc["Index", PILLARS]
    ref_corr = pd.read_csv(asem / "V1_corr_pillars_vs_index.csv").set_index("Var2")["Correlation"]
    assert worst_difference(corr, ref_corr) <= 1e-9

    ref_cop = _read(asem / "V1_pillars_copeland.csv")
    score = copeland(v1[PILLARS], equal)
    assert worst_difference(score, ref_cop["Copeland"]) == 0
    assert worst_difference(rank_desc(score), ref_cop["CopelandRank"]) == 0
