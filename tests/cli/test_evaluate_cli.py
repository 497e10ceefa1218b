"""`egov evaluate` with no database: long CSV, wide XLSX, spec files, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FRAMEWORK = """
[framework]
code = "tiny"
version = "1"
name = { zh-Hant = "小", pt = "Pequeno", en = "Tiny" }

[categories.a]
name = { zh-Hant = "甲", pt = "A", en = "A" }
[categories.a.indicators.x]
name = { zh-Hant = "x", pt = "x", en = "x" }
unit = "%"
direction = 1
rationale = "test"
[categories.a.indicators.y]
name = { zh-Hant = "y", pt = "y", en = "y" }
unit = "hours"
direction = -1
weight = 3
rationale = "test"

[categories.b]
name = { zh-Hant = "乙", pt = "B", en = "B" }
weight = 2
[categories.b.indicators.z]
name = { zh-Hant = "z", pt = "z", en = "z" }
unit = "%"
direction = 1
normalisation = { method = "goalposts", min = 0, max = 50 }
rationale = "test"
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    fw = tmp_path / "tiny.toml"
    fw.write_text(FRAMEWORK, encoding="utf-8")
    wide = pd.DataFrame(
        {"x": [10.0, 20.0, 30.0, np.nan], "y": [5.0, 1.0, 3.0, 2.0], "z": [25.0, 60.0, 0.0, 50.0]},
        index=pd.Index(["u1", "u2", "u3", "u4"], name="unit"),
    )
    return fw, wide


def expected(wide: pd.DataFrame) -> pd.Series:
    x = (wide["x"] - 10) / 20 * 100
    y = (5 - wide["y"]) / 4 * 100
    a = (x.fillna(0) * 1 + y * 3) / (x.notna() * 1 + 3)
    z = (wide["z"] / 50 * 100).clip(0, 100)
    return (a * 1 + z * 2) / 3


def test_long_csv_and_wide_xlsx_agree_with_hand_computation(egov, files, tmp_path: Path) -> None:
    fw, wide = files
    long = wide.reset_index().melt(id_vars="unit", var_name="indicator", value_name="value").dropna()
    long.to_csv(tmp_path / "long.csv", index=False)
    wide.to_excel(tmp_path / "wide.xlsx")
    for name in ("long.csv", "wide.xlsx"):
        out = tmp_path / f"out-{name}"
        r = egov(["evaluate", fw, tmp_path / name, "--out", out])
        assert r.code == 0, r.err
        scores = pd.read_csv(out / "scores.csv", index_col="unit")
        assert list(scores.columns[:4]) == ["Rank", "index", "a", "b"]
        pd.testing.assert_series_equal(
            scores["index"].sort_index(), expected(wide).rename("index"), check_names=False, atol=1e-9
        )
        assert scores["Rank"].tolist() == sorted(scores["Rank"].tolist())  # best first
        ranks = pd.read_csv(out / "ranks.csv", index_col="unit")
        assert set(ranks.columns) == {"index", "a", "b", "x", "y", "z"}
        long_out = pd.read_csv(out / "results_long.csv")
        assert set(long_out["node"]) == {"index", "a", "b", "x", "y", "z"}


def test_spec_file_overrides_the_framework(egov, files, tmp_path: Path) -> None:
    fw, wide = files
    wide.to_csv(tmp_path / "d.csv")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[methods]\nnormalisation = { method = "minmax", lower = 1, upper = 100 }\naggregation = "geometric"\n',
        encoding="utf-8",
    )
    r = egov(["evaluate", fw, tmp_path / "d.csv", "--out", tmp_path / "o", "--spec", spec])
    assert r.code == 0, r.err
    scores = pd.read_csv(tmp_path / "o" / "scores.csv", index_col="unit")
    assert scores.loc["u1", "z"] == pytest.approx(1 + 25 / 60 * 99)  # minmax replaced goalposts
    a = scores.loc["u1", "a"]
    x, y = 1.0, 1.0  # u1 has the lowest x and the worst y
    assert a == pytest.approx(np.exp((np.log(x) + 3 * np.log(y)) / 4))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("unit,x,y,z\nu1,1,2,3\nu2,abc,2,3\n", "indicator 'x', unit 'u2': 'abc' is not a number"),
        ("unit,x,y,z\nu1,1,2,3\nu1,1,2,3\n", "duplicate units in the data: u1"),
        ("unit,indicator,value\nu1,x,1\nu1,x,2\n", "duplicate values for (unit, indicator): (u1, x)"),
        ("unit,x,y,z\n,1,2,3\n", "line 2: empty unit"),
    ],
)
def test_bad_data_gives_a_clear_message(egov, files, tmp_path: Path, content: str, message: str) -> None:
    fw, _ = files
    data = tmp_path / "bad.csv"
    data.write_text(content, encoding="utf-8")
    r = egov(["evaluate", fw, data, "--out", tmp_path / "o"])
    assert r.code == 1, r.out
    assert message in r.err
    assert "Traceback" not in r.err
    assert not (tmp_path / "o").exists()


