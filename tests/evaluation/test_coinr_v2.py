"""Known-answer conformance: COINr's V2 pipeline on the ASEM example data.

Issue: "egov evaluate reproduces ../shared/reference/coinr-asem/V2_raw_minmax_amean_results.csv
(every level, to 1e-6, identical ranks)".

Source of the reference data: the example data of the R package COINr 1.1.14 (MIT licence),
the ASEM Sustainable Connectivity framework (51 countries, 49 indicators → 8 pillars → 2
sub-indices → Index); the expected results were produced by COINr itself. V2 = raw data →
min-max [0, 100] after multiplying by Direction → weighted arithmetic mean at every level,
missing values skipped with weights renormalised; rank 1 = highest, ties take the lowest
rank. See ../shared/reference/README.md. The data are read from that folder at test time and
never copied into this repository; the tests skip when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TOLERANCE = 1e-6


def reference_results(reference_dir: Path) -> pd.DataFrame:
    ref = pd.read_csv(reference_dir / "coinr-asem" / "V2_raw_minmax_amean_results.csv")
    return ref.set_index("uCode")


def assert_matches_reference(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Same units, every reference column within TOLERANCE (NaN where NaN), identical ranks."""
    assert sorted(ours.index) == sorted(ref.index)
    assert set(ours.columns) == set(ref.columns), set(ours.columns) ^ set(ref.columns)
    ours = ours.loc[ref.index, ref.columns]
    # both tables list the units best first
    assert list(ours.sort_values("Rank", kind="mergesort").index) == list(
        ref.sort_values("Rank", kind="mergesort").index
    )
    np.testing.assert_array_equal(ours["Rank"].to_numpy(dtype=float), ref["Rank"].to_numpy(dtype=float))
    failures = []
    for col in ref.columns.drop("Rank"):
        expected, actual = ref[col].to_numpy(dtype=float), ours[col].to_numpy(dtype=float)
        if not np.array_equal(np.isnan(expected), np.isnan(actual)):
            failures.append(f"{col}: missing values differ")
            continue
        present = ~np.isnan(expected)
        worst = float(np.max(np.abs(actual[present] - expected[present]), initial=0.0))
        if worst > TOLERANCE:
            failures.append(f"{col}: max abs difference {worst:.3g}")
    assert not failures, failures


def test_cli_reproduces_coinr_v2(reference_dir: Path, tmp_path: Path, egov) -> None:
    asem = reference_dir / "coinr-asem"
    framework = tmp_path / "asem.toml"
    out = tmp_path / "out"

    imported = egov(["framework", "import", asem / "ASEM_iMeta.csv", "--out", framework, "--lang", "en"])
    assert imported.code == 0, imported.err + imported.out
    assert "49 indicators" in imported.out

    evaluated = egov(["evaluate", framework, asem / "ASEM_iData.csv", "--out", out])
    assert evaluated.code == 0, evaluated.err + evaluated.out
    for name in ("scores.csv", "ranks.csv", "normalised.csv", "results_long.csv"):
        assert (out / name).is_file(), name

    scores = pd.read_csv(out / "scores.csv").set_index("unit")
    ref = reference_results(reference_dir)
    assert list(scores.columns[:4]) == ["Rank", "Index", "Conn", "Sust"]
    assert scores["Rank"].is_monotonic_increasing  # best first
    assert_matches_reference(scores, ref)
    # the indicator columns of scores.csv are the normalised values written separately too
    normalised = pd.read_csv(out / "normalised.csv").set_index("unit")
    pd.testing.assert_frame_equal(
        normalised.loc[ref.index], scores.loc[ref.index, normalised.columns], check_exact=False
    )


def test_python_api_reproduces_coinr_v2(reference_dir: Path) -> None:
    from egov.reader import read_table
    from evaluation.engine import evaluate
    from indicators.importer import import_table

    asem = reference_dir / "coinr-asem"
    framework = import_table(asem / "ASEM_iMeta.csv").framework
    data = read_table(asem / "ASEM_iData.csv").set_index("uCode")
    result = evaluate(data, framework)
    ref = reference_results(reference_dir)

    assert result.index_code == "Index"
    assert result.levels["Index"] == 4 and result.levels["Conn"] == 3 and result.levels["LPI"] == 1
    assert_matches_reference(result.table(), ref)
    # the indicators come out of the normalisation stage unchanged by aggregation
    pd.testing.assert_frame_equal(
        result.normalised.loc[ref.index],
        ref[result.normalised.columns].astype(float),
        atol=TOLERANCE,
        check_names=False,
    )
