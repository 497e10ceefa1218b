"""`egov uncertainty` on the demo data: rank intervals, tiers, sensitivity indices, CSVs
(SQLite only: the command reads a stored run, the engine part is tested in
tests/evaluation/test_uncertainty.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture
def demo_db(demo_url: str, tmp_path: Path) -> Path:
    """The working folder of a test on a copy of the session's demo database."""
    return tmp_path


@pytest.mark.slow
def test_uncertainty_on_the_demo(demo_db: Path, egov) -> None:  # one demo build for the whole file
    out = demo_db / "unc"
    r = egov(["uncertainty", "--n", "200", "--sensitivity-n", "100", "--out", out, "--lang", "en"])
    assert r.code == 0, r.err
    assert "ILLUSTRATIVE" in r.out and "Traceback" not in r.out + r.err
    assert "Rank uncertainty per department" in r.out and "Sensitivity of the ranks" in r.out
    summary = pd.read_csv(out / "uncertainty_summary.csv", index_col="entity")
    assert len(summary) >= 15
    # every printed row: nominal rank, department, …, interval lo–hi, mean shift, tier
    rows = re.findall(r"│ (\d+)\s+│ (\S+)\s+│.*?│ (\d+)–(\d+)\s+│ ([\d.]+)\s+│ (\d+)\s+│", r.out)
    ranked = summary[summary["nominal_rank"].notna()]
    assert len(rows) == len(ranked) < len(summary)  # the coverage rule leaves some unranked
    for dept in summary.index.difference(ranked.index):  # no rank, no interval: why, no tier: "—"
        assert re.search(rf"│ —\s+│ {dept}\s+│.*│ not ranked overall: scored on \d+ of", r.out) and pd.isna(
            summary.loc[dept, "rank_p05"]
        )
    for rank, dept, lo, hi, shift, tier in rows:
        s = summary.loc[dept]
        assert int(rank) == s["nominal_rank"]
        assert (int(lo), int(hi)) == (s["rank_p05"], s["rank_p95"]) and int(lo) <= int(hi)
        assert float(shift) == pytest.approx(s["mean_shift"], abs=0.006)
        assert int(tier) == s["tier"]
    tiers = ranked.sort_values("nominal_rank")["tier"]
    assert tiers.iloc[0] == 1 and tiers.is_monotonic_increasing and tiers.max() < len(ranked)
    prob = pd.read_csv(out / "uncertainty_prob_above.csv", index_col=0)
    assert prob.shape == (len(summary), len(summary))
    assert ((prob + prob.T) <= 1 + 1e-12).all().all()
    sens = pd.read_csv(out / "uncertainty_sensitivity.csv", index_col="input")
    assert {"normalisation", "aggregation", "ratings", "weights:egov_index"} <= set(sens.index)
    for name in ("uncertainty_ranks.csv", "uncertainty_samples.csv", "uncertainty_sensitivity_by_entity.csv"):
        assert (out / name).stat().st_size > 0
    # the same seed gives the same numbers
    again = egov(["uncertainty", "--n", "200", "--sensitivity-n", "0", "--out", demo_db / "unc2"])
    assert again.code == 0, again.err
    pd.testing.assert_frame_equal(
        pd.read_csv(demo_db / "unc2" / "uncertainty_summary.csv", index_col=0), summary
    )

    # from a period's stored data instead of a run, and bad options (one demo build per file)
    r = egov(
        ["uncertainty", "--period", "2023", "--n", "50", "--sensitivity-n", "0", "--no-rating-draws",
         "--normalisations", "", "--aggregations", "", "--out", demo_db / "p", "--lang", "en"]
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "rating draws: none" in r.out and "outlier treatment: as in the framework" in r.out

    # outlier treatment as an uncertain input (COINr's winsorisation points)
    treat = ["--treatments", "coinr:winmax=1,coinr:winmax=5", "--n", "40", "--sensitivity-n", "0"]
    r = egov(["uncertainty", *treat, "--out", demo_db / "t", "--lang", "en"])
    assert r.code == 0, r.err
    assert "outlier treatment: coinr(winmax=1" in r.out
    samples = pd.read_csv(demo_db / "t" / "uncertainty_samples.csv")
    assert set(samples["treatment"]) == {1, 2}
    bad_treatment = egov(["uncertainty", "--n", "20", "--treatments", "nosuch"])
    assert bad_treatment.code == 1 and "nosuch" in bad_treatment.err
    bad = egov(["uncertainty", "--n", "20", "--aggregations", "copeland"])
    assert bad.code == 1 and "not supported" in bad.err
    both = egov(["uncertainty", "--run", "x", "--period", "2023"])
    assert both.code == 1 and "not both" in both.err