def test_missing_and_wrong_files(egov, files, tmp_path: Path) -> None:
    fw, _ = files
    r = egov(["evaluate", fw, tmp_path / "nope.csv", "--out", tmp_path / "o"])
    assert r.code == 1 and "no such file" in r.err
    (tmp_path / "d.json").write_text("{}", encoding="utf-8")
    r = egov(["evaluate", fw, tmp_path / "d.json", "--out", tmp_path / "o"])
    assert r.code == 1 and "unsupported file type '.json'" in r.err
    (tmp_path / "fake.xlsx").write_text("not a workbook", encoding="utf-8")
    r = egov(["evaluate", fw, tmp_path / "fake.xlsx", "--out", tmp_path / "o"])
    assert r.code == 1 and "cannot read as XLSX" in r.err
    (tmp_path / "d.csv").write_text("unit,x\nu1,1\n", encoding="utf-8")
    r = egov(["evaluate", fw, tmp_path / "d.csv", "--out", tmp_path / "o", "--unit-column", "id"])
    assert r.code == 1 and "no column 'id'" in r.err
    bad_spec = tmp_path / "s.toml"
    bad_spec.write_text(
        '[methods]\nrollup = "max"\n[aggregates.nope]\naggregation = "median"\n', encoding="utf-8"
    )
    r = egov(["evaluate", fw, tmp_path / "d.csv", "--out", tmp_path / "o", "--spec", bad_spec])
    assert r.code == 1
    assert "aggregates.nope.aggregation.method: unknown aggregation method 'median'" in r.err


def test_usage_errors_exit_2_without_traceback(egov) -> None:
    r = egov(["--bogus"])
    assert r.code == 2 and "No such option" in r.err and "Traceback" not in r.err
    r = egov(["evaluate"])
    assert r.code == 2 and "Missing argument" in r.err


def test_a_unit_without_a_score_is_printed_as_not_scored(egov, files, tmp_path: Path) -> None:
    """Issue 14: a 3-row file where one unit has no value at all used to crash the summary
    ("internal error: ValueError: cannot convert float NaN to integer", exit 2)."""
    fw, _ = files
    data = tmp_path / "d.csv"
    data.write_text("unit,x,y,z\nu1,10,5,25\nu2,20,1,60\nu3,,,\n", encoding="utf-8")
    r = egov(["evaluate", fw, data, "--out", tmp_path / "o", "--lang", "en"])
    assert r.code == 0, r.out + r.err
    assert "scored 2 of 3 units" in r.out
    line = next(x for x in r.out.splitlines() if "u3" in x)
    assert "not scored" in line and "nan" not in line.lower()
    # ranks are integers in the files, an empty cell where there is none
    scores = (tmp_path / "o" / "scores.csv").read_text(encoding="utf-8").splitlines()
    assert [x.split(",")[:2] for x in scores[1:]] == [["u2", "1"], ["u1", "2"], ["u3", ""]]
    ranks = pd.read_csv(tmp_path / "o" / "ranks.csv", dtype=str, keep_default_na=False)
    assert set(ranks.drop(columns="unit").to_numpy().ravel()) == {"1", "2", ""}
    long = pd.read_csv(tmp_path / "o" / "results_long.csv", dtype=str, keep_default_na=False)
    assert not long["rank"].str.contains(".", regex=False).any()
