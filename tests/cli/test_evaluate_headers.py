"""`egov evaluate --match-first-word` (data columns named "<code> <long name>", as in the DESI
workbook) and `--last-row` (a sheet with other tables below the data)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

FRAMEWORK = """
[framework]
code = "small"
version = "1"
name = { zh-Hant = "小", pt = "Pequeno", en = "Small" }

[categories.c1]
name = { zh-Hant = "一", pt = "Um", en = "One" }
[categories.c1.indicators.1a1]
name = { zh-Hant = "a", pt = "a", en = "a" }
unit = "%"
direction = 1
normalisation = { method = "goalposts", min = 0, max = 1, clip = false }
rationale = "test"
[categories.c1.indicators.1a2]
name = { zh-Hant = "b", pt = "b", en = "b" }
unit = "%"
direction = 1
normalisation = { method = "goalposts", min = 0, max = 1, clip = false }
rationale = "test"
"""
HEADER = "Year,Country,1a1 Basic skills,1a2 Above basic skills"
ROWS = ["y1,AT,0.5,0.25", "y1,BE,0.75,", "y2,AT,0.5,0.5", "y2,BE,1.25,0.75"]  # lines 2..5
BELOW = ["y1_AT,1001,AT,desi_hc", "y1_BE,1001,BE,desi_hc"]  # another table in the same sheet


@pytest.fixture
def framework(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(FRAMEWORK, encoding="utf-8")
    return path


def write(tmp_path: Path, lines: list[str], name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(egov, framework: Path, data: Path, out: Path, *extra: object):
    args = ["evaluate", framework, data, "--unit-column", "Country", "--period-column", "Year"]
    return egov([*args, *extra, "--out", out])


def test_long_headers_match_by_their_first_word(tmp_path: Path, framework: Path, egov) -> None:
    supplied = write(tmp_path, [HEADER, "y1,BE,,0.5", "y1,SUM,1,1"], "supplied.csv")
    spec = write(tmp_path, ["[methods]", 'imputation = "supplied"'], "spec.toml")
    data = write(tmp_path, [HEADER, *ROWS])
    done = run(
        egov, framework, data, tmp_path / "out", "--match-first-word", "--supplied", supplied, "--spec", spec
    )
    assert done.code == 0, done.err + done.out
    scores = pd.read_csv(tmp_path / "out" / "scores.csv", dtype={"period": str}).set_index(["period", "unit"])
    assert scores.loc[("y1", "BE"), "1a2"] == pytest.approx(50.0)  # the supplied value
    assert scores.loc[("y2", "BE"), "1a1"] == pytest.approx(125.0)  # not clipped
    assert scores.loc[("y1", "AT"), "c1"] == pytest.approx(37.5)
    flags = pd.read_csv(tmp_path / "out" / "flags.csv", dtype={"period": str}).set_index(["period", "unit"])
    assert flags.loc[("y1", "BE"), "1a2"] == "imputed"


def test_without_the_option_long_headers_are_not_indicators(tmp_path: Path, framework: Path, egov) -> None:
    done = run(egov, framework, write(tmp_path, [HEADER, *ROWS]), tmp_path / "out")
    assert "indicator '1a1': no data column" in done.out + done.err


def test_two_columns_for_one_indicator(tmp_path: Path, framework: Path, egov) -> None:
    data = write(tmp_path, ["Year,Country,1a1 Basic skills,1a1,1a2 x", "y1,AT,1,2,3"])
    done = run(egov, framework, data, tmp_path / "out", "--match-first-word")
    assert done.code == 1
    assert "several columns name the same indicator by their first word (1a1: '1a1 Basic skills', '1a1')" in (
        done.err + done.out
    )


def test_long_table_indicator_values(tmp_path: Path, framework: Path, egov) -> None:
    lines = [
        "unit,indicator,value",
        "AT,1a1 Basic skills,0.5",
        "AT,1a2 Above,0.25",
        "BE,1a1,1",
        "BE,1a2 Above,0",
    ]
    done = egov(
        ["evaluate", framework, write(tmp_path, lines), "--match-first-word", "--out", tmp_path / "o"]
    )
    assert done.code == 0, done.err + done.out
    scores = pd.read_csv(tmp_path / "o" / "scores.csv").set_index("unit")
    assert scores.loc["AT", "1a2"] == pytest.approx(25.0) and scores.loc["BE", "1a1"] == pytest.approx(100.0)


def test_last_row_ignores_the_tables_below(tmp_path: Path, framework: Path, egov) -> None:
    data = write(tmp_path, [HEADER, *ROWS, *BELOW])
    # without --last-row the rows below are read as data: 'AT' is not a number
    bad = run(egov, framework, data, tmp_path / "bad", "--match-first-word")
    assert bad.code == 1
    done = run(egov, framework, data, tmp_path / "out", "--match-first-word", "--last-row", 5)
    assert done.code == 0, done.err + done.out
    scores = pd.read_csv(tmp_path / "out" / "scores.csv", dtype={"period": str})
    assert sorted(set(scores["period"])) == ["y1", "y2"]
    assert scores.set_index(["period", "unit"]).loc[("y2", "AT"), "1a2"] == pytest.approx(50.0)


def test_last_row_before_the_first_data_row(tmp_path: Path, framework: Path, egov) -> None:
    done = run(egov, framework, write(tmp_path, [HEADER, *ROWS]), tmp_path / "out", "--last-row", 1)
    assert done.code == 1
    assert "--last-row 1: the first data row is row 2" in done.err + done.out
