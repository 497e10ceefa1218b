"""Known-answer conformance: COINr's V1 and V5 pipelines on the ASEM example data.

Source of the reference data: the example data of the R package COINr 1.1.14 (MIT licence,
EU Joint Research Centre), the ASEM Sustainable Connectivity framework (51 countries, 49
indicators → 8 pillars → 2 sub-indices → Index); the expected outputs were produced by
COINr itself and rounded to 10 decimals (see ../shared/reference/README.md, coinr-asem).

V1 = divide each indicator by its denominator → impute the group mean within
`EurAsia_group` (on the denominated values) → screen units with < 90 % data (removes none)
→ COINr's default Treat() (|skew| < 2 or kurtosis < 3.5; winsorise up to 5 points; else
log_CT) → min-max [0, 100] after the direction → weighted arithmetic mean at every level.
V5 = the V1-treated data → rank normalisation (ties take the lowest rank) → arithmetic
mean. Method choices the metadata lacks are in examples/coinr-asem/v1.toml and v5.toml.

Everything runs through the public CLI path (`egov framework import`, `egov evaluate`);
the reference data are read from the shared folder at test time and never copied into
this repository (the tests skip when the folder is absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TOLERANCE = 1e-6
ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "examples" / "coinr-asem"


def _read(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    return df.set_index(df.columns[0])


def worst_difference(ours: pd.DataFrame, ref: pd.DataFrame) -> float:
    """Max absolute difference over the reference's units and columns; missing values must
    be missing in both."""
    assert sorted(ours.index) == sorted(ref.index)
    missing = set(ref.columns) - set(ours.columns)
    assert not missing, f"columns missing: {sorted(missing)}"
    a = ours.loc[ref.index, ref.columns].to_numpy(dtype=float)
    e = ref.to_numpy(dtype=float)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert np.array_equal(nan_a, nan_e), [ref.columns[j] for j in np.unique(np.nonzero(nan_a != nan_e)[1])]
    return float(np.max(np.abs(a[~nan_e] - e[~nan_e]), initial=0.0))


def per_column(ours: pd.DataFrame, ref: pd.DataFrame) -> dict[str, float]:
    return {c: worst_difference(ours[[c]], ref[[c]]) for c in ref.columns}


def run(egov, framework: Path, data: Path, spec: str, out: Path) -> Path:
    evaluated = egov(["evaluate", framework, data, "--spec", SPECS / spec, "--out", out])
    assert evaluated.code == 0, evaluated.err + evaluated.out
    return out


@pytest.fixture(scope="module")
def asem(reference_dir: Path) -> Path:
    return reference_dir / "coinr-asem"


@pytest.fixture
def framework(asem: Path, tmp_path: Path, egov) -> Path:
    path = tmp_path / "asem.toml"
    imported = egov(["framework", "import", asem / "ASEM_iMeta.csv", "--out", path])
    assert imported.code == 0, imported.err + imported.out
    return path


def assert_same_ranks(scores: pd.DataFrame, ref: pd.DataFrame) -> None:
    ranks = scores.loc[ref.index, "Rank"].to_numpy(dtype=float)
    np.testing.assert_array_equal(ranks, ref["Rank"].to_numpy(dtype=float))
    assert scores["Rank"].is_monotonic_increasing  # written best first


def test_v1_every_stage(asem: Path, framework: Path, tmp_path: Path, egov) -> None:
    out = run(egov, framework, asem / "ASEM_iData.csv", "v1.toml", tmp_path / "v1")

    # denomination: indicator / denominator, no scale factor (COINr Denominate)
    denominated = _read(out / "denominated.csv")
    assert worst_difference(denominated, _read(asem / "V1_Denominated.csv")) < TOLERANCE

    # imputation: group mean within EurAsia_group of the denominated values (COINr i_mean_grp)
    imputed = _read(out / "imputed.csv")
    assert worst_difference(imputed, _read(asem / "V1_Imputed.csv")) < TOLERANCE
    flags = pd.read_csv(out / "flags.csv", dtype=str, keep_default_na=False).set_index("unit")
    flags = flags.loc[denominated.index, denominated.columns]
    was_missing = denominated.isna().to_numpy()
    assert was_missing.sum() == 65  # 63 missing values + Elec and Gas of the unit without Energy
    assert set(flags.to_numpy()[was_missing]) <= {"imputed", "imputed, treated"}
    assert "imputed" not in set(flags.to_numpy()[~was_missing])

    # screening at 90 % removes no unit: every unit is treated, none flagged screened out
    screened = _read(asem / "V1_Screened.csv")
    treated = _read(out / "treated.csv")
    assert sorted(treated.dropna(how="all").index) == sorted(screened.index)
    assert not flags.isin(["screened out"]).to_numpy().any()
    assert "screened out" not in (out / "warnings.txt").read_text(encoding="utf-8")
    assert worst_difference(imputed, screened) < TOLERANCE

    # treatment: the per-indicator details (COINr Dets_Table)
    details = _read(asem / "V1_treatment_details.csv")
    details.columns = ["Pass0", "Skew0", "Kurt0", "nwin", "Pass1", "Skew1", "Kurt1"]
    treatment = _read(out / "treatment.csv")
    assert sorted(treatment.index) == sorted(details.index)
    treatment = treatment.loc[details.index]
    assert (treatment["method"] == "coinr").all()
    assert treatment["Pass0"].tolist() == details["Pass0"].tolist()
    winsorised = ~details["Pass0"].astype(bool)
    assert int(winsorised.sum()) == 15
    assert treatment.loc[winsorised, "Pass1"].astype(bool).all()
    assert treatment["nwin"].tolist() == details["nwin"].fillna(0).astype(int).tolist()
    assert not treatment["logged"].astype(bool).any()  # "15 indicators winsorised, none logged"
    for col in ("Skew0", "Kurt0", "Skew1", "Kurt1"):
        assert worst_difference(treatment[[col]], details[[col]]) < TOLERANCE, col
    # a cell is flagged treated exactly where winsorisation changed it
    changed = (treated - imputed).abs() > 0
    assert changed.any().sum() == 15
    is_treated = flags.apply(lambda c: c.str.contains("treated"))
    assert (is_treated == changed.loc[flags.index, flags.columns]).all().all()

    # COINr's own example build is the same pipeline: its treated data set
    assert worst_difference(treated, _read(asem / "example_coin_Treated.csv")) < TOLERANCE

    # scores at every level and the normalised indicators, identical ranks
    ref = _read(asem / "V1_results_full.csv")
    scores = _read(out / "scores.csv")
    assert list(scores.columns[:4]) == ["Rank", "Index", "Conn", "Sust"]
    assert worst_difference(scores, ref) < TOLERANCE, {
        c: d for c, d in per_column(scores, ref).items() if d >= TOLERANCE
    }
    assert_same_ranks(scores, ref)
    normalised = _read(out / "normalised.csv")
    assert worst_difference(normalised, ref[normalised.columns]) < TOLERANCE


# V5 deviates from the published file in three cells for a reason that is not the engine's:
# in the CSV export of the ASEM data, TolMin ("tolerance for minorities", lower is better)
# ties GRC with BGR and CZE at 5.1 and JPN with NOR at 3.4, but in COINr's own (unrounded)
# data GRC and JPN lie a hair above (the export writes 15 significant digits), so under
# rank normalisation BGR, CZE and NOR rank one place higher on TolMin in the reference: +1/9
# on the Social pillar (9 indicators), +1/27 on Sust and +1/54 on the Index. Test
# `test_v5_with_the_ties_broken_as_in_coinr` shows that breaking those two ties by 1e-12
# reproduces every V5 number.
V5_TIE_CELLS = {
    ("NOR", "Social"): 1 / 9,
    ("CZE", "Social"): 1 / 9,
    ("BGR", "Social"): 1 / 9,
    ("NOR", "Sust"): 1 / 27,
    ("CZE", "Sust"): 1 / 27,
    ("BGR", "Sust"): 1 / 27,
    ("NOR", "Index"): 1 / 54,
    ("CZE", "Index"): 1 / 54,
    ("BGR", "Index"): 1 / 54,
}


def test_v5_treated_rank_amean(asem: Path, framework: Path, tmp_path: Path, egov) -> None:
    out = run(egov, framework, asem / "ASEM_iData.csv", "v5.toml", tmp_path / "v5")
    ref = _read(asem / "V5_treated_rank_amean_results.csv")
    scores = _read(out / "scores.csv")
    assert_same_ranks(scores, ref)
    diff = scores.loc[ref.index, ref.columns].astype(float) - ref.astype(float)
    for (unit, node), expected in V5_TIE_CELLS.items():
        assert diff.loc[unit, node] == pytest.approx(-expected, abs=TOLERANCE), (unit, node)
        diff.loc[unit, node] = 0.0
    worst = diff.abs().max()
    assert (worst < TOLERANCE).all(), worst[worst >= TOLERANCE].to_dict()
    # the data treated for V5 is V1's treated data
    treated = _read(out / "treated.csv")
    assert worst_difference(treated, _read(asem / "example_coin_Treated.csv")) < TOLERANCE


def test_v5_with_the_ties_broken_as_in_coinr(asem: Path, framework: Path, tmp_path: Path, egov) -> None:
    data = pd.read_csv(asem / "ASEM_iData.csv")
    data["TolMin"] = data["TolMin"].astype(float)
    for unit in ("GRC", "JPN"):
        data.loc[data["uCode"] == unit, "TolMin"] += 1e-12
    path = tmp_path / "ASEM_iData_ties.csv"
    data.to_csv(path, index=False, float_format="%.17g")
    out = run(egov, framework, path, "v5.toml", tmp_path / "v5")
    ref = _read(asem / "V5_treated_rank_amean_results.csv")
    scores = _read(out / "scores.csv")
    assert worst_difference(scores, ref) < TOLERANCE, {
        c: d for c, d in per_column(scores, ref).items() if d >= TOLERANCE
    }
    assert_same_ranks(scores, ref)
